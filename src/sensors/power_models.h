/* Published and fitted power models used where no counter can be read. Each
 * is cited, with its validation, in docs/methodology.md. */
#ifndef WP_POWER_MODELS_H
#define WP_POWER_MODELS_H

/* CPU package power as a fraction of TDP at machine-wide utilisation u in
 * [0, 1]: a + (full - a) x u^g. The full-load share grows with the threads a
 * socket runs, full = min(c, b x (n / 16)^k) for n of at least 8 (the fewest
 * the profiles hold): a small part under a stress test stays well below the
 * TDP its turbo headroom is rated for, a large one meets its power limit.
 * a is the fitted CPUs' median measured idle; b, g, k and c keep the worst of
 * them as close as they can; fitted on the published RAPL load profiles of 13
 * of 20 CPUs, the other 7 held out (data/cpu_load_profiles.csv,
 * tools/fit_fallback_models.py). */
#define WP_CPU_IDLE_OF_TDP     0.13
#define WP_CPU_FULL_OF_TDP     0.82 /* at WP_CPU_THREADS_REF threads a socket */
#define WP_CPU_FULL_OF_TDP_MAX 1.15
#define WP_CPU_THREADS_REF     16.0
#define WP_CPU_THREADS_MIN     8.0
#define WP_CPU_THREADS_EXP     0.75
#define WP_CPU_CURVE_EXP       0.75
double wp_cpu_full_of_tdp(double threads_per_socket);
double wp_cpu_tdp_factor(double u, double threads_per_socket);

/* Measured over estimated, 5th and 95th percentiles, each CPU predicted by
 * a fit without it: the range an estimate carries (the rule the training
 * estimator's ranges follow). */
#define WP_CPU_TDP_RANGE_LO 0.63
#define WP_CPU_TDP_RANGE_HI 1.64

/* Cloud Carbon Footprint per-vCPU model: n threads each drawing
 * 0.74 W + u x (3.5 - 0.74) W (CCF's AWS averages from SPECpower). */
double wp_ccf_cpu_power_w(int n_threads, double u);
#define WP_CCF_MIN_W_PER_VCPU 0.74
#define WP_CCF_MAX_W_PER_VCPU 3.5
/* measured over estimated on the same profiles, 5th and 95th percentiles */
#define WP_CCF_RANGE_LO 0.82
#define WP_CCF_RANGE_HI 2.51

/* Memory: power per DIMM, idle (self-refresh and power-down) and under
 * bandwidth-heavy load, with the published spread around each. */
#define WP_DIMM_IDLE_W      0.5
#define WP_DIMM_IDLE_LO_W   0.3
#define WP_DIMM_IDLE_HI_W   0.9
#define WP_DIMM_ACTIVE_W    3.0
#define WP_DIMM_ACTIVE_HI_W 5.3
/* Memory activity per unit of CPU utilisation: half way between a
 * compute-bound job (little DRAM traffic) and a streaming one (all of it). */
#define WP_RAM_ACTIVITY_PER_UTIL 0.5
/* The DIMM a cloud host is assumed to hold, to turn a VM's allocation into a
 * share of DIMMs. */
#define WP_HOST_DIMM_GB 32.0

/* Power of n DIMMs (a share where n is fractional) at activity a in [0, 1]. */
double wp_dimm_power_w(double n, double activity);

/* The range of that power: the low idle figure at no activity, and the high
 * idle figure plus the high active one at the activity utilisation u allows. */
void wp_dimm_power_range_w(double n, double u, double *lo, double *hi);

/* DIMMs a machine of installed_gb holds when they cannot be read: the
 * smallest typical module size (8 to 256 GB) that fills it with at most
 * 8 modules per socket, and at least 2 modules. */
int wp_dimms_guess(double installed_gb, int sockets, int *module_gb);

#endif
