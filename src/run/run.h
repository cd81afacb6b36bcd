/* The result model: a run's identity, how it ended, its reading (per-channel
 * energy as plain values), work, carbon and assumptions. Built once from a
 * meter's reading and the account; every sink reads it, and JSON is its
 * serialisation. */
#ifndef WP_RUN_H
#define WP_RUN_H

#include "../account/account.h"
#include "../account/cloud.h"
#include "../meter/meter.h"
#include "../work/progress.h"
#include "machine.h"
#include "run_doc.h"

#include <jansson.h>
#include <stdio.h>

#define WP_MAX_TAGS     32
#define WP_MAX_SETTINGS 8
#define WP_SETTING_LEN  280

struct wp_tag {
    char key[64];
    char value[256];
};

/* What a run is filed under in the ledger. */
struct wp_labels {
    const char *project;    /* NULL: none */
    const char *experiment; /* NULL: none */
    const char *job;        /* NULL: none */
    int n_tags;
    struct wp_tag tags[WP_MAX_TAGS];
};

/* Parses "KEY=VALUE" into a tag. Returns 0 or -EINVAL. */
int wp_tag_parse(const char *text, struct wp_tag *out);

enum wp_run_status { WP_RUN_COMPLETED, WP_RUN_FAILED, WP_RUN_INTERRUPTED, WP_RUN_RUNNING };

struct wp_run {
    char run_id[37];
    enum wp_run_status status;
    int exit_status; /* wattprint's own exit status for this run */
    int exit_code;   /* the command's, -1 when it did not exit normally */
    int signal;      /* the signal that ended it, 0 if none */
    int argc;
    char *const *argv;
    double start_wall_s, end_wall_s;
    char cwd[1024];
    char host[256];
    char user[64];
    struct wp_labels labels;
    struct wp_reading reading;    /* the measurement, as values (wp_run_set_reading) */
    struct wp_assumptions assume; /* PUE, region, intensity and their sources */
    struct wp_carbon carbon;      /* filled by wp_run_account */
    struct wp_work work;          /* the work the program reported, if any */
    struct wp_cloud_info cloud;   /* where detection ran: what it found */
    struct wp_machine machine;    /* the hardware it ran on */
    double checkpoint_every_s;    /* how often it reaches the ledger while running; 0: never */
    double checkpoint_max_s;      /* > checkpoint_every_s: the gap doubles up to this */
    int n_settings;               /* "interval 0.5 from ~/.config/wattprint/config" */
    const char (*settings)[WP_SETTING_LEN];
};

/* Replaces run->reading with r (taken over: r is emptied) and accounts
 * for it: run->carbon from its totals and run->assume. The one place where a
 * run's carbon is computed. */
void wp_run_set_reading(struct wp_run *run, struct wp_reading *r);

/* Where the run happens: its working directory, host, user ($USER, else
 * the uid's name) and machine (each empty where it cannot be known). */
void wp_run_place(struct wp_run *run);

/* Recomputes run->carbon (after the assumptions changed). */
void wp_run_account(struct wp_run *run);

/* Frees what the run owns (its reading). */
void wp_run_release(struct wp_run *run);

const char *wp_run_status_name(enum wp_run_status s);

/* Writes the run JSON to path (util/outfile.h: a new file renamed over a
 * regular one, a device or FIFO in place). Returns 0, or a negative errno
 * with the reason in err. */
int wp_run_write_json(const struct wp_run *run, const char *path, char *err, size_t cap);

/* Returns the run JSON as a new jansson object the caller decrefs, or NULL. */
json_t *wp_run_json(const struct wp_run *run);

/* The run's embodied emissions in grams: as given (--embodied-g), else its
 * counted GPUs' device-hours times their manufacture's share
 * (account/embodied.h). Returns the number of those GPUs (0: none modelled,
 * *g untouched) or -1 when given. */
int wp_run_embodied_g(const struct wp_run *run, double *g);

/* The same without the derived parts (equivalents, SCI, assumptions): what
 * the ledger stores, its readers recompute them (wp_run_json_derive). */
json_t *wp_run_json_stored(const struct wp_run *run);

/* The run's "command" array joined by spaces into out (truncated to cap). */
void wp_run_command_text(json_t *run, char *out, size_t cap);

/* The GPUs a run document counts (a share's whole, not counted, is the same
 * GPU; *model, when not NULL, the last one's name), and its device-hours:
 * its duration times them, or 1 without a GPU, as the ledger keeps them. */
int wp_run_json_gpus(json_t *run, const char **model);
double wp_run_json_device_hours(json_t *run);
/* Whether a channel of the run is a process's share of a device (share_of:
 * --attribute process). */
bool wp_run_json_shared(json_t *run);

/* The same of a command array itself ("" when argv is not one). */
void wp_command_text(json_t *argv, char *out, size_t cap);

/* The run JSON's derived parts, "equivalents", "sci" and "assumptions",
 * (re)computed from its other fields: the ledger stores runs without them.
 * Returns 0, or -ENOMEM (the parts may then be missing). */
int wp_run_json_derive(json_t *run);

/* Returns the run JSON as a malloc'd string the caller frees, or NULL. */
char *wp_run_json_string(const struct wp_run *run);

#endif
