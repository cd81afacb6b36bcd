/* wattprint estimate --inference: the serving section, and --compare's
 * side-by-side table of what shrinking or batching would save. */
#define _GNU_SOURCE
#include "cli.h"
#include "estimate_out.h"

#include "../account/account.h"
#include "../util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_shape(const struct est_opts *o, const struct wp_est_out *r)
{
    const struct wp_serve_out *s = &r->serve;
    int gen = strcmp(o->in.hw.generation, "blackwell") == 0;

    printf("  serving       %.4g parameters%s%s in %s (KV cache %s) on %.0f x %s, batch %.4g%s: "
           "decode is %s-bound\n",
           o->in.params, o->in.active_params > 0 ? " (MoE)" : "",
           o->in.hybrid ? " (hybrid state-space)" : "", wp_precision_name(o->in.precision),
           wp_precision_name(s->kv_precision), o->in.count > 0 ? o->in.count : 1, o->in.hw.name,
           s->batch, o->in.beams > 1 ? " x beams" : "", s->memory_bound ? "memory" : "compute");
    printf("                each step reads %.4g GB of weights and %.4g MB of KV cache per "
           "sequence at %.2g of %.4g GB/s per device; %.0f layers, width %.0f, KV width %.0f%s\n",
           s->weight_read_bytes / 1e9,
           s->kv_bytes_per_token * (o->in.input_tokens + o->in.tokens_per_query / 2) / 1e6,
           r->consts.bw_fraction[gen], o->in.hw.memory_bw_bytes_s / 1e9, s->layers, s->hidden,
           s->kv_dim, s->shape_assumed ? " (from the parameter count: give --model)" : "");
}

/* The batch: the decisive assumption, said with what batch 1 and the
 * memory's cap would give. */
static void print_batch(const struct est_opts *o, const struct wp_est_out *r, json_t *out,
                        json_t *assume)
{
    const struct wp_serve_out *s = &r->serve;
    char one[64], capj[64];

    if (r->batch_auto) {
        wp_fmt_energy(r->batch1_query_j, one, sizeof one);
        wp_fmt_energy(r->batch_cap_query_j, capj, sizeof capj);
        printf("  batch         %.4g queries in flight per replica (--batch auto: %.4g queries/s "
               "x %.3g s per query%s); batch 1 would take %s per query, the memory's cap "
               "(%.0f) %s\n",
               s->batch, o->in.queries_per_day / 86400.0, s->query_s,
               r->replicas > 1 ? ", over several replicas" : "", one, r->batch_cap, capj);
        wp_est_assume(assume,
                      "batch %.4g from the load (Little's law: %.4g queries/s x %.3g s per query"
                      "%s): the decisive assumption; give --batch B for a server batched "
                      "otherwise",
                      s->batch, o->in.queries_per_day / 86400.0, s->query_s,
                      r->replicas > 1 ? ", split over replicas at the memory's cap" : "");
        wp_cli_put(out, "batch_from", json_string("auto"));
        wp_cli_put(out, "replicas", json_real(r->replicas));
        wp_cli_put(out, "concurrency", json_real(r->concurrency));
        wp_cli_put(out, "batch1_energy_per_query_j", json_real(r->batch1_query_j));
        wp_cli_put(out, "batch_cap", json_real(r->batch_cap));
        wp_cli_put(out, "batch_cap_energy_per_query_j", json_real(r->batch_cap_query_j));
    } else {
        wp_cli_put(out, "batch_from", json_string("given"));
    }
    if (s->preempts) {
        printf("  memory        batch %.4g would not fit: at the mean context only %.0f sequences' "
               "KV cache fits beside the weights; estimated at %.0f (the server would preempt)\n",
               o->in.batch, s->batch_fits, s->batch);
        wp_est_assume(assume, "batch %.4g asked; %.0f fit in memory and were estimated",
                      o->in.batch, s->batch_fits);
    }
    wp_cli_put(out, "batch", json_real(s->batch));
    wp_cli_put(out, "batch_fits", isfinite(s->batch_fits) ? json_real(s->batch_fits) : json_null());
    wp_cli_put(out, "kv_precision", json_string(wp_precision_name(s->kv_precision)));
    wp_cli_put(out, "beams", json_real(o->in.beams > 1 ? o->in.beams : 1));
}

void wp_est_print_serving(const struct est_opts *o, const struct wp_est_out *r,
                          const struct wp_assumptions *a, json_t *out, json_t *assume)
{
    const struct wp_serve_out *s = &r->serve;
    const struct wp_serve_consts *c = &r->consts;
    int gen = strcmp(o->in.hw.generation, "blackwell") == 0;
    char q[96], t[96], d[32], w[32];

    print_shape(o, r);
    wp_fmt_energy(r->server_energy_per_query_j.mid, w, sizeof w);
    print_batch(o, r, out, assume);
    wp_est_fmt_energy_range(s->energy_per_query_j, s->energy_per_query_j * s->energy_lo_factor,
                            s->energy_per_query_j * s->energy_hi_factor, q, sizeof q);
    wp_est_fmt_energy_range(s->energy_per_token_j, s->energy_per_token_j * s->energy_lo_factor,
                            s->energy_per_token_j * s->energy_hi_factor, t, sizeof t);
    wp_fmt_duration(s->query_s, d, sizeof d);
    printf("  per query     %s IT for %.0f prompt + %.0f output tokens, %s; the accelerators "
           "(whole server: %s)\n",
           q, o->in.input_tokens, o->in.tokens_per_query, d, w);
    printf("  per token     %s IT per output token; %.4g tokens/s per replica, %.0f W per device "
           "while decoding\n",
           t, s->tokens_per_s, s->power_w_per_device);
    printf("  calibration   fitted on %d measured vLLM configurations (H100, B200; batch 8 to "
           "4,096)%s; range: their 10th-90th percentile\n",
           c->rows,
           s->generation_fitted ? ""
                                : ": this hardware's generation is not among them (Hopper's "
                                  "constants used)");
    wp_est_assume(assume,
                  "serving: each decode step costs %.3g ms per layer, the weights the batch "
                  "touches and its KV cache read at %.2g of bandwidth, and its FLOPs at %.2g of "
                  "peak; power %.2g to %.2g of the power figure as the batch per device grows; "
                  "fitted on data/serving_runs.csv (ML.ENERGY Leaderboard v3)",
                  c->step_s_per_layer * 1e3, c->bw_fraction[gen], c->mfu[gen], c->power_low,
                  c->power_high);
    wp_est_assume(assume, "prompt %.0f tokens per query%s", o->in.input_tokens,
                  o->in.input_tokens == WP_SERVE_DEFAULT_INPUT ? " (default: give --input-tokens)"
                                                               : "");
    printf("  lifetime      %.4g queries, %.4g output tokens, %.4g device-hours\n", r->inf_queries,
           r->inf_tokens, r->inf_device_hours);
    wp_est_print_carbon(a, r->inf_energy_j, out, "inference", "inference_");
    wp_est_print_wall(r, r->inf_server_energy_j, r->host, a, out, assume, "inference_server_");
    wp_est_print_embodied(o, a, r->inf_device_hours, out, r->device_hours > 0 ? "inference_" : "");
    if (r->device_hours <= 0 && r->wall_from != WP_WALL_NONE) { /* inference alone */
        wp_est_print_carbon(a, r->inf_energy_j, out, NULL, "");
        wp_est_print_carbon(a, r->inf_server_energy_j.mid, out, NULL, "server_");
        wp_cli_put(out, "server_it_energy_range_j",
                   json_pack("[f,f]", r->inf_server_energy_j.lo, r->inf_server_energy_j.hi));
        wp_cli_put(out, "server_host_ratio",
                   json_pack("[f,f,f]", r->host.mid - 1, r->host.lo - 1, r->host.hi - 1));
        wp_cli_put(out, "server_scope", json_string(wp_est_wall_text(r)));
    }
    wp_cli_put(out, "server_energy_per_query_j", json_real(r->server_energy_per_query_j.mid));
    wp_cli_put(
        out, "server_energy_per_query_range_j",
        json_pack("[f,f]", r->server_energy_per_query_j.lo, r->server_energy_per_query_j.hi));
    wp_cli_put(out, "inference_it_energy_range_j",
               json_pack("[f,f]", r->inf_energy_lo_j, r->inf_energy_hi_j));
    wp_cli_put(out, "inference_flops", json_real(r->inf_flops));
    wp_cli_put(out, "inference_device_hours", json_real(r->inf_device_hours));
    wp_cli_put(out, "inference_tokens", json_real(r->inf_tokens));
    wp_cli_put(out, "inference_queries", json_real(r->inf_queries));
    wp_cli_put(out, "energy_per_query_j", json_real(s->energy_per_query_j));
    wp_cli_put(out, "energy_per_query_range_j",
               json_pack("[f,f]", s->energy_per_query_j * s->energy_lo_factor,
                         s->energy_per_query_j * s->energy_hi_factor));
    if (r->it_energy_j <= 0 || o->in.tokens <= 0)
        wp_cli_put(out, "energy_per_token_j", json_real(s->energy_per_token_j));
    wp_cli_put(out, "energy_per_output_token_j", json_real(s->energy_per_token_j));
    wp_cli_put(out, "energy_per_output_token_range_j",
               json_pack("[f,f]", s->energy_per_token_j * s->energy_lo_factor,
                         s->energy_per_token_j * s->energy_hi_factor));
    wp_cli_put(out, "tokens_per_s", json_real(s->tokens_per_s));
    wp_cli_put(out, "query_s", json_real(s->query_s));
    wp_cli_put(out, "decode_bound", json_string(s->memory_bound ? "memory" : "compute"));
    wp_cli_put(out, "decode_power_w_per_device", json_real(s->power_w_per_device));
    wp_cli_put(out, "serving_constants",
               json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i, s:b}", "bw_fraction",
                         c->bw_fraction[gen], "mfu", c->mfu[gen], "step_s_per_layer",
                         c->step_s_per_layer, "power_low", c->power_low, "power_high",
                         c->power_high, "power_batch", c->power_batch, "kv_traffic", c->kv_traffic,
                         "lowp_eff", c->lowp_eff, "fitted_rows", c->rows, "generation_fitted",
                         s->generation_fitted));
    wp_cli_put(out, "serving_shape",
               json_pack("{s:f, s:f, s:f, s:b}", "layers", s->layers, "hidden", s->hidden, "kv_dim",
                         s->kv_dim, "assumed", s->shape_assumed));
    wp_cli_put(out, "precision", json_string(wp_precision_name(o->in.precision)));
    wp_cli_put(out, "input_tokens", json_real(o->in.input_tokens));
    wp_cli_put(out, "tokens_per_query", json_real(o->in.tokens_per_query));
    if (r->it_energy_j > 0) {
        double share = r->it_energy_j / (r->it_energy_j + r->inf_energy_j);
        printf("  split         training %.1f%%, inference %.1f%% of the energy\n", 100 * share,
               100 * (1 - share));
        wp_cli_put(out, "training_share", json_real(share));
    }
}

/* One alternative "key=value[,key=value]" applied to a copy of the inputs. */
static int apply_change(struct wp_est_in *in, char *kv)
{
    char *eq = strchr(kv, '='), sug[256];
    double v = 0;
    if (!eq)
        return -1;
    *eq++ = '\0';
    if (strcmp(kv, "precision") == 0)
        return wp_precision_parse(eq, &in->precision);
    if (strcmp(kv, "kv-precision") == 0) {
        in->kv_given = true;
        return wp_precision_parse(eq, &in->kv_precision);
    }
    if (strcmp(kv, "batch") == 0 && strcmp(eq, "auto") == 0) {
        in->batch = 0;
        return 0;
    }
    if (strcmp(kv, "hardware") == 0) {
        if (wp_hardware_find(eq, &in->hw, sug, sizeof sug) != 0)
            return -1;
        in->count = (in->count > 0 ? in->count : 1) * in->hw.per_unit; /* "DGX H100": 8 */
        return 0;
    }
    if (strcmp(kv, "sparsity") == 0) {
        in->sparsity = strcmp(eq, "2:4") == 0 ? 0.5 : strcmp(eq, "none") == 0 ? 0 : -1;
        return in->sparsity < 0 ? -1 : 0;
    }
    if (wp_parse_double(eq, &v) || !(v > 0) || v > 1e15)
        return -1;
    if (strcmp(kv, "params") == 0) { /* a smaller dense model: its own shape */
        in->params = v;
        in->active_params = 0;
        in->layers = in->hidden = in->kv_dim = 0;
    } else if (strcmp(kv, "active-params") == 0)
        in->active_params = v;
    else if (strcmp(kv, "batch") == 0)
        in->batch = v;
    else if (strcmp(kv, "count") == 0)
        in->count = v;
    else if (strcmp(kv, "beams") == 0 && v <= 64)
        in->beams = v;
    else
        return -1;
    return 0;
}

static int alternative(const struct est_opts *o, const char *spec, struct wp_est_out *r, char *err,
                       size_t cap)
{
    struct wp_est_in in = o->in;
    char buf[256], *save = NULL;

    snprintf(buf, sizeof buf, "%s", spec);
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save))
        if (apply_change(&in, kv)) {
            snprintf(err, cap,
                     "--compare '%s': want KEY=VALUE[,KEY=VALUE] with precision (fp32 ... int4), "
                     "params, active-params, batch, count (positive numbers), hardware (a name "
                     "wattprint hardware lists) or sparsity (2:4 or none)",
                     spec);
            return -1;
        }
    in.tokens = in.flops = in.hours = in.device_hours = 0; /* serving only */
    if (wp_estimate(&in, r, err, cap) == 0)
        return 0;
    if (wp_est_problem_text(r, err) != err) { /* in the CLI's words */
        char why[640];
        snprintf(why, sizeof why, "%s", wp_est_problem_text(r, err));
        snprintf(err, cap, "%s", why);
    }
    return -1;
}

static void row(const char *label, const struct wp_est_out *r, const struct wp_assumptions *a,
                double base_j, json_t *arr)
{
    struct wp_carbon c;
    char q[32], t[32];
    double saving = 1.0 - r->serve.energy_per_query_j / base_j;

    wp_account(r->serve.energy_per_query_j * 1e6, a, &c);
    wp_fmt_energy(r->serve.energy_per_query_j, q, sizeof q);
    wp_fmt_energy(r->serve.energy_per_token_j, t, sizeof t);
    printf("  %-30.30s %11s %11s %12.4g %9.1f%%  %s\n", label, q, t, c.emissions_g / 1e3,
           100 * saving, r->serve.memory_bound ? "memory" : "compute");
    wp_cli_push(arr, json_pack("{s:s, s:f, s:f, s:f, s:f, s:s}", "label", label,
                               "energy_per_query_j", r->serve.energy_per_query_j,
                               "energy_per_token_j", r->serve.energy_per_token_j,
                               "emissions_g_per_million_queries", c.emissions_g, "saving", saving,
                               "decode_bound", r->serve.memory_bound ? "memory" : "compute"));
}

int wp_est_compare(const struct est_opts *o, const struct wp_est_out *base,
                   const struct wp_assumptions *a, json_t *out)
{
    json_t *arr = json_array();
    char err[512];

    printf("\n  %-30s %11s %11s %12s %10s  %s\n", "configuration", "J/query", "J/token",
           "kg CO2e/1M q", "saving", "decode");
    row("as given", base, a, base->serve.energy_per_query_j, arr);
    for (int i = 0; i < o->ncompare; i++) {
        struct wp_est_out r;
        if (alternative(o, o->compare[i], &r, err, sizeof err) != 0) {
            fprintf(stderr, "wattprint estimate: %s\n", err);
            json_decref(arr);
            return USAGE_EXIT;
        }
        row(o->compare[i], &r, a, base->serve.energy_per_query_j, arr);
    }
    printf("  (saving: per query against the first row; CO2e with the PUE and intensity above)\n");
    wp_cli_put(out, "compare", arr);
    return 0;
}
