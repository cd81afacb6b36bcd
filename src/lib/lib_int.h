/* What libwattprint's files share, and what wattprint's own embedders (the
 * Slurm plugin, linked with the core) may ask of a handle beyond the public
 * API. Nothing here is exported from libwattprint.so. */
#ifndef WP_LIB_INT_H
#define WP_LIB_INT_H

#include "wattprint.h"

#include "../util/diag.h"

/* Sets the calling thread's last error (wattprint_last_error) and returns
 * code. */
int wp_lib_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every public call runs in the C locale, whatever the host set (a strtod
 * under de_DE reads "56.04" as 56): enter switches the calling thread to it,
 * leave gives the host's back. They nest. */
void wp_lib_enter(void);
void wp_lib_leave(void);

/* Warnings from below, to the host's wattprint_set_log function. */
extern const struct wp_diag wp_lib_diag;

/* Files the run under user (the job's owner, where the process measuring it
 * runs as someone else) instead of the process's own. Before
 * wattprint_start; WATTPRINT_ESTATE after it, WATTPRINT_EINVAL for a name
 * too long. */
int wp_lib_run_as(wattprint_meter *m, const char *user);

#endif
