/* Published power models used where no counter can be read. */
#include "power_models.h"

double wp_teads_factor(double u)
{
    static const double x[] = {0.0, 0.1, 0.5, 1.0};
    static const double y[] = {0.12, 0.32, 0.75, 1.02};

    if (!(u > 0.0)) /* also catches NaN */
        return y[0];
    if (u >= 1.0)
        return y[3];
    for (int i = 1; i < 4; i++)
        if (u <= x[i])
            return y[i - 1] + (y[i] - y[i - 1]) * (u - x[i - 1]) / (x[i] - x[i - 1]);
    return y[3];
}

double wp_ccf_cpu_power_w(int n_threads, double u)
{
    if (!(u > 0.0))
        u = 0.0;
    if (u > 1.0)
        u = 1.0;
    return n_threads *
           (WP_CCF_MIN_W_PER_VCPU + u * (WP_CCF_MAX_W_PER_VCPU - WP_CCF_MIN_W_PER_VCPU));
}
