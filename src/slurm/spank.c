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
 * tag=K=V) or opt it out (no); anything else is refused, never obeyed. */
#include <slurm/slurm.h>
#include <slurm/spank.h>

#include "../config/config.h"
#include "../lib/lib_int.h"
#include "../util/util.h"
#include "wattprint.h"

#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SPANK_PLUGIN(wattprint, 1);

#define MAX_USER_TAGS 4
#define MAX_TAGS      (5 + MAX_USER_TAGS)

/* root's: plugstack.conf over /etc/wattprint/config */
static struct {
    char ledger[1024], region[64], provider[32], sensors[128], project[128];
    double pue, intensity, interval;
} admin;

/* the user's: labels only */
static struct {
    char project[128], experiment[128], tags[MAX_USER_TAGS][160];
    int n_tags;
    bool off;
} label;

static wattprint_meter *meter;

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
    if (!split(arg, key, &v))
        slurm_error("wattprint: '%s' is not key=value; --wattprint takes no, project=P, "
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
                    "(--wattprint takes no, project=, experiment=, tag=)",
                    key, arg);
    else
        slurm_error("wattprint: unknown setting '%s' ignored (--wattprint takes no, project=, "
                    "experiment=, tag=)",
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
    {"wattprint", "no|project=P,experiment=E,tag=K=V",
     "wattprint: 'no' leaves this step unmeasured; project=, experiment= and tag= label it "
     "(where it is filed and how carbon is counted are the cluster's settings)",
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
        else if (split(av[i], key, &v))
            admin_take(key, v);
        else
            slurm_error("wattprint: '%s' in plugstack.conf is not key=value", av[i]);
    }
    return ESPANK_SUCCESS;
}

/* A step worth a run: a real step (not the batch script's or the extern one,
 * which hold the steps' own energy), on this node's first task. */
static bool first_task_of_step(spank_t sp, uint32_t *job, uint32_t *step)
{
    int task = -1;

    return spank_remote(sp) && spank_get_item(sp, S_JOB_ID, job) == ESPANK_SUCCESS &&
           spank_get_item(sp, S_JOB_STEPID, step) == ESPANK_SUCCESS &&
           spank_get_item(sp, S_TASK_ID, &task) == ESPANK_SUCCESS && task == 0 &&
           *step != SLURM_BATCH_SCRIPT && *step != SLURM_EXTERN_CONT;
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

/* The step's end on this node: its run is written (the ledger's own
 * failures are said by the library, one line). */
int slurm_spank_exit(spank_t sp, int ac, char **av)
{
    (void)sp;
    (void)ac;
    (void)av;
    if (meter) {
        if (wattprint_stop(meter) != WATTPRINT_OK)
            slurm_error("wattprint: %s", wattprint_last_error());
        wattprint_close(meter);
        meter = NULL;
    }
    return ESPANK_SUCCESS;
}
