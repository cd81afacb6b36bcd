/* The serving model's two regimes against hand-computed cases, and the
 * calibrated MFU's shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "estimate/calibrate.h"
#include "estimate/serving.h"

static const struct wp_serve_consts consts = {0.5, 0.5, 0.9, 0.5, 1, 1, 0, ""};

static struct wp_serve_in llama7b(double batch)
{
    struct wp_serve_in in = {0};
    assert_int_equal(wp_hardware_find("A100-80GB", &in.hw, NULL, 0), 0);
    in.params = 7e9;
    in.layers = 32;
    in.hidden = 4096;
    in.kv_dim = 4096;
    in.count = 1;
    in.batch = batch;
    in.precision = WP_FP16;
    in.input_tokens = 0;
    in.output_tokens = 1;
    return in;
}

static void batch_one_is_memory_bound(void **state)
{
    struct wp_serve_in in = llama7b(1);
    struct wp_serve_out o;
    char err[256];
    double kv = 2.0 * 32 * 4096 * 2, t_mem = (14e9 + 0.5 * kv) / (2039e9 * 0.5);
    double t_comp = (2 * 7e9 + 4.0 * 32 * 0.5 * 4096) / (312e12 * 0.5);
    double watts = 400 * (0.5 + 0.4 * t_comp / t_mem);
    (void)state;
    assert_int_equal(wp_serve_model(&in, &consts, &o, err, sizeof err), 0);
    assert_true(o.memory_bound);
    assert_float_equal(o.step_s, t_mem, 1e-9);
    assert_float_equal(o.power_w_per_device, watts, 1e-6);
    assert_float_equal(o.energy_per_token_j, watts * t_mem, 1e-6);
}

static void batch_256_is_compute_bound(void **state)
{
    struct wp_serve_in in = llama7b(256);
    struct wp_serve_out o;
    char err[256];
    double t_comp = 256 * (2 * 7e9 + 4.0 * 32 * 0.5 * 4096) / (312e12 * 0.5);
    (void)state;
    assert_int_equal(wp_serve_model(&in, &consts, &o, err, sizeof err), 0);
    assert_false(o.memory_bound);
    assert_float_equal(o.step_s, t_comp, 1e-9);
    assert_float_equal(o.energy_per_token_j, 400 * 0.9 * t_comp / 256, 1e-9);
}

static void int4_and_fitting(void **state)
{
    struct wp_serve_in in = llama7b(1);
    struct wp_serve_out fp16, int4;
    char err[256];
    (void)state;
    assert_int_equal(wp_serve_model(&in, &consts, &fp16, err, sizeof err), 0);
    in.precision = WP_INT4;
    assert_int_equal(wp_serve_model(&in, &consts, &int4, err, sizeof err), 0);
    assert_true(int4.energy_per_token_j < 0.5 * fp16.energy_per_token_j);
    in.params = 70e9;
    in.precision = WP_FP16;
    assert_int_equal(wp_serve_model(&in, &consts, &fp16, err, sizeof err), -E2BIG);
    assert_non_null(strstr(err, "do not fit"));
    in.count = 4;
    assert_int_equal(wp_serve_model(&in, &consts, &fp16, err, sizeof err), 0);
}

static void calibrated_mfu(void **state)
{
    struct wp_hardware h100, b200;
    struct wp_mfu_fit small, big;
    (void)state;
    assert_int_equal(wp_hardware_find("H100", &h100, NULL, 0), 0);
    assert_int_equal(wp_mfu_calibrated(&h100, 8e9, &small), 0);
    assert_int_equal(wp_mfu_calibrated(&h100, 400e9, &big), 0);
    assert_true(small.mfu < big.mfu); /* small models achieve less on H100 */
    assert_true(small.mfu_lo < small.mfu && small.mfu < small.mfu_hi);
    assert_false(small.borrowed);
    assert_non_null(strstr(small.ids, "Llama-3.1-405B"));
    assert_null(strstr(small.ids, "Llama-3.1-70B")); /* held out */
    assert_int_equal(wp_hardware_find("B200", &b200, NULL, 0), 0);
    assert_int_equal(wp_mfu_calibrated(&b200, 8e9, &big), 0);
    assert_true(big.borrowed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_one_is_memory_bound),
        cmocka_unit_test(batch_256_is_compute_bound),
        cmocka_unit_test(int4_and_fitting),
        cmocka_unit_test(calibrated_mfu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
