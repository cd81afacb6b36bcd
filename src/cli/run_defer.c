/* wattprint run --defer-within: start when the grid is cleanest. The
 * region's forecast gives the start in the window with the lowest mean
 * intensity over the run's expected duration; wattprint waits for it (before
 * any measurement: the wait is not the command's energy), and a signal
 * cancels the wait. */
#define _GNU_SOURCE
#include "cli.h"
#include "config_opts.h"
#include "run_opts.h"

#include "../account/forecast.h"
#include "../ledger/ledger.h"
#include "../util/outfile.h"
#include "../util/util.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median duration and energy of this command's earlier runs in the
 * ledger; 0 runs: nothing found. */
static int earlier_runs(const struct run_opts *o, char *const *cmd, double *dur, double *energy)
{
    static double d[1000], e[1000];
    struct wp_query q = {.limit = 1000};
    char path[4096], err[1024];
    struct wp_ledger *l;
    json_t *runs, *run;
    size_t i;
    int n = 0;

    if (o->no_ledger || !wp_ledger_path(wp_cli_ledger(o->ledger_path), path, sizeof path) ||
        wp_ledger_open(path, WP_LEDGER_READ, &l, err, sizeof err) != 0)
        return 0;
    runs = wp_ledger_list(l, &q, false, err, sizeof err);
    wp_ledger_close(l);
    json_array_foreach(runs, i, run)
    {
        json_t *c = wp_json_get(run, WPF_COMMAND);
        size_t k = 0;
        while (cmd[k] && k < json_array_size(c) && json_is_string(json_array_get(c, k)) &&
               strcmp(cmd[k], json_string_value(json_array_get(c, k))) == 0)
            k++;
        if (cmd[k] || k != json_array_size(c) || strcmp(wp_json_str(run, WPF_STATUS), "completed"))
            continue;
        d[n] = wp_json_num(run, WPF_DURATION_S);
        e[n] = wp_json_num(run, WPF_FACILITY_ENERGY_J);
        n++;
    }
    json_decref(runs);
    if (n > 0) {
        qsort(d, (size_t)n, sizeof *d, cmp);
        qsort(e, (size_t)n, sizeof *e, cmp);
        *dur = d[n / 2];
        *energy = e[n / 2];
    }
    return n;
}

/* Waits until epoch time t for one of set's signals (blocked by the caller
 * before it said it waits, so none is lost in between). Returns 0, or the
 * signal. */
static int wait_until(double t, const sigset_t *set)
{
    for (double left; (left = t - wp_wall_s()) > 0;) {
        struct timespec ts = {(time_t)left, (long)((left - floor(left)) * 1e9)};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig > 0)
            return sig;
    }
    return 0;
}

/* A start later than now only for a saving worth the wait: at least
 * --min-saving percent and, where earlier runs tell the energy, at least
 * --min-saving-g grams. Says why not. */
static void worth_it(const struct run_opts *o, struct wp_defer *d, double now, double saving_g)
{
    double pct = d->now_g > 0 ? 100 * (1 - d->g / d->now_g) : 0;
    char g[32], floor_g[32];

    if (d->start <= now)
        return;
    if (pct >= o->min_saving_pct && !(saving_g > 0 && saving_g < o->min_saving_g))
        return;
    wp_fmt_mass(saving_g, g, sizeof g);
    wp_fmt_mass(o->min_saving_g, floor_g, sizeof floor_g);
    if (pct < o->min_saving_pct)
        fprintf(stderr,
                "wattprint: the cleanest start in the window saves %.1f %% of the CO2e, under "
                "the %.3g %% asked for (--min-saving): starting now\n",
                pct, o->min_saving_pct);
    else
        fprintf(stderr,
                "wattprint: the cleanest start in the window saves about %s, under the %s "
                "asked for (--min-saving-g): starting now\n",
                g, floor_g);
    d->start = now;
    d->g = d->now_g;
}

static void say_choice(const struct wp_defer *d, const char *source, double now, double dur,
                       bool assumed_dur, double saving_g, bool dry)
{
    char when[32], in[32], len[32], g[32] = "";
    time_t t = (time_t)d->start;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%H:%M UTC", &tm);
    wp_fmt_duration(d->start - now, in, sizeof in);
    wp_fmt_duration(dur, len, sizeof len);
    if (saving_g > 0)
        wp_fmt_mass(saving_g, g, sizeof g);
    if (d->start <= now)
        fprintf(stderr,
                "wattprint: %s now: the forecast (%s) has no cleaner start in the window worth "
                "waiting for (%.0f g/kWh over the %s%s run)\n",
                dry ? "would start" : "starting", source, d->now_g, assumed_dur ? "assumed " : "",
                len);
    else
        fprintf(stderr,
                "wattprint: %s at %s (in %s), when the forecast (%s) averages %.0f g/kWh "
                "over the %s%s run against %.0f g/kWh now: %.0f %% less CO2e%s%s%s\n",
                dry ? "would start" : "starting", when, in, source, d->g,
                assumed_dur ? "assumed " : "", len, d->now_g, 100 * (1 - d->g / d->now_g),
                g[0] ? ", about " : "", g, dry ? " (--dry-run: nothing runs)" : "; Ctrl-C cancels");
}

static int write_dry_run(const struct run_opts *o, const struct wp_defer *d, double saving_g)
{
    char start[32], err[1024];
    json_t *j;
    char *text;
    int rc = 0;

    wp_iso8601(d->start, start, sizeof start);
    j = json_pack("{s:{s:s, s:f, s:f, s:o}}", "defer", "start", start, "intensity_g_per_kwh", d->g,
                  "now_g_per_kwh", d->now_g, "expected_saving_g",
                  saving_g > 0 ? json_real(saving_g) : json_null());
    text = j ? json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(j);
    if (!text)
        return -1;
    if (o->json_path && wp_out_write(o->json_path, text, strlen(text), err, sizeof err) != 0) {
        fprintf(stderr, "wattprint run: cannot write %s\n", err);
        rc = -1;
    } else if (!o->json_path) {
        printf("%s\n", text);
    }
    free(text);
    return rc;
}

int wp_run_defer(const struct run_opts *o, const struct wp_run *run, char *const *cmd)
{
    double now = wp_wall_s(), dur = o->expected_s, energy = 0, mdur = 0;
    char iso2[3] = "", source[96], err[512];
    struct wp_forecast *f = calloc(1, sizeof *f);
    struct wp_defer d;
    sigset_t set, old;
    double saving;
    int rc = 0;

    if (!f)
        return 0;
    if (earlier_runs(o, cmd, &mdur, &energy) > 0 && !(dur > 0))
        dur = mdur;
    if (!run->assume.region.country3[0] || wp_country_alpha2(run->assume.region.country3, iso2) ||
        wp_forecast_fetch(iso2, now, f, source, sizeof source, err, sizeof err) != 0 ||
        wp_forecast_choose(f, now, o->defer_within_s, dur > 0 ? dur : 3600, &d) != 0) {
        fprintf(stderr, "wattprint: no forecast (%s): running now\n",
                iso2[0] ? err : "the region is not a country's; give --region");
        free(f);
        return 0;
    }
    free(f);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    saving = energy > 0 ? (d.now_g - d.g) * energy / 3.6e6 : 0;
    worth_it(o, &d, now, saving);
    if (d.start <= now)
        saving = 0;
    say_choice(&d, source, now, dur > 0 ? dur : 3600, !(dur > 0), saving, o->dry_run);
    if (o->dry_run)
        rc = write_dry_run(o, &d, saving) == 0 ? 1 : -1;
    else if (d.start > now && (rc = wait_until(d.start, &set)) != 0) {
        fprintf(stderr, "wattprint: the deferred start was cancelled (signal %d); nothing ran\n",
                rc);
        rc += 128;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
