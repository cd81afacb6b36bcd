/* The manufacturing footprint per device-hour. BLOOM's life-cycle
 * assessment (Luccioni, Viguier and Ligozat 2023) is the one published
 * account that gives both an accelerator's and its server's: 150 kg CO2e per
 * A100 GPU and 2,500 kg per HPE Apollo 6500 Gen10 Plus server (8 GPUs), over
 * 6 years at 85 % use; BLOOM's 1,082,990 GPU-hours then carry its published
 * 11.2 t (tests/cli/test_embodied.py). Other accelerators are taken alike:
 * no vendor publishes a comparable figure for each (labelled). */
#include "embodied.h"

#define GPU_KG        150.0
#define SERVER_KG     2500.0
#define SERVER_DEVICE 8.0

const char wp_embodied_source[] =
    "estimated: 150 kg CO2e per accelerator and 2,500 kg per 8-accelerator server (Luccioni et "
    "al. 2023, BLOOM's A100 and server; other accelerators assumed alike), over their service "
    "life at 85 % use";

double wp_embodied_g_per_device_hour(double lifetime_years)
{
    double years = lifetime_years > 0 ? lifetime_years : WP_EMBODIED_LIFETIME_YEARS;
    return (GPU_KG + SERVER_KG / SERVER_DEVICE) * 1000.0 /
           (years * 365.0 * 24.0 * WP_EMBODIED_UTILISATION);
}
