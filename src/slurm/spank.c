/* wattprint-spank.so: every Slurm job step measured, no change to the job
 * script. In slurmstepd (as root), the first task of a step on a node starts
 * one libwattprint meter for the node; the step's end records it as one run
 * filed under the job id. Nothing here may fail a job: every error is one
 * line in slurmd's log, and every callback returns success.
 *
 * plugstack.conf: required /path/wattprint-spank.so ledger=L [region=R]
 *                 [pue=X] [project=P]
 * srun --wattprint=no opts a step out; --wattprint=project=P,experiment=E
 * labels it. */
#include <slurm/slurm.h>
#include <slurm/spank.h>

#include "../config/config.h"
#include "wattprint.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SPANK_PLUGIN(wattprint, 1);

#define MAX_TAGS 8

static struct {
    char ledger[1024], region[64], project[128], experiment[128];
    double pue;
    bool off;
} cfg;

static wattprint_meter *meter;

/* "project=P,experiment=E" or "no", from the plugstack line or --wattprint. */
static void take(const char *arg)
{
    char key[32];
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);

    if (strcmp(arg, "no") == 0 || strcmp(arg, "off") == 0) {
        cfg.off = true;
        return;
    }
    if (!eq || klen >= sizeof key)
        return;
    memcpy(key, arg, klen);
    key[klen] = '\0';
    if (!strcmp(key, "ledger"))
        snprintf(cfg.ledger, sizeof cfg.ledger, "%s", eq + 1);
    else if (!strcmp(key, "region"))
        snprintf(cfg.region, sizeof cfg.region, "%s", eq + 1);
    else if (!strcmp(key, "project"))
        snprintf(cfg.project, sizeof cfg.project, "%s", eq + 1);
    else if (!strcmp(key, "experiment"))
        snprintf(cfg.experiment, sizeof cfg.experiment, "%s", eq + 1);
    else if (!strcmp(key, "pue"))
        cfg.pue = atof(eq + 1);
    else
        slurm_error("wattprint: unknown setting '%s' (ledger, region, pue, project, experiment)",
                    key);
}

static int user_option(int val, const char *arg, int remote)
{
    char copy[512], *save = NULL;

    (void)val;
    (void)remote;
    if (!arg || !*arg)
        return 0;
    snprintf(copy, sizeof copy, "%s", arg);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        take(t);
    return 0;
}

struct spank_option spank_options[] = {
    {"wattprint", "no|project=P,experiment=E",
     "wattprint: 'no' leaves this step unmeasured; project= and experiment= file it", 2, 0,
     user_option},
    SPANK_OPTIONS_TABLE_END};

/* The configuration files' defaults, under the plugstack line's settings. */
static void defaults(void)
{
    struct wp_config c = {0};
    const struct wp_config_value *v;
    char err[512];

    if (wp_config_load(&c, err, sizeof err) != 0) {
        slurm_error("wattprint: %s (its defaults are not used)", err);
        return;
    }
    if ((v = wp_config_get(&c, "ledger")))
        snprintf(cfg.ledger, sizeof cfg.ledger, "%s", v->value);
    if ((v = wp_config_get(&c, "region")))
        snprintf(cfg.region, sizeof cfg.region, "%s", v->value);
    if ((v = wp_config_get(&c, "project")))
        snprintf(cfg.project, sizeof cfg.project, "%s", v->value);
    if ((v = wp_config_get(&c, "pue")))
        cfg.pue = atof(v->value);
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
    (void)sp;
    defaults();
    for (int i = 0; i < ac; i++)
        take(av[i]);
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

int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
    char job_text[24], name[64], gpus[256] = "", tags[MAX_TAGS][160];
    const char *ptrs[MAX_TAGS + 1] = {NULL};
    uint32_t job, step;
    int n = 0;

    (void)ac;
    (void)av;
    if (cfg.off || meter || !first_task_of_step(sp, &job, &step))
        return ESPANK_SUCCESS;
    snprintf(job_text, sizeof job_text, "%u", job);
    snprintf(name, sizeof name, "slurm step %u.%u", job, step);
    snprintf(tags[n], sizeof tags[0], "slurm_step=%u", step);
    ptrs[n] = tags[n];
    n++;
    tag(sp, tags, ptrs, &n, "slurm_user", "SLURM_JOB_USER");
    tag(sp, tags, ptrs, &n, "slurm_partition", "SLURM_JOB_PARTITION");
    tag(sp, tags, ptrs, &n, "slurm_nodes", "SLURM_JOB_NODELIST");
    tag(sp, tags, ptrs, &n, "slurm_gpus", "CUDA_VISIBLE_DEVICES");
    /* the step's GPUs only: none when it was given none */
    if (spank_getenv(sp, "CUDA_VISIBLE_DEVICES", gpus, sizeof gpus) != ESPANK_SUCCESS || !*gpus)
        snprintf(gpus, sizeof gpus, "none");
    wattprint_options o = {.region = cfg.region[0] ? cfg.region : NULL,
                           .pue = cfg.pue,
                           .ledger = cfg.ledger[0] ? cfg.ledger : NULL,
                           .project = cfg.project[0] ? cfg.project : NULL,
                           .experiment = cfg.experiment[0] ? cfg.experiment : NULL,
                           .job = job_text,
                           .tags = ptrs,
                           .name = name,
                           .gpus = gpus};
    if (wattprint_open(&o, &meter) != WATTPRINT_OK || wattprint_start(meter) != WATTPRINT_OK) {
        slurm_error("wattprint: step %u.%u is not measured: %s", job, step, wattprint_last_error());
        wattprint_close(meter);
        meter = NULL;
    }
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
