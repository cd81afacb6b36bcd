/* wattprint-spank.so: every Slurm job step measured, no change to the job
 * script. In slurmstepd (as root), the first task of a step on a node starts
 * one libwattprint meter for the node; the step's end records it as one run
 * filed under the job id and the job's user. Nothing here may fail a job:
 * every error is one line (the user's in srun's stderr, the administrator's
 * in slurmd's log), and every callback returns success.
 *
 * Two trust levels. What decides where root writes and how carbon is
 * computed (ledger, region, intensity, pue, provider, sensors, interval)
 * comes only from plugstack.conf and root's configuration files:
 *   required /path/wattprint-spank.so ledger=L [region=R] [pue=X] ...
 * A user's srun --wattprint= may only label the step (project=, experiment=,
 * tag=K=V), silence its line (quiet) or opt it out (no); anything else is
 * refused, never obeyed.
 *
 * The step's line: when a node's tasks have all ended, one line on the
 * step's stderr says what the node used (off by "quiet", the administrator's
 * or the user's). SPANK hands a plugin no handle on a task's stdio, so the
 * first task, once Slurm has set up its stdio and before it execs, sends a
 * duplicate of its stderr to slurmstepd over a socket pair made before the
 * fork (SCM_RIGHTS); slurmstepd writes the line there and closes it while
 * the step's output is still being forwarded. */
#include <slurm/slurm.h>
#include <slurm/spank.h>

#include "../config/config.h"
#include "../lib/lib_int.h"
#include "../util/util.h"
#include "wattprint.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

SPANK_PLUGIN(wattprint, 1);

#define MAX_USER_TAGS 4
#define MAX_TAGS      (5 + MAX_USER_TAGS)

/* root's: plugstack.conf over /etc/wattprint/config */
static struct {
    char ledger[1024], region[64], provider[32], sensors[128], project[128];
    double pue, intensity, interval;
    bool quiet; /* no line in the steps' stderr */
} admin;

/* the user's: labels only */
static struct {
    char project[128], experiment[128], tags[MAX_USER_TAGS][160];
    int n_tags;
    bool off, quiet;
} label;

static wattprint_meter *meter;
static bool stopped; /* the run recorded at the node's last task's end */

/* The step's line: the socket pair (0: slurmstepd's end, 1: the tasks'),
 * the first task's stderr once received, and the tasks ended so far. */
static int line_sock[2] = {-1, -1}, line_fd = -1;
static uint32_t tasks_ended;

static const char *const admin_keys[] = {"ledger",   "region",  "intensity", "pue",
                                         "provider", "sensors", "interval"};

static bool is_admin_key(const char *key)
{
    for (size_t i = 0; i < sizeof admin_keys / sizeof *admin_keys; i++)
        if (!strcmp(key, admin_keys[i]))
            return true;
    return false;
}

static void copy(char *dst, size_t cap, const char *src, const char *key)
{
    if (strlen(src) >= cap)
        slurm_error("wattprint: %s is longer than %zu characters (cut)", key, cap - 1);
    snprintf(dst, cap, "%s", src);
}

static void number(double *dst, const char *key, const char *v, double lo, double hi)
{
    double x;

    if (wp_parse_double(v, &x) || x < lo || x > hi)
        slurm_error("wattprint: %s='%s' is not a number from %g to %g (ignored)", key, v, lo, hi);
    else
        *dst = x;
}

/* One "key=value" of root's: the plugstack line or root's config file. */
static void admin_take(const char *key, const char *v)
{
    if (!strcmp(key, "ledger"))
        copy(admin.ledger, sizeof admin.ledger, v, key);
    else if (!strcmp(key, "region"))
        copy(admin.region, sizeof admin.region, v, key);
    else if (!strcmp(key, "provider"))
        copy(admin.provider, sizeof admin.provider, v, key);
    else if (!strcmp(key, "sensors"))
        copy(admin.sensors, sizeof admin.sensors, v, key);
    else if (!strcmp(key, "project"))
        copy(admin.project, sizeof admin.project, v, key);
    else if (!strcmp(key, "pue"))
        number(&admin.pue, key, v, 1.0, 3.0);
    else if (!strcmp(key, "intensity"))
        number(&admin.intensity, key, v, 0, 2000);
    else if (!strcmp(key, "interval"))
        number(&admin.interval, key, v, 0.01, 3600);
    else
        slurm_error("wattprint: unknown setting '%s' (ledger, region, intensity, pue, provider, "
                    "sensors, interval, project)",
                    key);
}

/* Splits "key=value" (key at most 31 characters); false when it is not. */
static bool split(const char *arg, char key[32], const char **value)
{
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg) : 0;

    if (!eq || klen == 0 || klen >= 32)
        return false;
    memcpy(key, arg, klen);
    key[klen] = '\0';
    *value = eq + 1;
    return true;
}

static void user_tag(const char *kv)
{
    const char *eq = strchr(kv, '=');

    if (!eq || eq == kv || strlen(kv) >= sizeof label.tags[0])
        slurm_error("wattprint: tag '%s' is not KEY=VALUE (at most 159 characters); ignored", kv);
    else if (!strncmp(kv, "slurm_", 6))
        slurm_error("wattprint: tag keys starting slurm_ are Slurm's own; '%s' ignored", kv);
    else if (label.n_tags == MAX_USER_TAGS)
        slurm_error("wattprint: at most %d tags; '%s' ignored", MAX_USER_TAGS, kv);
    else
        snprintf(label.tags[label.n_tags++], sizeof label.tags[0], "%s", kv);
}

/* One item of a user's --wattprint=: a label, "no", or a refusal. */
static void user_take(const char *arg)
{
    char key[32];
    const char *v;

    if (!strcmp(arg, "no") || !strcmp(arg, "off")) {
        label.off = true;
        return;
    }
    if (!strcmp(arg, "quiet")) {
        label.quiet = true;
        return;
    }
    if (!split(arg, key, &v))
        slurm_error("wattprint: '%s' is not key=value; --wattprint takes no, quiet, project=P, "
                    "experiment=E, tag=K=V",
                    arg);
    else if (!strcmp(key, "project"))
        copy(label.project, sizeof label.project, v, key);
    else if (!strcmp(key, "experiment"))
        copy(label.experiment, sizeof label.experiment, v, key);
    else if (!strcmp(key, "tag"))
        user_tag(v);
    else if (is_admin_key(key))
        slurm_error("wattprint: %s is the cluster's setting, not the job's: '%s' ignored "
                    "(--wattprint takes no, quiet, project=, experiment=, tag=)",
                    key, arg);
    else
        slurm_error("wattprint: unknown setting '%s' ignored (--wattprint takes no, quiet, "
                    "project=, experiment=, tag=)",
                    key);
}

static int user_option(int val, const char *arg, int remote)
{
    char buf[1024], *save = NULL;

    (void)val;
    (void)remote;
    if (!arg || !*arg)
        return 0;
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        user_take(t);
    return 0;
}

struct spank_option spank_options[] = {
    {"wattprint", "no|quiet|project=P,experiment=E,tag=K=V",
     "wattprint: 'no' leaves this step unmeasured, 'quiet' without its line in stderr; "
     "project=, experiment= and tag= label it (where it is filed and how carbon is counted "
     "are the cluster's settings)",
     2, 0, user_option},
    SPANK_OPTIONS_TABLE_END};

/* Root's configuration files, under the plugstack line's settings. */
static void defaults(void)
{
    struct wp_config c = {0};
    char err[512];

    if (wp_config_load(&c, err, sizeof err) != 0) {
        slurm_error("wattprint: %s (its defaults are not used)", err);
        return;
    }
    if (c.ignored[0])
        slurm_info("wattprint: %s", c.ignored);
    for (int i = 0; i < c.n; i++)
        if (is_admin_key(c.v[i].key) || !strcmp(c.v[i].key, "project"))
            admin_take(c.v[i].key, c.v[i].value);
}

/* The library's warnings (a ledger that cannot record a step) in slurmd's
 * log. */
static void to_slurm_log(int level, const char *message, void *user)
{
    (void)level;
    (void)user;
    slurm_error("wattprint: %s", message);
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
    char key[32];
    const char *v;

    (void)sp;
    wattprint_set_log(to_slurm_log, NULL);
    defaults();
    for (int i = 0; i < ac; i++) {
        if (!strcmp(av[i], "no") || !strcmp(av[i], "off"))
            label.off = true; /* the administrator's: measure nothing */
        else if (!strcmp(av[i], "quiet"))
            admin.quiet = true; /* measure, but write no line in the steps' stderr */
        else if (split(av[i], key, &v))
            admin_take(key, v);
        else
            slurm_error("wattprint: '%s' in plugstack.conf is not key=value", av[i]);
    }
    return ESPANK_SUCCESS;
}

/* A step worth a run: a real step (not the batch script's or the extern one,
 * which hold the steps' own energy). */
static bool real_step(spank_t sp, uint32_t *job, uint32_t *step)
{
    return spank_remote(sp) && spank_get_item(sp, S_JOB_ID, job) == ESPANK_SUCCESS &&
           spank_get_item(sp, S_JOB_STEPID, step) == ESPANK_SUCCESS &&
           *step != SLURM_BATCH_SCRIPT && *step != SLURM_EXTERN_CONT;
}

/* ... on this node's first task. */
static bool first_task_of_step(spank_t sp, uint32_t *job, uint32_t *step)
{
    int task = -1;

    return real_step(sp, job, step) && spank_get_item(sp, S_TASK_ID, &task) == ESPANK_SUCCESS &&
           task == 0;
}

static void tag(spank_t sp, char tags[][160], const char **ptrs, int *n, const char *key,
                const char *var)
{
    char value[128];

    if (*n < MAX_TAGS && spank_getenv(sp, var, value, sizeof value) == ESPANK_SUCCESS) {
        snprintf(tags[*n], sizeof tags[0], "%s=%s", key, value);
        ptrs[*n] = tags[*n];
        (*n)++;
    }
}

/* The job's user by uid, from the password database (slurmstepd's own
 * environment has no $USER, and the job's could say anything). */
static void job_user(spank_t sp, char *out, size_t cap)
{
    uid_t uid;
    struct passwd pw, *found = NULL;
    char buf[4096];

    out[0] = '\0';
    if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS)
        return;
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found)
        snprintf(out, cap, "%s", found->pw_name);
    else
        snprintf(out, cap, "%u", (unsigned)uid);
}

static void start(spank_t sp, uint32_t job, uint32_t step, const char *const *tags)
{
    char job_text[24], name[64], gpus[256] = "", user[64];

    snprintf(job_text, sizeof job_text, "%u", job);
    snprintf(name, sizeof name, "slurm step %u.%u", job, step);
    /* the step's GPUs only: none when it was given none */
    if (spank_getenv(sp, "CUDA_VISIBLE_DEVICES", gpus, sizeof gpus) != ESPANK_SUCCESS || !*gpus)
        snprintf(gpus, sizeof gpus, "none");
    job_user(sp, user, sizeof user);
    wattprint_options o = {.struct_size = sizeof o,
                           .region = admin.region[0] ? admin.region : NULL,
                           .pue = admin.pue,
                           .intensity_g_per_kwh = admin.intensity,
                           .provider = admin.provider[0] ? admin.provider : NULL,
                           .sensors = admin.sensors[0] ? admin.sensors : NULL,
                           .interval_s = admin.interval,
                           .ledger = admin.ledger[0] ? admin.ledger : NULL,
                           .project = label.project[0]   ? label.project
                                      : admin.project[0] ? admin.project
                                                         : NULL,
                           .experiment = label.experiment[0] ? label.experiment : NULL,
                           .job = job_text,
                           .tags = tags,
                           .name = name,
                           .gpus = gpus};
    if (wattprint_open(&o, &meter) != WATTPRINT_OK || wp_lib_run_as(meter, user) != WATTPRINT_OK ||
        wattprint_start(meter) != WATTPRINT_OK) {
        slurm_error("wattprint: step %u.%u is not measured: %s", job, step, wattprint_last_error());
        wattprint_close(meter);
        meter = NULL;
    }
}

int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
    char tags[MAX_TAGS][160];
    const char *ptrs[MAX_TAGS + 1] = {NULL};
    uint32_t job, step;
    int n = 0;

    (void)ac;
    (void)av;
    if (label.off || meter || !first_task_of_step(sp, &job, &step))
        return ESPANK_SUCCESS;
    snprintf(tags[n], sizeof tags[0], "slurm_step=%u", step);
    ptrs[n] = tags[n];
    n++;
    tag(sp, tags, ptrs, &n, "slurm_user", "SLURM_JOB_USER");
    tag(sp, tags, ptrs, &n, "slurm_partition", "SLURM_JOB_PARTITION");
    tag(sp, tags, ptrs, &n, "slurm_nodes", "SLURM_JOB_NODELIST");
    tag(sp, tags, ptrs, &n, "slurm_gpus", "CUDA_VISIBLE_DEVICES");
    for (int i = 0; i < label.n_tags && n < MAX_TAGS; i++)
        ptrs[n++] = label.tags[i];
    start(sp, job, step, ptrs);
    return ESPANK_SUCCESS;
}

/* In slurmstepd before the tasks are forked: the socket pair the first
 * task sends its stderr over, for a measured step that wants its line. */
int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
    uint32_t job, step;

    (void)ac;
    (void)av;
    if (label.off || label.quiet || admin.quiet || !real_step(sp, &job, &step))
        return ESPANK_SUCCESS;
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, line_sock) != 0)
        line_sock[0] = line_sock[1] = -1; /* no line; the step runs as ever */
    return ESPANK_SUCCESS;
}

/* In the first task, as its user, its stdio set up and before its exec: a
 * duplicate of its stderr to slurmstepd. Every task's copies of the pair
 * close at its exec (SOCK_CLOEXEC). */
int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
    char byte = 0, ctl[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    int task = -1, fd = STDERR_FILENO;

    (void)ac;
    (void)av;
    if (line_sock[1] < 0 || spank_get_item(sp, S_TASK_ID, &task) != ESPANK_SUCCESS || task != 0)
        return ESPANK_SUCCESS;
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fd);
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    (void)sendmsg(line_sock[1], &msg, MSG_DONTWAIT | MSG_NOSIGNAL); /* none sent: no line */
    return ESPANK_SUCCESS;
}

/* The first task's stderr, if it sent it (it did before its exec, so before
 * any task's end), else -1. */
static int received_stderr(void)
{
    char byte, ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    struct cmsghdr *c;
    int fd = -1;

    if (recvmsg(line_sock[0], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) == 1 &&
        (c = CMSG_FIRSTHDR(&msg)) && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof fd))
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

/* One write (a whole line in a pipe) that cannot kill slurmstepd: a pipe
 * whose reader is gone raises SIGPIPE, held blocked here and taken back
 * (slurmstepd blocks it too; this holds whatever a version does). */
static void quiet_write(int fd, const char *text, size_t len)
{
    sigset_t pipe_only, old, pending;
    const struct timespec none = {0, 0};

    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    if (write(fd, text, len) < 0 && errno == EPIPE && !sigismember(&pending, SIGPIPE))
        sigtimedwait(&pipe_only, NULL, &none);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The node's tasks have ended: the run is recorded, and its line said. */
static void step_line(spank_t sp)
{
    wattprint_result r = WATTPRINT_RESULT_INIT;
    uint32_t job = 0, step = 0;
    char host[64] = "", e[32], m[32], line[512];
    int n;

    if (!meter || wattprint_stop(meter) != WATTPRINT_OK || wattprint_read(meter, &r) != 0) {
        if (meter)
            slurm_error("wattprint: %s", wattprint_last_error());
        stopped = true;
        return;
    }
    stopped = true;
    spank_get_item(sp, S_JOB_ID, &job);
    spank_get_item(sp, S_JOB_STEPID, &step);
    gethostname(host, sizeof host - 1);
    wp_fmt_energy(r.energy_j, e, sizeof e);
    wp_fmt_mass(r.emissions_g, m, sizeof m);
    n = snprintf(line, sizeof line,
                 "wattprint: step %u.%u on %s used %s (%s), %s CO2e; wattprint ls --job %u\n", job,
                 step, host, e, r.estimated ? "estimated" : "measured", m, job);
    if (line_fd >= 0 && n > 0 && (size_t)n < sizeof line)
        quiet_write(line_fd, line, (size_t)n);
}

/* In slurmstepd as each task ends: the node's last one ends the run and,
 * unless quiet, writes its line, then lets the stderr go (the step's output
 * drains only once every copy of it is closed). */
int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
    uint32_t tasks = 0;

    (void)ac;
    (void)av;
    if (!spank_remote(sp))
        return ESPANK_SUCCESS;
    if (line_sock[0] >= 0 && line_fd < 0)
        line_fd = received_stderr();
    if (spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &tasks) == ESPANK_SUCCESS &&
        ++tasks_ended < tasks)
        return ESPANK_SUCCESS;
    if (!stopped)
        step_line(sp);
    if (line_fd >= 0)
        close(line_fd);
    line_fd = -1;
    for (int i = 0; i < 2; i++)
        if (line_sock[i] >= 0)
            close(line_sock[i]);
    line_sock[0] = line_sock[1] = -1;
    return ESPANK_SUCCESS;
}

/* The step's end on this node: its run is written if the tasks' end did not
 * (the ledger's own failures are said by the library, one line). */
int slurm_spank_exit(spank_t sp, int ac, char **av)
{
    (void)sp;
    (void)ac;
    (void)av;
    /* held past the tasks' end only where slurmstepd ended a step without
     * reaping its tasks (a launch that failed after the fork): its output's
     * drain then waits for its own timeout, as for any process holding it */
    if (line_fd >= 0)
        close(line_fd);
    for (int i = 0; i < 2; i++)
        if (line_sock[i] >= 0)
            close(line_sock[i]);
    line_fd = line_sock[0] = line_sock[1] = -1;
    if (meter) {
        if (!stopped && wattprint_stop(meter) != WATTPRINT_OK)
            slurm_error("wattprint: %s", wattprint_last_error());
        wattprint_close(meter);
        meter = NULL;
    }
    return ESPANK_SUCCESS;
}
