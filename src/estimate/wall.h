/* Beyond the accelerators: their average draw while training (not their
 * TDP), and the whole server at the wall (host CPUs, memory, NICs, fans,
 * power-supply losses) as a ratio to the accelerators' energy. Both from
 * published measurements, cited in docs/methodology.md. */
#ifndef WP_WALL_H
#define WP_WALL_H

#include "hardware.h"

#include <stdbool.h>

/* A central figure and the band around it. */
struct wp_band {
    double mid, lo, hi;
};

/* Where the whole server's figure comes from. */
enum wp_wall_from {
    WP_WALL_HOST_MODEL,   /* the accelerators x (1 + host ratio) */
    WP_WALL_SYSTEM_POWER, /* the power figure is already the system's per accelerator (TPUs) */
    WP_WALL_TOTAL_POWER,  /* --power-total: the whole system, given */
    WP_WALL_NONE,         /* a CPU: no model of the server around it */
};

/* The accelerators' average draw while training, as a share of their TDP:
 * Dodge et al. 2022 (A100, measured) at the centre; the band's ends are
 * judgement around it within Morrison et al. 2025's 15-85 % swings. */
struct wp_band wp_wall_train_draw(void);

/* Host energy per joule of the accelerators: Elsworth et al. 2025 (serving)
 * and Latif et al. 2025 (training) measured; the top is the non-accelerator
 * share of an 8 x H100 system's rated power. */
struct wp_band wp_wall_host_ratio(void);

/* Training on an accelerator that draws a share of its TDP: the host as a
 * share of the accelerators' rated power, which their lower average draw does
 * not shrink (Latif et al. 2025 at the centre). */
struct wp_band wp_wall_train_host_of_rating(void);

/* The hardware is an accelerator whose power figure is of the device alone
 * (a TDP or a power limit), so the training draw and the host ratio apply;
 * else it is a measured or derived system power per accelerator (TPUs), or
 * a CPU, which neither was measured on. */
bool wp_wall_device_figure(const struct wp_hardware *hw);

/* v with its band [v_lo, v_hi] times the factor f: the centre v x f.mid, the
 * ends the two relative spreads added in quadrature in log space (independent
 * uncertainties). */
struct wp_band wp_band_times(double v, double v_lo, double v_hi, struct wp_band f);

#endif
