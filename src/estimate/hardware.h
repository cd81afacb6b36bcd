/* The hardware table: accelerators (data/accelerators.csv) with their power
 * figure, peak dense FLOP/s per precision, memory and bandwidth, and CPUs
 * (data/cpu_tdp.csv) with their TDP. */
#ifndef WP_HARDWARE_H
#define WP_HARDWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct wp_hardware {
    char name[64];
    char family[32];
    char vendor[16];       /* "nvidia", "amd", "intel", "google", "cpu" */
    char generation[16];   /* "ampere", "hopper", "tpuv4", ... */
    char calibrate_as[16]; /* the generation whose published runs calibrate it */
    double tdp_w;          /* the power figure; 0 if unknown */
    char power_kind[32];   /* "TDP", "measured average", "assumed", ... */
    double peak_flops;     /* dense BF16/FP16 FLOP/s; 0 if unknown (CPUs) */
    double peak_fp8_flops, peak_fp4_flops, peak_int8_ops, peak_fp32_flops; /* 0: none */
    double memory_bytes, memory_bw_bytes_s;
    char source[192];
    double per_unit; /* devices in the unit the name named: 8 for "DGX H100", else 1 */
    char unit[64];   /* that unit's name as given ("DGX H100"), "" for a device */
};

/* Finds hardware by name, case-insensitively and ignoring spaces, '-' and
 * '_': an exact name, one of its aliases (A100-80GB, H100-PCIe, TPUv5p), a
 * family that names its common variant (H100 -> H100-SXM5-80GB), or a CPU
 * model; else the name as publications write it, normalised
 * (wp_hardware_normalise): vendor words, memory kinds and "80G" for "80GB",
 * and systems ("DGX H100", "8x A100") as their device with out->per_unit
 * devices per unit. Returns 0, or -ENOENT with suggestions in suggest: the
 * variants of the family the name starts with, else the nearest family names. */
int wp_hardware_find(const char *name, struct wp_hardware *out, char *suggest, size_t cap);

/* name as a device name ("NVIDIA H100 80GB HBM3" -> "H100-80GB", "A100-80G"
 * -> "A100-80GB", "DGX H100" -> "H100" with 8 per unit, "8x A100" -> "A100"
 * with 8). Returns the devices per unit (1 for a device). */
double wp_hardware_normalise(const char *name, char *out, size_t cap);

/* Calls fn for every accelerator in the table, in its order. */
void wp_hardware_each(void (*fn)(const struct wp_hardware *hw, void *arg), void *arg);

/* Prints the table (wattprint hardware). */
void wp_hardware_print(FILE *f);

#endif
