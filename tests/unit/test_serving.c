/* The serving model against hand-computed cases (a dense step, experts a
 * batch touches, memory, beams, 4-bit floats), its constants as bundled,
 * and the calibrated MFU's shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "estimate/calibrate.h"
#include "estimate/estimate.h"
#include "estimate/serving.h"

/* Round numbers, so each case can be computed by hand. */
static const struct wp_serve_consts consts = {
    .bw_fraction = {0.5, 0.4},
    .mfu = {0.5, 0.6},
    .step_s_per_layer = 1e-4,
    .power_low = 0.6,
    .power_high = 0.8,
    .power_batch = 40,
    .kv_traffic = 1.5,
    .hybrid_kv = 0.25,
    .lowp_eff = 0.5,
    .spread_lo = 0.7,
    .spread_hi = 1.6,
};

static struct wp_serve_in llama7b(const char *hw, double batch)
{
    struct wp_serve_in in = {0};
    assert_int_equal(wp_hardware_find(hw, &in.hw, NULL, 0), 0);
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

static double power_w(double tdp, double batch_per_device)
{
    return tdp * (0.6 + 0.2 * (1 - exp(-batch_per_device / 40)));
}

static void a_dense_step(void **state)
{
    struct wp_serve_in in = llama7b("A100-80GB", 4);
    struct wp_serve_out o;
    char err[256];
    double kv = 2.0 * 32 * 4096 * 2, ctx = 0.5;
    double t_mem = (14e9 + 4 * ctx * kv * 1.5) / (2039e9 * 0.5);
    double t_comp = 4 * (2 * 7e9 + 4.0 * 32 * ctx * 4096) / (312e12 * 0.5);
    double step = 32 * 1e-4 + t_mem + t_comp;
    (void)state;
    assert_int_equal(wp_serve_model(&in, &consts, &o, err, sizeof err), 0);
    assert_true(o.memory_bound);
    assert_false(o.generation_fitted); /* Ampere: Hopper's constants */
    assert_float_equal(o.step_s, step, 1e-12);
    assert_float_equal(o.power_w_per_device, power_w(400, 4), 1e-9);
    assert_float_equal(o.energy_per_token_j, power_w(400, 4) * step / 4, 1e-9);
    assert_float_equal(o.tokens_per_s, 4 / step, 1e-6);
    assert_int_equal(o.kv_precision, WP_BF16);
}

static void experts_a_batch_touches(void **state)
{
    struct wp_serve_in in = llama7b("H100", 8);
    struct wp_serve_out o;
    char err[256];
    (void)state;
    in.params = 30e9;
    in.active_params = 3e9; /* a tenth of the weights per token */
    assert_int_equal(wp_serve_model(&in, &consts, &o, err, sizeof err), 0);
    assert_float_equal(o.weight_read_bytes, 2 * 30e9 * (1 - pow(0.9, 8)), 1);
    in.batch = 1;
    assert_int_equal(wp_serve_model(&in, &consts, &o, err, sizeof err), 0);
    assert_float_equal(o.weight_read_bytes, 2 * 3e9, 1);
}

static void memory_refuses_weights_and_caps_the_batch(void **state)
{
    struct wp_serve_in in = llama7b("A100-40GB", 1);
    struct wp_serve_out o;
    char err[256];
    double usable = 0.9 * 40e9, kv = 2.0 * 32 * 4096 * 2;
    (void)state;
    in.params = 70e9;
    assert_int_equal(wp_serve_model(&in, &consts, &o, err, sizeof err), -E2BIG);
    assert_non_null(strstr(err, "weights do not fit"));
    in.params = 7e9;
    in.input_tokens = 4000;
    in.output_tokens = 2000;
    in.batch = 1000; /* 5,000 tokens of 0.5 MB each per sequence: far above */
    assert_int_equal(wp_serve_model(&in, &consts, &o, err, sizeof err), 0);
    assert_true(o.preempts);
    assert_float_equal(o.batch_fits, floor((usable - 14e9) / (5000 * kv)), 1e-9);
    assert_float_equal(o.batch, o.batch_fits, 1e-9);
}

/* 4 beams of 8 queries decode as 32 sequences, and 32 queries of one beam
 * share the same steps among four times the queries. */
static void beams_decode_more_sequences(void **state)
{
    struct wp_serve_in in = llama7b("H100", 8);
    struct wp_serve_out one, four, wide;
    char err[256];
    (void)state;
    in.output_tokens = 100;
    assert_int_equal(wp_serve_model(&in, &consts, &one, err, sizeof err), 0);
    in.beams = 4;
    assert_int_equal(wp_serve_model(&in, &consts, &four, err, sizeof err), 0);
    in.beams = 1;
    in.batch = 32;
    assert_int_equal(wp_serve_model(&in, &consts, &wide, err, sizeof err), 0);
    assert_float_equal(four.step_s, wide.step_s, 1e-15);
    assert_float_equal(four.power_w_per_device, power_w(700, 32), 1e-9);
    assert_float_equal(four.energy_per_query_j, 4 * wide.energy_per_query_j, 1e-9);
    assert_true(four.energy_per_query_j > one.energy_per_query_j);
}

static void fp4_runs_on_blackwell_units_only(void **state)
{
    struct wp_serve_in in = llama7b("B200", 512);
    struct wp_serve_out bf16, fp4, hopper;
    char err[256];
    enum wp_precision p;
    (void)state;
    assert_int_equal(wp_precision_parse("fp4", &p), 0);
    assert_int_equal(p, WP_NVFP4);
    assert_int_equal(wp_serve_model(&in, &consts, &bf16, err, sizeof err), 0);
    in.precision = WP_NVFP4;
    assert_int_equal(wp_serve_model(&in, &consts, &fp4, err, sizeof err), 0);
    assert_true(fp4.generation_fitted);
    assert_string_equal(fp4.peak_kind, "FP4");
    assert_float_equal(fp4.peak_used, 9000e12 * 0.5, 1);
    assert_float_equal(fp4.weight_bytes, 7e9 * 0.5625, 1);
    assert_true(fp4.energy_per_token_j < bf16.energy_per_token_j);
    in = llama7b("H100", 512);
    in.precision = WP_MXFP4;
    assert_int_equal(wp_serve_model(&in, &consts, &hopper, err, sizeof err), 0);
    assert_string_equal(hopper.peak_kind, "BF16/FP16"); /* weight-only on Hopper */
    assert_float_equal(hopper.peak_used, 989.5e12, 1);
}

static void hybrid_models_keep_less_kv(void **state)
{
    struct wp_serve_in in = llama7b("H100", 1);
    struct wp_serve_out dense, hybrid;
    char err[256];
    (void)state;
    assert_int_equal(wp_serve_model(&in, &consts, &dense, err, sizeof err), 0);
    in.hybrid = true;
    assert_int_equal(wp_serve_model(&in, &consts, &hybrid, err, sizeof err), 0);
    assert_float_equal(hybrid.kv_bytes_per_token, 0.25 * dense.kv_bytes_per_token, 1e-9);
}

static void the_bundled_constants(void **state)
{
    struct wp_serve_consts c;
    (void)state;
    assert_int_equal(wp_serve_calibration(&c), 0);
    assert_true(c.rows >= 300);
    assert_true(c.power_low < c.power_high && c.power_high <= 1);
    assert_true(c.spread_lo < 1 && c.spread_hi > 1);
    for (int g = 0; g < 2; g++)
        assert_true(c.bw_fraction[g] > 0 && c.bw_fraction[g] < 1 && c.mfu[g] > 0 && c.mfu[g] < 1);
}

/* --batch auto: the batch is the load's queries in flight at the fixed point. */
static void batch_from_the_load(void **state)
{
    struct wp_est_in in = {0};
    struct wp_est_out out;
    char err[256];
    (void)state;
    assert_int_equal(wp_hardware_find("H100", &in.hw, NULL, 0), 0);
    in.has_hardware = true;
    in.params = 70e9;
    in.count = 4;
    in.precision = WP_FP16;
    in.inference = true;
    in.tokens_per_query = 256;
    in.input_tokens = 512;
    in.queries_per_day = 1e6;
    in.days = 365;
    assert_int_equal(wp_estimate(&in, &out, err, sizeof err), 0);
    assert_true(out.batch_auto);
    assert_float_equal(out.replicas, 1, 0);
    assert_float_equal(out.serve.batch, 1e6 / 86400 * out.serve.query_s, 0.01 * out.serve.batch);
    assert_true(out.batch1_query_j > 10 * out.serve.energy_per_query_j);
    in.queries_per_day = 1e10; /* more than one replica's memory holds */
    assert_int_equal(wp_estimate(&in, &out, err, sizeof err), 0);
    assert_true(out.replicas > 1 && out.serve.batch <= out.batch_cap);
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
        cmocka_unit_test(a_dense_step),
        cmocka_unit_test(experts_a_batch_touches),
        cmocka_unit_test(memory_refuses_weights_and_caps_the_batch),
        cmocka_unit_test(beams_decode_more_sequences),
        cmocka_unit_test(fp4_runs_on_blackwell_units_only),
        cmocka_unit_test(hybrid_models_keep_less_kv),
        cmocka_unit_test(the_bundled_constants),
        cmocka_unit_test(batch_from_the_load),
        cmocka_unit_test(calibrated_mfu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
