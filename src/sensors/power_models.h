/* Published power models used where no counter can be read. Each is cited in
 * docs/methodology.md. */
#ifndef WP_POWER_MODELS_H
#define WP_POWER_MODELS_H

/* Teads/Boavizta CPU curve (Davy 2021): fraction of TDP drawn at utilisation
 * u in [0, 1], linear between (0, 0.12), (0.1, 0.32), (0.5, 0.75), (1, 1.02). */
double wp_teads_factor(double u);

/* Cloud Carbon Footprint per-vCPU model: n threads each drawing
 * 0.74 W + u x (3.5 - 0.74) W (CCF's AWS averages from SPECpower). */
double wp_ccf_cpu_power_w(int n_threads, double u);

/* Memory power per GB of installed RAM (Green Algorithms, Lannelongue et al.
 * 2021): 0.3725 W/GB. */
#define WP_RAM_W_PER_GB 0.3725

#define WP_CCF_MIN_W_PER_VCPU 0.74
#define WP_CCF_MAX_W_PER_VCPU 3.5

#endif
