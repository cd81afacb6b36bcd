/* libwattprint: measure the energy and carbon of code from inside it.
 *
 *   wattprint_meter *m;
 *   wattprint_options o = WATTPRINT_OPTIONS_INIT;
 *   wattprint_result epoch = WATTPRINT_RESULT_INIT, total = WATTPRINT_RESULT_INIT;
 *   o.region = "FR";
 *   o.project = "demo";
 *   if (wattprint_open(&o, &m) == WATTPRINT_OK) {
 *       wattprint_start(m);
 *       wattprint_window_begin(m, "epoch-1");
 *       ... work ...
 *       wattprint_add_work(m, 4096, "tokens");
 *       wattprint_window_end(m, "epoch-1", &epoch);
 *       wattprint_stop(m);
 *       wattprint_read(m, &total);
 *       wattprint_close(m);
 *   }
 *
 * Every function returns WATTPRINT_OK (0) or a negative WATTPRINT_E* code;
 * wattprint_last_error() then describes the failure for the calling thread.
 * A handle may be used from several threads, closed from any of them (a
 * closed handle answers WATTPRINT_ESTATE). Numbers are read and written in
 * the C locale whatever the host set. Strings the library returns through
 * char ** are the caller's, freed with wattprint_free. The library prints
 * nothing: its warnings go to the function set with wattprint_set_log.
 *
 * ABI (soname libwattprint.so.1): structs the caller allocates begin with
 * struct_size, set by their _INIT initialisers; a later version only adds
 * fields at their end, and reads a smaller (older) struct's missing fields
 * as 0. Removing or reordering a field, or changing a function's
 * signature, takes a new soname. */
#ifndef WATTPRINT_H
#define WATTPRINT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WATTPRINT_API __attribute__((visibility("default")))
#else
#define WATTPRINT_API
#endif

#define WATTPRINT_OK      0
#define WATTPRINT_EINVAL  -1 /* a bad argument or option value */
#define WATTPRINT_ESTATE  -2 /* not now: started twice, stopped before starting, closed */
#define WATTPRINT_ENOENT  -3 /* no such window, region or hardware */
#define WATTPRINT_ENOMEM  -4
#define WATTPRINT_ESENSOR -5 /* require_measured, and no counter could be read */

typedef struct wattprint_meter wattprint_meter;

/* Zeroed fields take their defaults. Initialise with WATTPRINT_OPTIONS_INIT
 * (struct_size 0 is refused: WATTPRINT_EINVAL). */
typedef struct wattprint_options {
    size_t struct_size;           /* sizeof(wattprint_options) as the caller compiled it */
    double interval_s;            /* seconds between samples; 0: 1 s */
    const char *region;           /* "FR", "gcp:europe-west1"; NULL: $WATTPRINT_REGION,
                                     else the world average */
    double intensity_g_per_kwh;   /* 0: the region's */
    double pue;                   /* 0: the provider's, else 1.0 */
    const char *provider;         /* PUE preset: "aws", "gcp", "onprem", ... */
    const char *ledger;           /* NULL: the default ledger; "": record nothing */
    const char *project, *experiment, *job;
    const char *const *tags;      /* NULL-terminated "KEY=VALUE" strings, or NULL */
    const char *name;             /* recorded as the run's command; NULL: "libwattprint" */
    const char *gpus;             /* "visible" (NULL), "all", "none", or indices/UUIDs */
    int require_measured;         /* non-zero: fail rather than estimate */
    const char *sensors;          /* only these backends, comma-separated ("rapl,nvml");
                                     NULL: all */
    int attribute_process;        /* non-zero: count only this process's share (its
                                     threads and children) of the CPU, DRAM and GPUs,
                                     beside the whole machine's */
} wattprint_options;

#define WATTPRINT_OPTIONS_INIT {.struct_size = sizeof(wattprint_options)}

/* Energy in joules, over a whole run or one window. Initialise with
 * WATTPRINT_RESULT_INIT: the library fills only the fields struct_size
 * covers. */
typedef struct wattprint_result {
    size_t struct_size;           /* sizeof(wattprint_result) as the caller compiled it */
    double duration_s;
    double energy_j;              /* cpu + dram + gpu */
    double cpu_j, dram_j, gpu_j;
    double psys_j;                /* apart (overlaps the packages); 0 when absent */
    double facility_energy_j;     /* x PUE */
    double emissions_g;           /* x grid intensity */
    double work_done;             /* units added (within the window, for windows) */
    int estimated;                /* non-zero when any channel is estimated */
} wattprint_result;

#define WATTPRINT_RESULT_INIT {.struct_size = sizeof(wattprint_result)}

/* Warnings (a counter that stopped reading, a ledger that cannot record a
 * run) as one line each, without a trailing newline; level is
 * WATTPRINT_LOG_WARNING or WATTPRINT_LOG_NOTE. */
#define WATTPRINT_LOG_WARNING 30
#define WATTPRINT_LOG_NOTE    20
typedef void (*wattprint_log_fn)(int level, const char *message, void *user);

/* Where warnings go, for every handle, from any thread (the function must be
 * safe to call from the library's own threads); NULL: nowhere (the
 * default). wattprint_log_stderr writes "wattprint: MESSAGE" lines to
 * stderr, for hosts that want that. */
WATTPRINT_API void wattprint_set_log(wattprint_log_fn fn, void *user);
WATTPRINT_API void wattprint_log_stderr(int level, const char *message, void *user);

/* Opens the sensors and resolves region and PUE. On success *out is a handle
 * to close with wattprint_close. Returns WATTPRINT_EINVAL (bad option),
 * WATTPRINT_ENOENT (unknown region), WATTPRINT_ESENSOR or WATTPRINT_ENOMEM. */
WATTPRINT_API int wattprint_open(const wattprint_options *opts, wattprint_meter **out);

/* Takes the baseline reading and starts sampling; records the run in the
 * ledger as running. WATTPRINT_ESTATE if already started. */
WATTPRINT_API int wattprint_start(wattprint_meter *m);

/* Opens a named window (windows may nest or overlap). WATTPRINT_EINVAL for an
 * empty name or one already open; WATTPRINT_ESTATE if not running. */
WATTPRINT_API int wattprint_window_begin(wattprint_meter *m, const char *name);

/* Closes a window and fills *out (out may be NULL). WATTPRINT_ENOENT if no
 * window of that name is open. */
WATTPRINT_API int wattprint_window_end(wattprint_meter *m, const char *name,
                                       wattprint_result *out);

/* A closed window's result as JSON; *json is freed with wattprint_free.
 * WATTPRINT_ENOENT if no closed window has that name. */
WATTPRINT_API int wattprint_window_json(wattprint_meter *m, const char *name, char **json);

/* Adds units of work (tokens, samples, ...); unit may be NULL to keep the
 * current one (default "steps"). WATTPRINT_EINVAL for a negative or
 * non-finite amount, or a unit that changes mid-run. */
WATTPRINT_API int wattprint_add_work(wattprint_meter *m, double units, const char *unit);

/* Takes the final reading and records the run. WATTPRINT_ESTATE if not
 * running. */
WATTPRINT_API int wattprint_stop(wattprint_meter *m);

/* The run so far (while running) or in full (after stop). */
WATTPRINT_API int wattprint_read(wattprint_meter *m, wattprint_result *out);

/* The run as `wattprint run --json` writes it; *json freed with wattprint_free. */
WATTPRINT_API int wattprint_json(wattprint_meter *m, char **json);

/* Stops the meter if running and frees it. Any later call with the same
 * pointer returns WATTPRINT_ESTATE; closing NULL does nothing. */
WATTPRINT_API void wattprint_close(wattprint_meter *m);

WATTPRINT_API void wattprint_free(void *p);

/* A run JSON (wattprint_json's, or a stored run's) as CodeCarbon's
 * emissions.csv: with header NULL or "", CodeCarbon 3.x's header line and
 * the row; else only the row, its fields in the order of header (an existing
 * file's first line), which must hold CodeCarbon 3.x's columns
 * (WATTPRINT_EINVAL otherwise). *csv is freed with wattprint_free. */
WATTPRINT_API int wattprint_codecarbon_csv(const char *run_json, const char *header, char **csv);

/* What went wrong in this thread's last failed call ("" if none). */
WATTPRINT_API const char *wattprint_last_error(void);

WATTPRINT_API const char *wattprint_strerror(int code);
WATTPRINT_API const char *wattprint_version(void);

#ifdef __cplusplus
}
#endif

#endif
