/* The published power models, checked at their defining points. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sensors/power_models.h"

static void teads_points_and_interpolation(void **state)
{
    (void)state;
    assert_float_equal(wp_teads_factor(0.0), 0.12, 1e-12);
    assert_float_equal(wp_teads_factor(0.1), 0.32, 1e-12);
    assert_float_equal(wp_teads_factor(0.5), 0.75, 1e-12);
    assert_float_equal(wp_teads_factor(1.0), 1.02, 1e-12);
    assert_float_equal(wp_teads_factor(0.05), 0.22, 1e-12);
    assert_float_equal(wp_teads_factor(0.75), 0.885, 1e-12);
    assert_float_equal(wp_teads_factor(-1), 0.12, 0);
    assert_float_equal(wp_teads_factor(2), 1.02, 0);
    assert_float_equal(wp_teads_factor(NAN), 0.12, 0);
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
        cmocka_unit_test(teads_points_and_interpolation),
        cmocka_unit_test(ccf_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
