/* wattprint serve: the node's energy for Prometheus (HTTP, /metrics) and for
 * local users' `wattprint run` (a Unix socket). A sink: it reads readings
 * from a source its caller gives, never the sensors or the meter. */
#ifndef WP_SERVE_H
#define WP_SERVE_H

#include "../account/account.h"
#include "../meter/meter.h"

#include <stdbool.h>
#include <stddef.h>

#define WP_SERVE_DEFAULT_PORT   9731
#define WP_SERVE_DEFAULT_SOCKET "/run/wattprint.sock"

/* Work read from a server beside the node (--work-url), as /metrics shows it:
 * each counter's total since the exporter started, and the energy over it in
 * the last minute and the last 15 minutes where work was done in them. */
#define WP_SERVE_WINDOWS 2
extern const double wp_serve_window_s[WP_SERVE_WINDOWS];
extern const char *const wp_serve_window_name[WP_SERVE_WINDOWS];

struct wp_serve_work {
    long scrapes, failed; /* of the server's page, finished */
    int n;                /* 0: no work read */
    struct {
        char unit[32];
        double total;
        bool has[WP_SERVE_WINDOWS];
        double energy_per_unit_j[WP_SERVE_WINDOWS];
    } c[4];
};

/* The Prometheus text exposition of the meter: energy counters and power
 * gauges per channel, and, with carbon, emissions and grid intensity; with
 * work (NULL: none), the work and energy per unit. Returns a malloc'd string
 * (caller frees) and its length in *len, or NULL. */
char *wp_metrics_text(const struct wp_reading *r, const struct wp_assumptions *a, bool carbon,
                      const struct wp_serve_work *work, size_t *len);

/* The snapshot served on the Unix socket: every measured channel's
 * cumulative energy, as JSON. Returns a malloc'd string, or NULL. */
char *wp_snapshot_json(const struct wp_reading *r);

/* Where the server's readings come from: read fills out with the latest
 * reading, first taking a fresh one when the last is older than max_age_s
 * (never when max_age_s < 0). Returns 0 or a negative errno. */
struct wp_serve_source {
    int (*read)(void *ctx, double max_age_s, struct wp_reading *out);
    void *ctx;
    void (*work)(void *work_ctx, struct wp_serve_work *out); /* NULL: no work */
    void *work_ctx;
};

struct wp_server;

struct wp_server_opts {
    const char *listen_addr; /* IPv4 or IPv6 literal */
    int port;                /* 0: no HTTP */
    const char *socket_path; /* NULL: no socket */
    unsigned socket_mode;
    double socket_resolution_s; /* the freshest reading the socket hands out */
    bool carbon;
};

/* Starts serving what src reads. Returns 0 and *out, or a negative errno with the reason
 * in err. */
int wp_server_start(const struct wp_serve_source *src, const struct wp_assumptions *a,
                    const struct wp_server_opts *o, struct wp_server **out, char *err, size_t cap);

/* Refreshes the cached /metrics text; called after each reading. */
void wp_server_refresh(void *server);

void wp_server_stop(struct wp_server *s);

#endif
