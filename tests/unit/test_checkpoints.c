/* The spacing of a run's checkpoints: by default the gap doubles from the
 * tick interval to a minute; what --checkpoint asks for is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "ledger/recorder.h"

/* Ticks every 5 s for 600 s: the times of the checkpoints written. */
static int written(double max, double *at, int cap)
{
    double gap = 0, next = 0;
    int n = 0;
    for (double t = 5; t <= 600; t += 5)
        if (wp_checkpoint_due(t, 5, max, &gap, &next) && n < cap)
            at[n++] = t;
    return n;
}

static void the_gap_doubles_to_a_minute(void **state)
{
    static const double want[] = {5, 10, 20, 40, 80, 140, 200, 260, 320, 380, 440, 500, 560};
    double at[200];
    int n = written(60, at, 200);
    (void)state;
    assert_int_equal(n, sizeof want / sizeof *want);
    for (int i = 0; i < n; i++)
        assert_float_equal(at[i], want[i], 1e-9);
}

static void a_gap_asked_for_is_kept(void **state)
{
    double at[200];
    (void)state;
    assert_int_equal(written(0, at, 200), 120); /* every tick: 600 s / 5 s */
    assert_int_equal(written(5, at, 200), 120);
}

static void late_ticks_are_not_lost(void **state)
{
    double gap = 0, next = 0;
    (void)state;
    assert_true(wp_checkpoint_due(5, 5, 60, &gap, &next));
    /* a tick a little early (the sampler's clock) counts as the due one */
    assert_true(wp_checkpoint_due(9.8, 5, 60, &gap, &next));
    assert_float_equal(gap, 10, 1e-9);
    assert_false(wp_checkpoint_due(15, 5, 60, &gap, &next));
    assert_true(wp_checkpoint_due(40, 5, 60, &gap, &next)); /* late: written, then 20 more */
    assert_float_equal(next, 60, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_gap_doubles_to_a_minute),
        cmocka_unit_test(a_gap_asked_for_is_kept),
        cmocka_unit_test(late_ticks_are_not_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
