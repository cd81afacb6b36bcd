/* Published and fitted power models used where no counter can be read. */
#include "power_models.h"

#include <math.h>

static double clamp01(double u)
{
    if (!(u > 0.0)) /* also catches NaN */
        return 0.0;
    return u > 1.0 ? 1.0 : u;
}

double wp_cpu_full_of_tdp(double threads_per_socket)
{
    double n = threads_per_socket > WP_CPU_THREADS_MIN ? threads_per_socket : WP_CPU_THREADS_MIN;
    double full = WP_CPU_FULL_OF_TDP * pow(n / WP_CPU_THREADS_REF, WP_CPU_THREADS_EXP);

    /* NaN falls to the fewest threads above; past the cap, a large part is
     * held at its power limit rather than the curve extrapolated. */
    return full < WP_CPU_FULL_OF_TDP_MAX ? full : WP_CPU_FULL_OF_TDP_MAX;
}

double wp_cpu_tdp_factor(double u, double threads_per_socket)
{
    return WP_CPU_IDLE_OF_TDP + (wp_cpu_full_of_tdp(threads_per_socket) - WP_CPU_IDLE_OF_TDP) *
                                    pow(clamp01(u), WP_CPU_CURVE_EXP);
}

double wp_ccf_cpu_power_w(int n_threads, double u)
{
    return n_threads *
           (WP_CCF_MIN_W_PER_VCPU + clamp01(u) * (WP_CCF_MAX_W_PER_VCPU - WP_CCF_MIN_W_PER_VCPU));
}

double wp_dimm_power_w(double n, double activity)
{
    return n * (WP_DIMM_IDLE_W + (WP_DIMM_ACTIVE_W - WP_DIMM_IDLE_W) * clamp01(activity));
}

void wp_dimm_power_range_w(double n, double u, double *lo, double *hi)
{
    *lo = n * WP_DIMM_IDLE_LO_W;
    *hi = n * (WP_DIMM_IDLE_HI_W + (WP_DIMM_ACTIVE_HI_W - WP_DIMM_IDLE_HI_W) * clamp01(u));
}

int wp_dimms_guess(double installed_gb, int sockets, int *module_gb)
{
    int max_modules = 8 * (sockets > 0 ? sockets : 1), size = 8;

    while (size < 256 && installed_gb / size > max_modules)
        size *= 2;
    *module_gb = size;
    int n = (int)ceil(installed_gb / size - 0.05); /* MemTotal is a little below the DIMMs' sum */
    return n < 2 ? 2 : n;
}
