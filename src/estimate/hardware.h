/* The hardware table: accelerators (data/accelerators.csv) with their TDP and
 * peak FLOP/s, CPUs (data/cpu_tdp.csv) with their TDP, and the model FLOPs
 * utilisation published for each generation (data/mfu.csv). */
#ifndef WP_HARDWARE_H
#define WP_HARDWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct wp_hardware {
    char name[64];
    char vendor[16];   /* "nvidia", "google", "amd", "cpu" */
    double tdp_w;      /* 0 if unknown */
    double peak_flops; /* dense BF16/FP16 FLOP/s; 0 if unknown (CPUs) */
    double mfu;        /* published utilisation for its generation */
    char mfu_source[192];
    char source[192];
};

/* Finds hardware by name, case-insensitively: an exact name, a family that
 * names its common variant (V100 -> V100-SXM2, A100 -> A100-SXM4-80GB,
 * H100 -> H100-SXM5-80GB), or a CPU model. Returns 0, or -ENOENT with up to
 * three nearest names in suggest. */
int wp_hardware_find(const char *name, struct wp_hardware *out, char *suggest, size_t cap);

/* Prints the table (wattprint hardware). */
void wp_hardware_print(FILE *f);

#endif
