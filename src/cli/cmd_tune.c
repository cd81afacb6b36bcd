/* wattprint tune-power -- COMMAND: the GPU power limit that spends the least
 * energy per unit of work (Zeus, You, Chung and Chowdhury, NSDI 2023, report
 * 15-76 % less training energy this way). The command's first units of work
 * (its progress channel) run at a series of limits from the device's allowed
 * range; the original limit is written down first and put back in every
 * case: at the end, on a signal, and by the next wattprint when this one was
 * killed. */
#define _GNU_SOURCE
#include "cli.h"

#include "../tune/power_limit.h"
#include "../util/util.h"
#include "../work/progress.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: wattprint tune-power [--gpu N] [--limits K] [--work W] [--max-slowdown P%]\n"
    "                            [--apply energy|time] -- COMMAND [ARG...]\n"
    "\nRuns COMMAND's first W units of work (default 20, from WATTPRINT_PROGRESS) at K\n"
    "power limits (default 5) across GPU N's allowed range (NVIDIA, root), measures\n"
    "energy and time per unit at each, puts the original limit back, and names the\n"
    "energy-optimal limit and the best within --max-slowdown (default 10%) of the\n"
    "fastest; --apply sets one of them.\n";

#define MAX_LIMITS 16

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
    stop_sig = sig;
}

struct point {
    unsigned mw;
    double j_per_unit, s_per_unit;
    bool ok;
    double seen; /* units the command reported in all (-1: no report at all) */
};

/* The command's reported work so far, from its progress file. */
static double work_done(const char *path)
{
    static char buf[1 << 16];
    struct wp_work w = {0};
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (char *line = buf, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        wp_progress_line(&w, line, (size_t)(nl - line), 0);
    }
    return w.done;
}

/* One limit: the command from its first report to `units` reports. */
static int measure(const struct wp_gpu_limit *g, char *const *cmd, const char *progress,
                   double units, struct point *p)
{
    unsigned long long e0 = 0, e1 = 0;
    double d0 = -1, d = 0, t0 = 0, t1 = 0;
    struct timespec tick = {0, 2000000};
    pid_t pid;
    int status;

    unlink(progress);
    sigset_t all, old;

    if (stop_sig)
        return -1;
    /* The child must not keep wattprint's handlers between fork and exec: a
     * stop sent then would set a flag in the child and be lost. */
    sigemptyset(&all);
    sigaddset(&all, SIGINT);
    sigaddset(&all, SIGTERM);
    sigaddset(&all, SIGHUP);
    sigprocmask(SIG_BLOCK, &all, &old);
    if ((pid = fork()) == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        setpgid(0, 0);
        setenv("WATTPRINT_PROGRESS", progress, 1);
        execvp(cmd[0], cmd);
        _exit(127);
    }
    if (pid > 0)
        setpgid(pid, pid); /* here too: the group must exist before it can be stopped */
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return -1;
    while (!stop_sig && waitpid(pid, &status, WNOHANG) == 0) {
        unsigned long long e;
        double t = wp_mono_s();
        d = work_done(progress);
        wp_gpu_energy_mj(g, &e);
        if (work_done(progress) != d) /* a unit ended meanwhile: look again */
            continue;
        if (d0 < 0 && d > 0) { /* from the first report: start-up is the same at every limit */
            d0 = d, t0 = t, e0 = e;
        } else if (d0 >= 0 && d - d0 >= units) {
            t1 = t, e1 = e;
            break;
        }
        nanosleep(&tick, NULL);
    }
    kill(-pid, SIGTERM);
    waitpid(pid, &status, 0);
    p->ok = d0 >= 0 && d > d0 && t1 > t0 && e1 >= e0;
    /* what it reported in all (read again: it may have ended between looks) */
    d = work_done(progress);
    p->seen = d > 0 ? d : -1;
    if (p->ok) {
        p->j_per_unit = (double)(e1 - e0) / 1000.0 / (d - d0);
        p->s_per_unit = (t1 - t0) / (d - d0);
    }
    return 0;
}

/* The energy-optimal point, and the best within the slowdown of the fastest. */
static void choose(const struct point *pts, int n, double slowdown, int *best, int *within)
{
    double fastest = 0;

    *best = *within = -1;
    for (int i = 0; i < n; i++)
        if (pts[i].ok && (fastest == 0 || pts[i].s_per_unit < fastest))
            fastest = pts[i].s_per_unit;
    for (int i = 0; i < n; i++) {
        if (!pts[i].ok)
            continue;
        if (*best < 0 || pts[i].j_per_unit < pts[*best].j_per_unit)
            *best = i;
        if (pts[i].s_per_unit <= fastest * (1 + slowdown) &&
            (*within < 0 || pts[i].j_per_unit < pts[*within].j_per_unit))
            *within = i;
    }
}

struct tune_opts {
    unsigned gpu;
    int limits;
    double work, slowdown;
    const char *apply;
};

static int parse(int argc, char **argv, struct tune_opts *o)
{
    static const struct option opts[] = {{"gpu", required_argument, NULL, 'g'},
                                         {"limits", required_argument, NULL, 'k'},
                                         {"work", required_argument, NULL, 'w'},
                                         {"max-slowdown", required_argument, NULL, 's'},
                                         {"apply", required_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    char *end;
    int c;

    *o = (struct tune_opts){0, 5, 20, 0.10, NULL};
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            exit(0);
        } else if (c == 'g') {
            o->gpu = (unsigned)strtoul(optarg, &end, 10);
        } else if (c == 'k') {
            o->limits = (int)strtol(optarg, &end, 10);
            if (*end || o->limits < 2 || o->limits > MAX_LIMITS)
                return fprintf(stderr, "wattprint tune-power: --limits: 2 to %d\n", MAX_LIMITS), -1;
        } else if (c == 'w') {
            if (wp_parse_double(optarg, &o->work) != 0 || !(o->work >= 1))
                return fprintf(stderr, "wattprint tune-power: --work: units of work, 1 or more\n"),
                       -1;
        } else if (c == 's') {
            o->slowdown = strtod(optarg, &end) / 100.0;
            if ((*end && strcmp(end, "%") != 0) || !(o->slowdown >= 0) || o->slowdown > 10)
                return fprintf(stderr,
                               "wattprint tune-power: --max-slowdown: a percentage (10%%)\n"),
                       -1;
        } else if (c == 'a') {
            o->apply = optarg;
            if (strcmp(optarg, "energy") && strcmp(optarg, "time"))
                return fprintf(stderr, "wattprint tune-power: --apply: energy or time\n"), -1;
        } else {
            return fputs(usage, stderr), -1;
        }
    }
    /* getopt consumed the "--" before the command */
    if (optind >= argc || strcmp(argv[optind - 1], "--") != 0)
        return fprintf(stderr, "wattprint tune-power: give the command after --\n"), -1;
    return optind;
}

static void table(const struct point *pts, int n, int best, int within, double slowdown)
{
    printf("%10s %16s %14s\n", "LIMIT", "ENERGY/UNIT", "TIME/UNIT");
    for (int i = 0; i < n; i++) {
        char e[32], t[32];
        if (!pts[i].ok) {
            printf("%8u W %16s %14s\n", pts[i].mw / 1000, "-", "-");
            continue;
        }
        wp_fmt_energy(pts[i].j_per_unit, e, sizeof e);
        snprintf(t, sizeof t, "%.4g s", pts[i].s_per_unit);
        printf("%8u W %16s %14s%s%s\n", pts[i].mw / 1000, e, t, i == best ? "  least energy" : "",
               i == within ? "  least within the slowdown" : "");
    }
    if (best >= 0 && within >= 0)
        printf("energy-optimal: %u W; within %.0f %% of the fastest: %u W\n", pts[best].mw / 1000,
               slowdown * 100, pts[within].mw / 1000);
}

/* A limit a killed tune-power left: put back first, when the record is
 * believable (in the GPU's range); otherwise the current limit is taken as
 * the original, and said. Returns 0, or -1 when nothing may change. */
static int take_left_original(const struct tune_opts *o, struct wp_gpu_limit *g)
{
    char err[512];
    unsigned recorded;

    if (!wp_gpu_limit_recorded(g, &recorded))
        return 0;
    if (!wp_gpu_limit_believable(g, recorded)) {
        fprintf(stderr,
                "wattprint tune-power: the recorded original limit of GPU %u, %u W, is outside "
                "its range (%u to %u W): not believed; the current %u W is the original\n",
                o->gpu, recorded / 1000, g->min_mw / 1000, g->max_mw / 1000, g->original_mw / 1000);
    } else if (wp_gpu_limit_set(g, recorded, err, sizeof err) == 0) {
        fprintf(stderr,
                "wattprint tune-power: put back GPU %u's limit of %u W, which a wattprint "
                "stopped before it could\n",
                o->gpu, recorded / 1000);
        g->original_mw = recorded;
    } else {
        fprintf(stderr,
                "wattprint tune-power: %s (putting back the limit a killed wattprint "
                "left); nothing changed\n",
                err);
        return -1;
    }
    wp_gpu_limit_forget(g);
    return 0;
}

int wp_cmd_tune_power(int argc, char **argv)
{
    static struct point pts[MAX_LIMITS];
    struct tune_opts o;
    struct wp_gpu_limit g;
    const char *tmp = getenv("TMPDIR");
    char err[512], progress[4096];
    int first = parse(argc, argv, &o), best, within, fd, lock;

    if (first < 0)
        return 125;
    if (wp_gpu_limit_open(o.gpu, &g, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint tune-power: %s\n", err);
        return 1;
    }
    /* held to the end, released by the kernel however this process ends */
    if ((lock = wp_gpu_limit_lock(&g)) < 0) {
        fprintf(stderr, "wattprint tune-power: %s; nothing changed\n",
                lock == -EBUSY ? "another wattprint tune-power is tuning this GPU now"
                               : "cannot lock the GPU's record");
        return 1;
    }
    if (take_left_original(&o, &g) != 0)
        return 1;
    if (wp_gpu_limit_record(&g) != 0) {
        fprintf(stderr, "wattprint tune-power: cannot write down the original limit: nothing "
                        "changed\n");
        return 1;
    }
    /* the command's progress file, as wattprint run gives one: in $TMPDIR */
    snprintf(progress, sizeof progress, "%s/wattprint-tune-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if ((fd = mkstemp(progress)) < 0) {
        fprintf(stderr, "wattprint tune-power: cannot make a progress file: %s\n", strerror(errno));
        wp_gpu_limit_forget(&g);
        return 1;
    }
    close(fd);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    for (int i = 0; i < o.limits && !stop_sig; i++) {
        pts[i].mw = g.max_mw - (unsigned)((double)(g.max_mw - g.min_mw) * i / (o.limits - 1));
        if (wp_gpu_limit_set(&g, pts[i].mw, err, sizeof err) != 0) {
            fprintf(stderr, "wattprint tune-power: %s\n", err);
            break;
        }
        measure(&g, argv + first, progress, o.work, &pts[i]);
        if (i == 0 && !pts[0].ok && !stop_sig) { /* every limit would end the same way */
            if (pts[0].seen < 0)
                fprintf(stderr,
                        "wattprint tune-power: the command reported no work: tune-power compares "
                        "the energy per unit of work at each limit, so the command must report "
                        "its steps (a line per step to the file $WATTPRINT_PROGRESS names, or "
                        "wattprint.progress() in Python: docs/work.md); nothing was tuned\n");
            else
                fprintf(stderr,
                        "wattprint tune-power: the command ended after reporting %.4g units, "
                        "before the %.4g asked for after its first (--work): give a smaller "
                        "--work or a longer command; nothing was tuned\n",
                        pts[0].seen, o.work);
            break;
        }
    }
    unlink(progress);
    choose(pts, o.limits, o.slowdown, &best, &within);
    {
        int chosen = stop_sig ? -1 : o.apply ? (o.apply[0] == 'e' ? best : within) : -1;
        unsigned to = chosen >= 0 ? pts[chosen].mw : g.original_mw, now = 0;
        if (wp_gpu_limit_set(&g, to, err, sizeof err) == 0) {
            wp_gpu_limit_forget(&g); /* put back (or applied as asked) */
        } else {
            wp_gpu_limit_get(&g, &now);
            fprintf(stderr,
                    "wattprint tune-power: %s; the limit is %u W, not %u W; the next wattprint "
                    "puts it back\n",
                    err, now / 1000, to / 1000);
            table(pts, o.limits, best, within, o.slowdown);
            return 1;
        }
        if (stop_sig) {
            fprintf(stderr,
                    "wattprint tune-power: stopped by signal %d; the limit is back at "
                    "%u W\n",
                    (int)stop_sig, g.original_mw / 1000);
            return 128 + stop_sig;
        }
        table(pts, o.limits, best, within, o.slowdown);
        printf("the limit is %u W (%s)\n", to / 1000, chosen >= 0 ? "applied" : "as it was");
    }
    return best >= 0 ? 0 : 1;
}
