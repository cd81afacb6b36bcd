/* wattprint import --format codecarbon emissions.csv: CodeCarbon's history
 * as runs in the ledger. Every row is checked first: a bad row is named by
 * its line, counted and skipped; rows repeating a run id (CodeCarbon appends
 * a row at each flush of a run) are one run, its last row; the inserts are
 * one transaction. */
#define _GNU_SOURCE
#include "cli.h"
#include "ledger_opts.h"

#include "../interop/codecarbon.h"
#include "../run/run.h"
#include "../util/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAID 20 /* bad rows named before the count */

struct parsed {
    json_t **runs;
    size_t n, cap;
    int bad;
    int repeats; /* rows whose run id an earlier row had: the later replaced it */
};

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t cap = 0;

    *len = 0;
    if (!f)
        return NULL;
    if (getdelim(&text, &cap, '\0', f) >= 0)
        *len = strlen(text);
    else if (!ferror(f) && (text = strdup("")))
        *len = 0;
    fclose(f);
    return text;
}

static int keep(struct parsed *p, json_t *run)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        json_t **grown = realloc(p->runs, cap * sizeof *grown);
        if (!grown)
            return -1;
        p->runs = grown;
        p->cap = cap;
    }
    p->runs[p->n++] = run;
    return 0;
}

/* Every row of text as a run; bad rows said with their line. */
static int parse_all(const char *path, const char *text, size_t len, struct parsed *p)
{
    static struct wp_csv hdr, row;
    int line = 2;

    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* the UTF-8 mark Excel writes */
        text += 3;
        len -= 3;
    }
    wp_csv_init(&hdr, text, len);
    if (wp_csv_next(&hdr) != 1 || wp_csv_column(&hdr, "timestamp") < 0 ||
        wp_csv_column(&hdr, "duration") < 0 || wp_csv_column(&hdr, "emissions") < 0) {
        fprintf(stderr,
                "wattprint import: %s: not a CodeCarbon emissions.csv (its header has no "
                "timestamp, duration and emissions columns)\n",
                path);
        return -1;
    }
    wp_csv_init(&row, hdr.p, (size_t)(hdr.end - hdr.p));
    for (;;) {
        const char *at = row.p;
        char err[256];
        int rc = wp_csv_next(&row), next = line;
        json_t *run;
        for (const char *c = at; c < row.p; c++)
            next += *c == '\n';
        if (rc == 0)
            break;
        if (rc > 0 && row.nfields == 1 && !row.field[0][0]) { /* a blank line */
            line = next;
            continue;
        }
        run = rc > 0 ? wp_cc_run_from_row(&hdr, &row, at, (size_t)(row.p - at), err, sizeof err)
                     : NULL;
        if (!run && p->bad++ < MAX_SAID)
            fprintf(stderr, "wattprint import: %s:%d: %s\n", path, line,
                    rc > 0 ? err : "not a CSV record (too many fields, or too long)");
        if (run && keep(p, run) != 0) {
            json_decref(run);
            fprintf(stderr, "wattprint import: out of memory\n");
            return -1;
        }
        line = next;
    }
    return 0;
}

static int insert_all(struct wp_ledger *l, const struct parsed *p, long *added, long *skipped)
{
    char err[1024];

    *added = *skipped = 0;
    if (wp_ledger_begin_batch(l) != 0)
        return -1;
    for (size_t i = 0; i < p->n; i++) {
        json_t *run = p->runs[i];
        char *text = json_dumps(run, JSON_COMPACT);
        struct wp_ledger_row row;
        int rc;
        wp_ledger_row_of_json(run, &row);
        if (!text)
            snprintf(err, sizeof err, "out of memory");
        rc = text ? wp_ledger_insert_row(l, &row, text, err, sizeof err) : -1;
        free(text);
        if (rc < 0) {
            fprintf(stderr, "wattprint import: %s (nothing was imported)\n", err);
            wp_ledger_abort_batch(l);
            return -1;
        }
        if (rc != WP_LEDGER_QUEUED) /* queued rows: counted when the batch ends */
            *(rc == 0 ? added : skipped) += 1;
    }
    if (wp_ledger_end_batch(l) != 0)
        return -1;
    {
        long a, s, r;
        wp_ledger_batch_counts(l, &a, &s, &r);
        *added += a;
        *skipped += s + r; /* CodeCarbon rows have one state: a replacement is a repeat */
    }
    return 0;
}

struct keyed {
    const char *id;
    size_t row;
};

static int by_id_then_row(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Rows of one run (CodeCarbon appends one at each flush): the last of them
 * stands for the run; the others are counted as repeats. */
static int one_row_per_run(struct parsed *p)
{
    struct keyed *k = malloc((p->n ? p->n : 1) * sizeof *k);
    bool *drop = calloc(p->n ? p->n : 1, sizeof *drop);
    size_t w = 0;

    if (!k || !drop) {
        free(k);
        free(drop);
        return -1;
    }
    for (size_t i = 0; i < p->n; i++)
        k[i] = (struct keyed){wp_json_str(p->runs[i], WPF_RUN_ID), i};
    qsort(k, p->n, sizeof *k, by_id_then_row);
    for (size_t i = 0; i + 1 < p->n; i++)
        if (strcmp(k[i].id, k[i + 1].id) == 0) { /* not the last of its run */
            drop[k[i].row] = true;
            p->repeats++;
        }
    for (size_t i = 0; i < p->n; i++)
        if (drop[i])
            json_decref(p->runs[i]);
        else
            p->runs[w++] = p->runs[i];
    p->n = w;
    free(k);
    free(drop);
    return 0;
}

int wp_import_codecarbon(const struct wp_ledger_opts *o, const char *path)
{
    struct parsed p = {0};
    struct wp_ledger *l;
    size_t len;
    char *text = read_file(path, &len);
    long added, skipped;
    int rc = 1;

    if (!text) {
        fprintf(stderr, "wattprint import: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (parse_all(path, text, len, &p) != 0) {
        rc = 1;
    } else if (one_row_per_run(&p) != 0) {
        fprintf(stderr, "wattprint import: out of memory\n");
        rc = 1;
    } else if (p.n > 0 && (l = wp_cli_ledger_open("wattprint import", o, WP_LEDGER_WRITE))) {
        if (insert_all(l, &p, &added, &skipped) == 0) {
            fprintf(stderr, "wattprint import: %ld run%s from CodeCarbon added, %ld already here",
                    added, added == 1 ? "" : "s", skipped);
            if (p.repeats)
                fprintf(stderr,
                        "; %d row%s repeated an earlier run id (a run's later state: the "
                        "last row of each run was kept)",
                        p.repeats, p.repeats == 1 ? "" : "s");
            if (p.bad)
                fprintf(stderr, "; %d bad row%s skipped (named above)", p.bad,
                        p.bad == 1 ? "" : "s");
            fputc('\n', stderr);
            rc = 0;
        }
        wp_ledger_close(l);
    } else if (p.n == 0) {
        if (p.bad)
            fprintf(stderr,
                    "wattprint import: every row of %s is bad (%d, named above): nothing "
                    "was imported\n",
                    path, p.bad);
        else
            fprintf(stderr, "wattprint import: %s holds no rows\n", path);
        rc = p.bad ? 1 : 0;
    }
    for (size_t i = 0; i < p.n; i++)
        json_decref(p.runs[i]);
    free(p.runs);
    free(text);
    return rc;
}
