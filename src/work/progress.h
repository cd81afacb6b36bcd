/* Work and progress: the measured program reports its work through a file
 * named by WATTPRINT_PROGRESS, appending lines of key=value pairs:
 *   done=N (cumulative work)  total=M (optional)  unit=NAME (default steps)
 * wattprint reads what was appended since its last look. */
#ifndef WP_PROGRESS_H
#define WP_PROGRESS_H

#include "../util/diag.h"

#include <stdbool.h>
#include <stddef.h>

#define WP_PROGRESS_MAX_LINE 4096

#define WP_WORK_MAX_QUALITY  8
#define WP_WORK_MAX_COUNTERS 4

struct wp_work {
    char unit[32];
    double done;   /* cumulative work reported, 0 if none */
    double total;  /* 0 if unknown */
    bool reported; /* a valid done= line was read */
    bool total_from_cli, unit_from_cli;
    double first_done_s, last_done_s; /* run time of the first and last report */
    long malformed;                   /* lines ignored */
    /* quality beside the work (loss=, accuracy=, metric.NAME=): the last value of each */
    int n_quality;
    struct {
        char name[32];
        double value;
    } quality[WP_WORK_MAX_QUALITY];
    /* from a server's metrics endpoint (--work-url): each counter's increase;
     * the first is the work above (unit, done) */
    int n_counters;
    struct {
        char metric[256]; /* the selector */
        char unit[32];
        double done;
        long resets;
    } counters[WP_WORK_MAX_COUNTERS];
    char endpoint[256]; /* its URL, without credentials; "" for none */
    long scrapes, failed;
};

/* Whether v[0..n) names a unit: 1 to 31 letters, digits, '_' and '-'. */
bool wp_work_unit_valid(const char *v, size_t n);

/* Applies one line (without its newline) at run time t_s. Returns 0, or
 * -EINVAL when the line is malformed (then nothing of it is applied). */
int wp_progress_line(struct wp_work *w, const char *line, size_t len, double t_s);

struct wp_progress;

/* Creates the progress file in a private temporary directory; the first
 * malformed line is reported through diag (NULL: not at all). Returns 0 and
 * *out, whose path wp_progress_path gives, or a negative errno. */
int wp_progress_open(struct wp_progress **out, const struct wp_diag *diag);
const char *wp_progress_path(const struct wp_progress *p);

/* Notes the command's pid beside the file: a later wattprint that finds this
 * one dead leaves the file while the command runs. */
void wp_progress_command(const struct wp_progress *p, long pid);

/* A descriptor that becomes readable when the file is written (inotify,
 * made on the first call), to poll() on; -1 when there is none (then poll on
 * a clock). Drain it before reading the file. Closing an inotify watch waits
 * for the kernel's grace period (0.1 to 20 ms): a short command's watcher
 * polls on a clock instead and never asks for one. */
int wp_progress_watch(struct wp_progress *p);
void wp_progress_notify_drain(struct wp_progress *p);

/* More than this since the last poll is a flood: only the last complete line
 * is read. */
#define WP_PROGRESS_TAIL (64 * 1024)

/* Reads what was appended since the last poll and applies each complete line
 * to w (in a flood, the last complete line only). Malformed or oversized
 * lines are ignored; the first one is reported. Returns the bytes that had
 * arrived since the last poll: above WP_PROGRESS_TAIL, poll again soon. */
long wp_progress_poll(struct wp_progress *p, struct wp_work *w, double t_s);

/* Removes the file and its directory and frees p. */
void wp_progress_close(struct wp_progress *p);

/* Predictions from the rate observed so far, linear in work: what the whole
 * job (total units) costs if the rest runs as the part done did. Return false
 * when no prediction can be made (no total, or no work done yet). */
bool wp_work_predict(const struct wp_work *w, double energy_j, double elapsed_s,
                     double *energy_total_j, double *duration_total_s);

#endif
