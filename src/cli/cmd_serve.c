/* wattprint serve: this node's energy for Prometheus, and for local users. */
#define _GNU_SOURCE
#include "carbon_opts.h"
#include "cli.h"
#include "config_opts.h"
#include "serve_ledger.h"
#include "work_opts.h"

#include "../ledger/ledger.h"
#include "../serve/serve.h"
#include "../session/session.h"
#include "../util/util.h"

#include <getopt.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: wattprint serve [--listen ADDR:PORT|none] [--socket PATH] [options]\n"
    "\n"
    "Serves this node's energy counters until SIGINT or SIGTERM:\n"
    "  GET /metrics   Prometheus text: wattprint_energy_joules_total and\n"
    "                 wattprint_power_watts per channel; with a region or intensity,\n"
    "                 wattprint_emissions_grams_total and the grid intensity\n"
    "  GET /healthz   ok\n"
    "\n"
    "Options:\n"
    "  --listen ADDR:PORT   HTTP address (default 127.0.0.1:9731; [::1]:9731 for IPv6;\n"
    "                       0.0.0.0:9731 to be scraped from other hosts; none: no HTTP)\n"
    "  --socket PATH        also serve the counters on a Unix socket, so that any local\n"
    "                       user's `wattprint run` measures without root\n"
    "                       (WATTPRINT_SOCKET on the client; default " WP_SERVE_DEFAULT_SOCKET ")\n"
    "  --socket-mode MODE   the socket's permissions, octal (default 0666)\n"
    "  --socket-resolution S  at most one fresh reading per S seconds for socket\n"
    "                       clients (default 0.1; RAPL read fast is a side channel)\n"
    "  --interval S         seconds between readings (default 1)\n"
    "  --ledger PATH|URI    record the node's energy (and work) in a ledger, one run\n"
    "                       per period of serving\n"
    "  --ledger-every D     that period (default 1h; 1s to 1d; aligned to the clock)\n"
    "  --project NAME       file those records under a project\n"
    "\n"
    "Work beside the energy (an inference server's tokens): with these, /metrics adds\n"
    "wattprint_work_total{unit} and wattprint_energy_per_unit_joules{unit,window}\n"
    "(1m, 15m), and with a region wattprint_emissions_per_unit_grams{unit,window}.\n" WP_WORK_HELP
        WP_CARBON_HELP;

static int parse_listen(const char *v, char *addr, size_t cap, int *port)
{
    const char *colon = strrchr(v, ':');
    char *end;
    long p;

    if (strcmp(v, "none") == 0) {
        *port = 0;
        return 0;
    }
    if (!colon || colon == v)
        return -1;
    p = strtol(colon + 1, &end, 10);
    if (*end || p < 1 || p > 65535)
        return -1;
    if (v[0] == '[') { /* [::1]:9731 */
        if (colon[-1] != ']' || (size_t)(colon - v - 2) >= cap)
            return -1;
        snprintf(addr, cap, "%.*s", (int)(colon - v - 2), v + 1);
    } else {
        if ((size_t)(colon - v) >= cap)
            return -1;
        snprintf(addr, cap, "%.*s", (int)(colon - v), v);
    }
    *port = (int)p;
    return 0;
}

enum { O_LISTEN = 256, O_SOCKET, O_MODE, O_RES, O_INTERVAL, O_LEDGER, O_EVERY, O_PROJECT };

static const struct option longopts[] = {
    {"listen", required_argument, NULL, O_LISTEN},
    {"socket", required_argument, NULL, O_SOCKET},
    {"socket-mode", required_argument, NULL, O_MODE},
    {"socket-resolution", required_argument, NULL, O_RES},
    {"interval", required_argument, NULL, O_INTERVAL},
    {"ledger", required_argument, NULL, O_LEDGER},
    {"ledger-every", required_argument, NULL, O_EVERY},
    {"project", required_argument, NULL, O_PROJECT},
    {"help", no_argument, NULL, 'h'},
    WP_CARBON_LONGOPTS,
    WP_WORK_LONGOPTS,
    {NULL, 0, NULL, 0},
};

struct serve_opts {
    struct wp_server_opts so;
    struct wp_carbon_opts carbon;
    char addr[64];
    double interval;
    bool interval_set;
    struct wp_work_opts work;
    struct wp_scrape_opts scrape; /* url NULL: none */
    const char *ledger, *project;
    double ledger_every_s;
};

/* --ledger, --ledger-every, --project. Returns 0, 1 if c is none of them, or 2 (said why). */
static int ledger_opt(struct serve_opts *o, int c, const char *arg)
{
    switch (c) {
    case O_LEDGER:
        if (!*arg) {
            fprintf(stderr, "wattprint serve: --ledger: give a file path or a PostgreSQL URI\n");
            return 2;
        }
        o->ledger = arg;
        return 0;
    case O_EVERY:
        if (wp_parse_span(arg, &o->ledger_every_s) || o->ledger_every_s < 1 ||
            o->ledger_every_s > 86400) {
            fprintf(stderr,
                    "wattprint serve: --ledger-every: '%s' is not a period from 1s to 1d (15m, "
                    "1h)\n",
                    arg);
            return 2;
        }
        return 0;
    case O_PROJECT:
        if (!*arg || strlen(arg) > 200) {
            fprintf(stderr, "wattprint serve: --project: a name of 1 to 200 characters\n");
            return 2;
        }
        o->project = arg;
        return 0;
    }
    return 1;
}

/* One option of serve's own. Returns 0, 1 after --help, or 2 (said why). */
static int serve_opt(struct serve_opts *o, int c, const char *arg, char **argv)
{
    char *end;
    int rc = ledger_opt(o, c, arg);

    if (rc != 1)
        return rc;
    switch (c) {
    case O_LISTEN:
        if (parse_listen(arg, o->addr, sizeof o->addr, &o->so.port)) {
            fprintf(stderr,
                    "wattprint serve: --listen: '%s' is not ADDR:PORT "
                    "(127.0.0.1:9731, [::1]:9731) or none\n",
                    arg);
            return 2;
        }
        return 0;
    case O_SOCKET:
        o->so.socket_path = arg;
        return 0;
    case O_MODE:
        o->so.socket_mode = (unsigned)strtoul(arg, &end, 8);
        if (*end || end == arg || o->so.socket_mode > 0777) {
            fprintf(stderr, "wattprint serve: --socket-mode: '%s' is not an octal mode\n", arg);
            return 2;
        }
        return 0;
    case O_RES:
        if (wp_parse_double(arg, &o->so.socket_resolution_s) || o->so.socket_resolution_s < 0.01 ||
            o->so.socket_resolution_s > 60) {
            fprintf(stderr,
                    "wattprint serve: --socket-resolution: '%s' is not from 0.01 to 60 seconds\n",
                    arg);
            return 2;
        }
        return 0;
    case O_INTERVAL:
        o->interval_set = true;
        if (wp_parse_double(arg, &o->interval) || wp_limit_check(WP_FIELD_INTERVAL, o->interval)) {
            fprintf(stderr, "wattprint serve: --interval: '%s' is not %s\n", arg,
                    wp_limit_of(WP_FIELD_INTERVAL)->what);
            return 2;
        }
        return 0;
    case 'h':
        fputs(usage, stdout);
        return 1;
    case ':':
        fprintf(stderr, "wattprint serve: %s needs a value\n", argv[optind - 1]);
        return 2;
    }
    fprintf(stderr, "wattprint serve: unknown option '%s' (see --help)\n", argv[optind - 1]);
    return 2;
}

/* Parses argv. Returns 0, 1 after --help (exit 0), or 2 (said why). */
static int parse(int argc, char **argv, struct serve_opts *o)
{
    int c, rc;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int k = wp_cli_carbon_opt("wattprint serve", c, optarg, &o->carbon);
        if (k == 0)
            k = wp_cli_work_opt("wattprint serve", c, optarg, &o->work);
        if (k < 0)
            return 2;
        if (k == 0 && (rc = serve_opt(o, c, optarg, argv)) != 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "wattprint serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->so.port == 0 && !o->so.socket_path && !o->ledger) {
        fprintf(stderr, "wattprint serve: nothing to serve: --listen none, no --socket and no "
                        "--ledger\n");
        return 2;
    }
    if ((o->ledger_every_s > 0 || o->project) && !o->ledger) {
        fprintf(stderr, "wattprint serve: --ledger-every and --project are for --ledger\n");
        return 2;
    }
    if (wp_cli_work_resolve("wattprint serve", &o->work, NULL, &o->scrape))
        return 2;
    return 0;
}

static void say(void *ctx, enum wp_hint hint, const char *msg)
{
    (void)ctx;
    (void)hint;
    fprintf(stderr, "wattprint serve: %s\n", msg);
}

/* The session the daemon serves: every backend but its own socket, all GPUs. */
static int open_session(struct serve_opts *o, struct wp_session **s)
{
    const char *v;
    struct wp_session_error e;
    struct wp_session_opts so = {.interval_s = o->interval,
                                 .gpus = "all",
                                 .gpus_if_any = true,
                                 .no_socket = true,
                                 .diag = {say, NULL}};

    if (!o->interval_set && (v = wp_cli_setting("interval", NULL, NULL, NULL)))
        wp_parse_double(v, &so.interval_s); /* checked when the file was read */
    so.sensors = wp_cli_setting("sensors", NULL, NULL, NULL);
    wp_cli_restore_power_limits("wattprint serve");
    if (wp_session_open(&so, s, &e) == 0)
        return 0;
    fprintf(stderr, "wattprint serve: cannot open the sensors: %s\n", e.msg);
    return -1;
}

/* A daemon holds a connection per scraper and client: the soft limit on
 * descriptors (often 1,024) up to the hard one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* What serve runs beside the server: the scraper and the ledger's records. */
struct serve_extras {
    struct wp_scraper *scraper;
    struct wp_serve_ledger *ledger;
    struct wp_serve_ledger_opts lo;
    char **command; /* "wattprint serve ...", the records' command */
};

/* /metrics' work: the scraper's totals and windows. */
static void serve_work(void *arg, struct wp_serve_work *out)
{
    struct wp_scraper *sc = arg;
    struct wp_work w = {0};

    wp_scraper_work(sc, &w, 0);
    out->scrapes = w.scrapes;
    out->failed = w.failed;
    out->n = w.n_counters;
    for (int k = 0; k < w.n_counters; k++) {
        snprintf(out->c[k].unit, sizeof out->c[k].unit, "%s", w.counters[k].unit);
        out->c[k].total = w.counters[k].done;
        for (int i = 0; i < WP_SERVE_WINDOWS; i++)
            out->c[k].has[i] =
                wp_scraper_window(sc, k, wp_serve_window_s[i], &out->c[k].energy_per_unit_j[i]);
    }
}

/* A ledger file is opened once before serving, so that one that cannot be
 * (not a ledger, not writable) is refused now, not said every hour. A
 * server out of reach is the spool's to handle. Returns 0 or -1 (said). */
static int check_ledger(const char *path)
{
    struct wp_ledger *l;
    char err[1024];

    if (wp_ledger_is_uri(path))
        return 0;
    if (wp_ledger_open(path, WP_LEDGER_WRITE, &l, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint serve: --ledger: %s\n", err);
        return -1;
    }
    wp_ledger_close(l);
    return 0;
}

/* The scraper and the ledger, set up before the session starts. Returns 0 or -1 (said). */
static int open_extras(struct serve_opts *o, struct wp_session *s,
                       const struct wp_assumptions *assume, int argc, char **argv,
                       struct serve_extras *x)
{
    struct wp_scrape_energy energy = {wp_session_total_j, s};
    char err[512];

    if (o->scrape.url) {
        o->scrape.diag = (struct wp_diag){say, NULL};
        if (wp_scraper_start(&o->scrape, &energy, &x->scraper, err, sizeof err) != 0) {
            fprintf(stderr, "wattprint serve: --work-url: %s\n", err);
            return -1;
        }
        wp_session_on_tick(s, o->interval > 1 ? o->interval : 1, wp_scraper_tick, x->scraper);
    }
    if (!o->ledger)
        return 0;
    if (check_ledger(o->ledger) != 0)
        return -1;
    if (!(x->command = calloc((size_t)argc + 2, sizeof *x->command)))
        return -1;
    x->command[0] = "wattprint";
    memcpy(x->command + 1, argv, (size_t)argc * sizeof *argv);
    x->lo = (struct wp_serve_ledger_opts){
        .path = o->ledger,
        .every_s = o->ledger_every_s > 0 ? o->ledger_every_s : 3600,
        .session = s,
        .scraper = x->scraper,
        .assume = assume,
        .labels = {.project =
                       o->project ? o->project : wp_cli_setting("project", NULL, NULL, NULL)},
        .argc = argc + 1,
        .argv = x->command,
        .diag = {say, NULL}};
    if (wp_serve_ledger_open(&x->lo, &x->ledger) != 0) {
        fprintf(stderr, "wattprint serve: --ledger: cannot start recording\n");
        return -1;
    }
    return 0;
}

/* The last period (with the last work) recorded, the scraper stopped; its
 * counts stay readable for the server until the session has stopped. */
static void stop_extras(struct serve_extras *x)
{
    wp_serve_ledger_stop(x->ledger);
    x->ledger = NULL;
    wp_scraper_stop(x->scraper, false);
}

static void close_extras(struct serve_extras *x)
{
    stop_extras(x);
    wp_scraper_free(x->scraper);
    free(x->command);
}

static void say_serving(const struct serve_opts *o, struct wp_session *s)
{
    struct wp_reading r;

    if (o->so.port && wp_session_read(s, false, &r) == 0) {
        wp_warn("serving http://%s%s%s:%d/metrics (%d channels)", strchr(o->addr, ':') ? "[" : "",
                o->addr, strchr(o->addr, ':') ? "]" : "", o->so.port, r.n_channels);
        wp_reading_free(&r);
    }
    if (o->so.socket_path)
        wp_warn("serving counters on %s (mode %04o)", o->so.socket_path, o->so.socket_mode);
    if (o->scrape.url)
        wp_warn("reading work from %s", o->scrape.url);
}

int wp_cmd_serve(int argc, char **argv)
{
    struct serve_opts o = {
        .so = {.port = WP_SERVE_DEFAULT_PORT, .socket_mode = 0666, .socket_resolution_s = 0.1},
        .addr = "127.0.0.1",
        .interval = 1.0};
    struct wp_serve_source src = {wp_session_read_fresh, NULL, NULL, NULL};
    struct serve_extras x = {0};
    struct wp_assumptions assume;
    struct wp_server *server = NULL;
    struct wp_session *s;
    char err[512];
    sigset_t sigs;
    int rc, sig;

    if ((rc = parse(argc, argv, &o)) != 0)
        return rc == 1 ? 0 : rc;
    if (wp_cli_carbon_resolve("wattprint serve", &o.carbon, &assume))
        return 2;
    o.so.carbon = o.carbon.region || o.carbon.intensity_set || getenv("WATTPRINT_REGION");
    o.so.listen_addr = o.addr;
    raise_fd_limit();
    if (open_session(&o, &s))
        return 1;
    src.ctx = s;
    /* signals are waited for here, not delivered to the server's threads */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if (open_extras(&o, s, &assume, argc, argv, &x) != 0) {
        close_extras(&x);
        wp_session_free(s);
        return 1;
    }
    if (x.scraper) {
        src.work = serve_work;
        src.work_ctx = x.scraper;
    }
    if ((o.so.port || o.so.socket_path) &&
        wp_server_start(&src, &assume, &o.so, &server, err, sizeof err)) {
        fprintf(stderr, "wattprint serve: %s\n", err);
        wp_session_free(s);
        close_extras(&x);
        return 1;
    }
    if (server) {
        wp_session_on_tick(s, 0, wp_server_refresh, server);
        if (x.scraper) /* the page shows the work as soon as it is read */
            wp_scraper_on_update(x.scraper, wp_server_refresh, server);
    }
    wp_session_start(s);
    if (x.scraper)
        wp_scraper_tick(x.scraper); /* the baseline */
    if (x.ledger)
        wp_serve_ledger_begin(x.ledger);
    if (server)
        wp_server_refresh(server);
    say_serving(&o, s);
    sigwait(&sigs, &sig);
    stop_extras(&x);
    if (server)
        wp_server_stop(server);
    wp_session_free(s);
    close_extras(&x);
    return 0;
}
