/* The PostgreSQL backend's insides, shared by pg.c (libpq, the connection,
 * the schema, writes) and pg_query.c (reads). */
#ifndef WP_PG_INT_H
#define WP_PG_INT_H

#include "ledger_int.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

/* libpq's C ABI, the few calls used (libpq-fe.h). */
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
enum { PG_CONNECTION_OK = 0, PGRES_COMMAND_OK = 1, PGRES_TUPLES_OK = 2 };

/* libpq's functions, loaded on the first PostgreSQL ledger (pg.c). */
struct wp_pq {
    PGconn *(*connectdb)(const char *conninfo);
    int (*status)(const PGconn *c);
    char *(*error_message)(const PGconn *c);
    void (*finish)(PGconn *c);
    PGresult *(*exec)(PGconn *c, const char *command);
    PGresult *(*exec_params)(PGconn *c, const char *command, int n, const unsigned *types,
                             const char *const *values, const int *lengths, const int *formats,
                             int result_format);
    int (*result_status)(const PGresult *r);
    char *(*result_error)(const PGresult *r);
    int (*ntuples)(const PGresult *r);
    char *(*getvalue)(const PGresult *r, int row, int col);
    int (*getisnull)(const PGresult *r, int row, int col);
    char *(*cmd_tuples)(PGresult *r);
    void (*clear)(PGresult *r);
    void *(*set_notice_processor)(PGconn *c, void (*fn)(void *arg, const char *message), void *arg);
};
extern struct wp_pq wp_pq;

/* Rows an import holds for one multi-row statement (19 parameters each: 9,500
 * of PostgreSQL's 65,535 at most). */
#define PG_BATCH_ROWS 500
#define PG_COLUMNS    22

struct wp_pg {
    PGconn *c;
    pthread_mutex_t mu; /* the recorder checkpoints from its own thread */
    /* between begin_batch and end_batch: insert-only rows waiting to be sent */
    bool batching;
    int queued;
    char *rows[PG_BATCH_ROWS][PG_COLUMNS]; /* copies; NULL is SQL NULL */
    long added, skipped, replaced;         /* of the rows sent in this batch */
    bool reap_due; /* a recorder's: reaping waits for its first checkpoint */
};

/* A number as a statement's text parameter (every digit of a double). */
struct num {
    char b[40];
};

static inline const char *wp_pg_num(struct num *n, double v)
{
    snprintf(n->b, sizeof n->b, "%.17g", v);
    return n->b;
}

/* One statement with text parameters. Returns the result (PQclear it) or
 * NULL with the server's message in err. */
PGresult *wp_pg_run(struct wp_ledger *l, const char *sql, int n, const char *const *v, char *err,
                    size_t cap);

/* A statement whose result is not needed: 0, or -EIO with err. */
int wp_pg_exec(struct wp_ledger *l, const char *sql, char *err, size_t cap);

/* Ends a batch without keeping it (the queued rows dropped, ROLLBACK). */
void wp_pg_abort_batch(struct wp_ledger *l);

json_t *wp_pg_list(struct wp_ledger *l, const struct wp_query *q, bool with_samples, char *err,
                   size_t cap);
int wp_pg_each(struct wp_ledger *l, const struct wp_query *q, unsigned flags, wp_ledger_each_fn fn,
               void *arg, char *err, size_t cap);
json_t *wp_pg_get(struct wp_ledger *l, const char *id, bool with_samples, char *err, size_t cap);
json_t *wp_pg_summary(struct wp_ledger *l, const char *by, const struct wp_query *q, char *err,
                      size_t cap);
int wp_pg_remove(struct wp_ledger *l, char *const *ids, int n, char *err, size_t cap);

#endif
