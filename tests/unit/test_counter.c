/* Counter arithmetic: wrap correction and the sampling interval bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "meter/meter.h"
#include "util/util.h"

static void delta_forward(void **state)
{
    (void)state;
    assert_int_equal(wp_counter_delta(100, 250, 1000), 150);
    assert_int_equal(wp_counter_delta(0, 0, 1000), 0);
    assert_int_equal(wp_counter_delta(5, 5, 0), 0);
}

static void delta_wraps_once(void **state)
{
    (void)state;
    /* 900 -> wrap at 1000 -> 100: 100 to the top, 100 after it */
    assert_int_equal(wp_counter_delta(900, 100, 1000), 200);
    /* the real Intel range: 262143328850 uJ */
    assert_int_equal(wp_counter_delta(262143328000ULL, 1000, 262143328850ULL), 1850);
}

static void delta_reset_without_range_counts_nothing(void **state)
{
    (void)state;
    assert_int_equal(wp_counter_delta(900, 100, 0), 0);
    /* a value above the published range is treated as a reset, not a wrap */
    assert_int_equal(wp_counter_delta(2000, 100, 1000), 0);
}

static void delta_full_64_bit(void **state)
{
    (void)state;
    assert_true(wp_counter_delta(0, UINT64_MAX, 0) == UINT64_MAX);
}

static void max_interval_from_range_and_power(void **state)
{
    struct wp_channel ch[2] = {
        {.range_uj = 5000000, .max_power_w = 50},        /* 5 J at 50 W: 0.1 s, halved */
        {.range_uj = 262143328850ULL, .max_power_w = 0}, /* default 1000 W */
    };
    struct wp_sensor s = {.channels = ch, .n_channels = 2};
    struct wp_sensor *list[] = {&s};
    (void)state;
    assert_float_equal(wp_meter_max_interval(list, 1), 0.05, 1e-12);
    s.n_channels = 0;
    assert_float_equal(wp_meter_max_interval(list, 1), 0.0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delta_forward),
        cmocka_unit_test(delta_wraps_once),
        cmocka_unit_test(delta_reset_without_range_counts_nothing),
        cmocka_unit_test(delta_full_64_bit),
        cmocka_unit_test(max_interval_from_range_and_power),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
