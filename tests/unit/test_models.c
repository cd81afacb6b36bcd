/* The power models, checked at their defining points and, for the CPU, on
 * the held-out published measurements. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/csv.h"
#include "sensors/power_models.h"

static void fitted_cpu_curve(void **state)
{
    (void)state;
    /* At 16 threads a socket, the full-load share as fitted. */
    assert_float_equal(wp_cpu_tdp_factor(0.0, 16), WP_CPU_IDLE_OF_TDP, 1e-12);
    assert_float_equal(wp_cpu_tdp_factor(1.0, 16), 0.82, 1e-12);
    assert_float_equal(wp_cpu_tdp_factor(0.5, 16), 0.13 + 0.69 * pow(0.5, 0.75), 1e-12);
    /* 8 threads a socket: 0.82 x (8/16)^0.75 = 0.4876; fewer count as 8. */
    assert_float_equal(wp_cpu_full_of_tdp(8), 0.82 * pow(0.5, 0.75), 1e-12);
    assert_float_equal(wp_cpu_full_of_tdp(4), wp_cpu_full_of_tdp(8), 0);
    assert_float_equal(wp_cpu_full_of_tdp(NAN), wp_cpu_full_of_tdp(8), 0);
    assert_float_equal(wp_cpu_tdp_factor(0.25, 2),
                       0.13 + (0.82 * pow(0.5, 0.75) - 0.13) * pow(0.25, 0.75), 1e-12);
    /* 24 threads: 0.82 x 1.5^0.75 = 1.111, under the cap; 48 and 256: the cap. */
    assert_float_equal(wp_cpu_full_of_tdp(24), 0.82 * pow(1.5, 0.75), 1e-12);
    assert_float_equal(wp_cpu_full_of_tdp(48), 1.15, 0);
    assert_float_equal(wp_cpu_tdp_factor(1.0, 256), 1.15, 0);
    /* Utilisation outside [0, 1] is held to it. */
    assert_float_equal(wp_cpu_tdp_factor(-1, 16), WP_CPU_IDLE_OF_TDP, 0);
    assert_float_equal(wp_cpu_tdp_factor(2, 16), 0.82, 1e-12);
    assert_float_equal(wp_cpu_tdp_factor(NAN, 16), WP_CPU_IDLE_OF_TDP, 0);
}

static double median(double *v, int n)
{
    for (int i = 0; i < n; i++) /* insertion sort: a few dozen values */
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The shipped curve on the CPUs held out of its fit: the error
 * docs/methodology.md claims (median 23.0 % over 7 CPUs, none of them above
 * 40 %; the curve without the threads term had 27.5 % and one above). */
static void cpu_curve_on_held_out_profiles(void **state)
{
    static char buf[1 << 17];
    struct wp_csv h, r;
    double all[512], each[8][64];
    char names[8][64];
    int above = 0;
    int n_all = 0, n_cpu = 0, n_each[8] = {0};
    FILE *f = fopen(WP_SOURCE_DIR "/data/cpu_load_profiles.csv", "r");
    size_t len;

    (void)state;
    assert_non_null(f);
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    wp_csv_init(&h, buf, len);
    assert_int_equal(wp_csv_next(&h), 1);
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) {
        const char *cpu = wp_csv_get(&h, &r, "cpu");
        double tdp = atof(wp_csv_get(&h, &r, "tdp_w")) * atoi(wp_csv_get(&h, &r, "sockets"));
        double n = atof(wp_csv_get(&h, &r, "threads")) / atoi(wp_csv_get(&h, &r, "sockets"));
        double est = tdp * wp_cpu_tdp_factor(atof(wp_csv_get(&h, &r, "utilisation")), n);
        double err = fabs(est - atof(wp_csv_get(&h, &r, "measured_w"))) /
                     atof(wp_csv_get(&h, &r, "measured_w"));
        int k = 0;
        if (strcmp(wp_csv_get(&h, &r, "role"), "holdout") != 0)
            continue;
        while (k < n_cpu && strcmp(names[k], cpu) != 0)
            k++;
        if (k == n_cpu)
            snprintf(names[n_cpu++], sizeof names[0], "%s", cpu);
        each[k][n_each[k]++] = err;
        all[n_all++] = err;
    }
    assert_int_equal(n_cpu, 7);
    assert_int_equal(n_all, 97);
    assert_true(median(all, n_all) <= 0.2305);
    for (int k = 0; k < n_cpu; k++)
        above += median(each[k], n_each[k]) > 0.40;
    assert_int_equal(above, 0);
}

static void dimm_power_and_range(void **state)
{
    double lo, hi;

    (void)state;
    assert_float_equal(wp_dimm_power_w(4, 0), 4 * WP_DIMM_IDLE_W, 1e-12);
    assert_float_equal(wp_dimm_power_w(4, 1), 4 * WP_DIMM_ACTIVE_W, 1e-12);
    assert_float_equal(wp_dimm_power_w(0.5, 0.5), 0.5 * (0.5 + 2.5 * 0.5), 1e-12);
    wp_dimm_power_range_w(2, 1, &lo, &hi);
    assert_float_equal(lo, 2 * WP_DIMM_IDLE_LO_W, 1e-12);
    assert_float_equal(hi, 2 * WP_DIMM_ACTIVE_HI_W, 1e-12);
}

static void dimms_guessed_from_size(void **state)
{
    int size;

    (void)state;
    assert_int_equal(wp_dimms_guess(15.5, 1, &size), 2); /* 16 GB: 2 x 8 */
    assert_int_equal(size, 8);
    assert_int_equal(wp_dimms_guess(4, 1, &size), 2);     /* at least two */
    assert_int_equal(wp_dimms_guess(125.8, 1, &size), 8); /* 128 GB: 8 x 16 */
    assert_int_equal(size, 16);
    assert_int_equal(wp_dimms_guess(2040, 2, &size), 16); /* 2 TB: 16 x 128 */
    assert_int_equal(size, 128);
    assert_int_equal(wp_dimms_guess(16000, 1, &size), 63); /* capped at 256 GB modules */
    assert_int_equal(size, 256);
}

static void ccf_per_thread(void **state)
{
    (void)state;
    assert_float_equal(wp_ccf_cpu_power_w(1, 0), 0.74, 1e-12);
    assert_float_equal(wp_ccf_cpu_power_w(1, 1), 3.5, 1e-12);
    assert_float_equal(wp_ccf_cpu_power_w(4, 0.5), 4 * (0.74 + 0.5 * 2.76), 1e-12);
    assert_float_equal(wp_ccf_cpu_power_w(2, 7), 7.0, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fitted_cpu_curve),     cmocka_unit_test(cpu_curve_on_held_out_profiles),
        cmocka_unit_test(dimm_power_and_range), cmocka_unit_test(dimms_guessed_from_size),
        cmocka_unit_test(ccf_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
