/* What wattprint's own embedders (the Slurm plugin, linked with the core)
 * may ask of a handle beyond the public API; not exported from
 * libwattprint.so. */
#ifndef WP_LIB_INT_H
#define WP_LIB_INT_H

#include "wattprint.h"

/* Files the run under user (the job's owner, where the process measuring it
 * runs as someone else) instead of the process's own. Before
 * wattprint_start; WATTPRINT_ESTATE after it, WATTPRINT_EINVAL for a name
 * too long. */
int wp_lib_run_as(wattprint_meter *m, const char *user);

#endif
