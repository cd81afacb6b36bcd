/* The spacing of a run's checkpoints (by default the gap doubles from the
 * tick interval to a minute; what --checkpoint asks for is kept), the
 * samples a ledger keeps of a long run, and when the recorder opens it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ledger/ledger_int.h"
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

/* At most WP_LEDGER_SAMPLES, evenly strided, the first and the last always
 * (the energies are cumulative: the totals stay exact). */
static void long_runs_keep_a_strided_sample(void **state)
{
    static const int ns[] = {0, 1, 2, 1024, 1025, 2048, 3602, 4096, 100000};
    (void)state;
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        int n = ns[i], kept, stride = wp_ledger_sample_stride(n, &kept), last = -1;
        assert_true(kept <= WP_LEDGER_SAMPLES && kept <= n);
        assert_int_equal(kept == n, n <= WP_LEDGER_SAMPLES);
        for (int k = 0; k < kept; k++) {
            int at = wp_ledger_sample_at(k, n, stride, kept);
            assert_true(at > last && at < n);
            assert_true(k == kept - 1 || at == k * stride);
            last = at;
        }
        if (n > 0)
            assert_int_equal(last, n - 1);
    }
}

static int no_reading(void *ctx, bool with_samples, struct wp_reading *out)
{
    (void)ctx;
    (void)with_samples;
    memset(out, 0, sizeof *out);
    return 0;
}

/* A recorder told to wait for the command's start opens nothing before it
 * (a server's client library loaded then would hold the loader's lock that
 * the command's start waits on); a command that never started, or ended
 * first, is still recorded by the final write. */
static void the_ledger_waits_for_the_command(void **state)
{
    char dir[] = "/tmp/wp-recorder-XXXXXX", path[64], side[80];
    struct wp_run run = {0};
    struct wp_recorder r = {.read = no_reading, .after_go = true};
    struct stat st;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    snprintf(run.run_id, sizeof run.run_id, "01a23a68-a2f0-7499-b29d-2c20837c581b");
    run.start_wall_s = 1.7e9;
    run.end_wall_s = 1.7e9 + 1;
    run.status = WP_RUN_COMPLETED;
    wp_recorder_open(&r, &run, path, false);
    assert_true(r.started);
    wp_recorder_stop(&r); /* joins the thread: whatever it did is done */
    assert_int_equal(stat(path, &st), -1);
    wp_recorder_finish(&r);
    assert_int_equal(stat(path, &st), 0);
    assert_string_equal(r.recorded_in, path);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_gap_doubles_to_a_minute),
        cmocka_unit_test(a_gap_asked_for_is_kept),
        cmocka_unit_test(late_ticks_are_not_lost),
        cmocka_unit_test(long_runs_keep_a_strided_sample),
        cmocka_unit_test(the_ledger_waits_for_the_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
