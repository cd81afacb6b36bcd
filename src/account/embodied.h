/* Embodied emissions: the carbon of making the hardware, amortised over its
 * service life, for the share of it a run or an estimate uses. */
#ifndef WP_EMBODIED_H
#define WP_EMBODIED_H

/* Luccioni et al. 2023 (BLOOM, section 4.1): 6 years of service at 85 %
 * use. */
#define WP_EMBODIED_LIFETIME_YEARS 6.0
#define WP_EMBODIED_UTILISATION    0.85

/* Grams of CO2e per device-hour of an accelerator with its share of the
 * server (an 8-accelerator server's host), over lifetime_years of service
 * at WP_EMBODIED_UTILISATION. */
double wp_embodied_g_per_device_hour(double lifetime_years);

/* Where the figures come from, in words, for the output. */
extern const char wp_embodied_source[];

#endif
