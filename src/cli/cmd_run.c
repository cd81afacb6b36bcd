/* wattprint run [options] -- COMMAND [ARG...]: measure one command.
 * The flow: options, a session, the ledger's first row, the watcher and the
 * detector beside the command, the command, then one reading made into the
 * result, and the sinks (summary, --json, the ledger). */
#include "cli.h"
#include "run_opts.h"
#include "run_summary.h"
#include "run_watch.h"
#include "spawn.h"

#include "../interop/pushgateway.h"
#include "../ledger/recorder.h"
#include "../util/util.h"

#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DETECT_BUDGET_MS 200 /* the metadata services answer in a few ms */

/* Warnings from below, in the CLI's words. */
static void say(void *ctx, enum wp_hint hint, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "wattprint: %s\n", msg);
    if (hint == WP_HINT_SERVE_SOCKET)
        fprintf(stderr,
                "  To measure CPU and DRAM energy instead of estimating it: run wattprint as "
                "root,\n  or make the counters readable by your group (a udev rule, or for this "
                "boot:\n  chmod 0444 /sys/class/powercap/intel-rapl:*/energy_uj), or have root "
                "run\n  `wattprint serve --socket /run/wattprint.sock` for every local user.\n");
    else if (hint == WP_HINT_LEDGER_PATH)
        fprintf(stderr, "  set --ledger, WATTPRINT_LEDGER or HOME\n");
}

static const struct wp_diag cli_diag = {say, NULL};

static int read_session(void *session, bool with_samples, struct wp_reading *out)
{
    return wp_session_read(session, with_samples, out);
}

struct started {
    struct wp_session *session;
    struct wp_watcher *watcher;
    struct wp_recorder *recorder;
    struct wp_detector *detector; /* NULL: --no-detect */
};

static void attach(void *ctx, pid_t pid)
{
    struct started *st = ctx;

    wp_session_attach(st->session, pid);
    wp_progress_command(st->watcher->progress, (long)pid);
    wp_recorder_go(st->recorder); /* the ledger opens once nothing waits on it */
    if (st->detector)             /* the metadata service is asked once the command runs */
        wp_detector_start(st->detector, DETECT_BUDGET_MS);
}

/* The last reading while the ended command's CPU time can still be read. */
static void command_ended(void *ctx)
{
    wp_session_sample(((struct started *)ctx)->session);
}

/* The run's identity before it starts. */
static void identify(struct wp_run *run, const struct run_opts *o, int argc, char **argv)
{
    wp_uuid7(run->run_id);
    run->argc = argc;
    run->argv = argv;
    wp_run_place(run);
    run->checkpoint_every_s = o->checkpoint_s;
    /* the default: a short run is checkpointed soon, an idle long one seldom
     * (at most every minute); what --checkpoint asks for is kept */
    run->checkpoint_max_s = o->checkpoint_set ? 0 : WP_RUN_MAX_CHECKPOINT_S;
    run->labels = o->labels;
    run->n_settings = o->n_settings;
    run->settings = o->settings;
    run->status = WP_RUN_RUNNING;
    snprintf(run->work.unit, sizeof run->work.unit, "%s", o->unit ? o->unit : "steps");
    run->work.unit_from_cli = o->unit != NULL;
    run->work.total = o->total;
    run->work.total_from_cli = o->total > 0;
}

/* Text that is not UTF-8 is kept in the result as \xNN: said once. */
static void say_non_utf8(const struct wp_run *run)
{
    const char *texts[3 + WP_MAX_TAGS] = {run->labels.project, run->labels.experiment,
                                          run->labels.job};
    size_t bad = 0;
    char buf[1024];

    for (int i = 0; i < run->labels.n_tags; i++)
        texts[3 + i] = run->labels.tags[i].value;
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (texts[i])
            bad += wp_utf8_clean(texts[i], buf, sizeof buf);
    for (int i = 0; i < run->argc; i++)
        bad += wp_utf8_clean(run->argv[i], buf, sizeof buf);
    bad += wp_utf8_clean(run->cwd, buf, sizeof buf);
    if (bad)
        wp_warn("%zu byte%s of the command, its directory or its labels %s not UTF-8: kept in "
                "the result as \\xNN",
                bad, bad == 1 ? "" : "s", bad == 1 ? "is" : "are");
}

/* How the command ended, as the run's status. */
static void ended(struct wp_run *run, const struct wp_child_end *end)
{
    run->exit_status = end->exit_status;
    run->exit_code = end->exit_code;
    run->signal = end->signal;
    if (end->signal || end->forwarded)
        run->status = WP_RUN_INTERRUPTED;
    else if (end->exec_errno || end->exit_code != 0)
        run->status = WP_RUN_FAILED;
    else
        run->status = WP_RUN_COMPLETED;
}

/* The last reading, with its samples, made into the result. */
static void finish_reading(struct wp_run *run, struct wp_session *s)
{
    struct wp_reading r;

    if (wp_session_read(s, true, &r) == 0)
        wp_run_set_reading(run, &r);
    else
        wp_warn("out of memory reading the result");
}

/* The scraper of --work-url, on the sampling clock: every 5 s, or every
 * --interval (at most once a second). */
static void start_scraper(struct run_opts *o, struct wp_session *s, struct wp_watcher *w)
{
    struct wp_scrape_energy energy = {wp_session_total_j, s};
    char err[512];

    if (!o->scrape.url)
        return;
    o->scrape.diag = cli_diag;
    if (wp_scraper_start(&o->scrape, &energy, &w->scraper, err, sizeof err) != 0) {
        wp_warn("cannot read the work from %s: %s", o->scrape.url, err);
        return;
    }
    /* at the checkpoint rate unless an --interval asks for more: a page of
     * thousands of series parsed each second was most of an idle run's cost */
    double every = o->interval_set ? fmax(o->session.interval_s, 1) : WP_RUN_DEFAULT_CHECKPOINT_S;
    if (wp_session_on_tick(s, every, wp_scraper_tick, w->scraper) != 0)
        wp_warn("the work endpoint is read only at the start and the end (no tick left)");
}

/* Starts everything that runs beside the command but the ledger's writes
 * and the cloud's detection, which wait for its start (attach). */
static int begin(struct wp_run *run, struct run_opts *o, struct wp_session *s,
                 struct wp_recorder *rec, struct wp_watcher *w)
{
    int rc;

    if (wp_progress_open(&w->progress, &cli_diag) == 0)
        setenv("WATTPRINT_PROGRESS", wp_progress_path(w->progress), 1);
    else
        wp_warn("cannot create the progress file; WATTPRINT_PROGRESS is not set");
    wp_spawn_install_handlers();
    /* A closed stderr must not kill wattprint and so replace the command's exit status. */
    signal(SIGPIPE, SIG_IGN);
    run->start_wall_s = wp_wall_s();
    wp_run_account(run);
    pthread_mutex_init(&w->mu, NULL);
    *rec = (struct wp_recorder){
        .guard = &w->mu, .read = read_session, .read_ctx = s, .diag = cli_diag, .after_go = true};
    wp_recorder_open(rec, run, o->ledger_path, o->no_ledger);
    if (rec->started)
        wp_session_on_tick(s, o->checkpoint_s, wp_recorder_checkpoint, rec);
    start_scraper(o, s, w);
    if ((rc = wp_session_start(s)) != 0)
        return rc;
    if (w->scraper)
        wp_scraper_tick(w->scraper); /* the baseline */
    w->run = run;
    w->session = s;
    wp_watcher_start(w, o->progress,
                     o->progress == WP_LIVE_NEVER                  ? 0
                     : o->progress == WP_LIVE_ALWAYS || !isatty(2) ? o->progress_every_s
                                                                   : 0);
    return 0;
}

/* After the command: stop, read, account, and write every sink. */
static void conclude(struct wp_run *run, struct run_opts *o, struct wp_session *s,
                     struct wp_recorder *rec, struct wp_watcher *w, struct wp_detector *d)
{
    wp_session_stop(s);
    wp_scraper_stop(w->scraper, true); /* the work as of the last reading */
    wp_watcher_finish(w, wp_session_elapsed_s(s));
    wp_scraper_free(w->scraper);
    w->scraper = NULL;
    wp_recorder_stop(rec); /* from here the run is this thread's alone */
    pthread_mutex_destroy(&w->mu);
    run->end_wall_s = wp_wall_s();
    wp_detector_finish(d);
    run->cloud = d->info;
    finish_reading(run, s);
    wp_carbon_detected(&run->assume, &o->carbon, &d->info);
    /* Fetched after the run, so a slow API never delays the command. */
    wp_carbon_live(&run->assume, &o->carbon, &cli_diag);
    wp_run_account(run);
}

/* --push-gateway: the run's totals, once; a failure is said and changes
 * nothing else (the run is in the ledger and the result). */
static void push(const struct wp_run *run, const struct run_opts *o)
{
    char err[512];

    if (wp_push_run(o->push_gateway, run, err, sizeof err) != 0)
        wp_warn("cannot push the run to the gateway %s: %s", o->push_gateway, err);
    else if (!o->quiet)
        fprintf(stderr, "  pushed to %s\n", o->push_gateway);
}

int wp_cmd_run(int argc, char **argv)
{
    struct run_opts o = {0};
    struct wp_run run = {0};
    struct wp_recorder rec = {0};
    struct wp_watcher watcher = {0};
    struct wp_detector detector = {0};
    struct wp_session *s;
    struct wp_session_error e;
    struct wp_child_end end;
    char err[256];
    int cmd, rc;

    cmd = wp_run_parse(argc, argv, &o);
    if (cmd < 0 || wp_cli_carbon_resolve("wattprint run", &o.carbon, &run.assume))
        return WP_EXIT_USAGE;
    o.session.diag = cli_diag;
    wp_cli_restore_power_limits("wattprint");
    if (wp_session_open(&o.session, &s, &e) != 0) {
        wp_run_say_session_error(&e);
        return WP_EXIT_USAGE;
    }
    if ((o.dry_run || o.expected_s > 0) && !(o.defer_within_s > 0)) {
        fprintf(stderr, "wattprint run: %s needs --defer-within\n",
                o.dry_run ? "--dry-run" : "--expected-duration");
        wp_session_free(s);
        return WP_EXIT_USAGE;
    }
    /* Before any measurement: the wait is not the command's energy. */
    if (o.defer_within_s > 0 && (rc = wp_run_defer(&o, &run, argv + cmd)) != 0) {
        wp_session_free(s);
        return rc == 1 ? 0 : rc < 0 ? WP_EXIT_USAGE : rc;
    }
    identify(&run, &o, argc - cmd, argv + cmd);
    say_non_utf8(&run);
    if ((rc = begin(&run, &o, s, &rec, &watcher)) != 0) {
        fprintf(stderr, "wattprint run: cannot start the sampler: %s\n", strerror(-rc));
        wp_recorder_finish(&rec);
        wp_scraper_free(watcher.scraper);
        pthread_mutex_destroy(&watcher.mu);
        wp_session_free(s);
        return WP_EXIT_USAGE;
    }
    rc = wp_spawn_run(argv + cmd,
                      &(struct wp_spawn_hooks){
                          attach, command_ended,
                          &(struct started){s, &watcher, &rec, o.no_detect ? NULL : &detector}},
                      &end);
    conclude(&run, &o, s, &rec, &watcher, &detector);
    if (rc) {
        fprintf(stderr, "wattprint run: cannot start %s: %s\n", argv[cmd], strerror(-rc));
        run.status = WP_RUN_FAILED;
        wp_recorder_finish(&rec);
        wp_run_release(&run);
        wp_session_free(s);
        return WP_EXIT_USAGE;
    }
    if (end.exec_errno)
        wp_warn("cannot run '%s': %s", argv[cmd], strerror(end.exec_errno));
    ended(&run, &end);
    if (!o.quiet)
        wp_summary_print(&run, stderr);
    /* the ledger first: a FIFO nobody reads must not hold the result back */
    wp_recorder_finish(&rec);
    if (!o.quiet && rec.recorded_in[0]) {
        char where[4096 * 4];
        wp_term_safe(rec.recorded_in, where, sizeof where);
        fprintf(stderr, "  recorded in %s (wattprint show %.18s)\n", where, run.run_id);
    }
    if (o.json_path && wp_run_write_json(&run, o.json_path, err, sizeof err) != 0)
        wp_warn("cannot write the result to %s: %s", o.json_path, err);
    if (o.push_gateway) /* after the result: a slow gateway delays nothing else */
        push(&run, &o);
    wp_run_release(&run);
    wp_session_free(s);
    return end.exit_status;
}
