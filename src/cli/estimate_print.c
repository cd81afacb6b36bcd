/* wattprint estimate: the printing shared by its sections. */
#define _GNU_SOURCE
#include "cli.h"
#include "estimate_out.h"

#include "../account/account.h"
#include "../account/embodied.h"
#include "../util/outfile.h"
#include "../util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void wp_est_assume(json_t *arr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    wp_cli_push(arr, json_string(buf));
}

int wp_est_write_json(json_t *o, const char *path)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10)), err[512];
    size_t n;
    int rc;

    if (!text) {
        fprintf(stderr, "wattprint estimate: out of memory\n");
        return 1;
    }
    n = strlen(text);
    text[n] = '\n';
    rc = wp_out_write(path, text, n + 1, err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stderr, "wattprint estimate: cannot write %s\n", err);
        return 1;
    }
    return 0;
}

const char *wp_est_problem_text(const struct wp_est_out *r, const char *err)
{
    static const char *const text[] = {
        [WP_EST_NOTHING] = "nothing to estimate: give --params and --tokens, --flops, --hours or "
                           "--device-hours (training), or --inference",
        [WP_EST_ACTIVE_OVER_TOTAL] = "--active-params exceeds --params (the active parameters "
                                     "are a part of the total)",
        [WP_EST_HOURS_DISAGREE] = "--hours x --count disagrees with --device-hours; give two of "
                                  "the three",
        [WP_EST_TOKENS_NO_PARAMS] = "--tokens needs --params (training FLOPs are 6 x params x "
                                    "tokens), or give --flops",
        [WP_EST_NO_TIME] = "cannot tell how long it runs: give --hours or --device-hours, or "
                           "--hardware with a peak FLOP/s (an accelerator) and --flops or "
                           "--params with --tokens",
        [WP_EST_NO_POWER] = "no power: give --power W (per device), --power-total W, or "
                            "--hardware with a known power figure",
        [WP_EST_TRAINABLE] = "--trainable-params exceeds --params (or --active-params): give "
                             "a count up to it, or a fraction up to 1",
        [WP_EST_SERVE_INPUTS] = "--inference needs --params, --tokens-per-query, "
                                "--queries-per-day and --days",
        [WP_EST_SERVE_HARDWARE] = "--inference needs --hardware: an accelerator with a peak "
                                  "FLOP/s and a memory bandwidth (wattprint hardware lists them)",
        [WP_EST_SERVE_TOTAL_POWER] = "--power-total applies to training: give --power per device "
                                     "for --inference",
    };
    static _Thread_local char fit[640];

    if (r->problem == WP_EST_DOES_NOT_FIT) {
        snprintf(fit, sizeof fit, "%s: raise --count, lower --batch or --precision", err);
        return fit;
    }
    if ((size_t)r->problem < sizeof text / sizeof *text && text[r->problem])
        return text[r->problem];
    return err;
}

const char *wp_est_from_text(const char *what, enum wp_est_from from)
{
    bool power = strcmp(what, "power") == 0, time = strcmp(what, "time") == 0;

    switch (from) {
    case WP_FROM_GIVEN:
        return power ? "--power (average per device)" : time ? "--device-hours" : "--mfu";
    case WP_FROM_HOURS_COUNT:
        return "--hours x --count";
    case WP_FROM_FLOPS:
        return "FLOPs / (peak FLOP/s x MFU)";
    case WP_FROM_CALIBRATED:
        return "calibrated on published training runs";
    case WP_FROM_TOTAL_POWER:
        return "--power-total (the whole system)";
    case WP_FROM_HARDWARE:
        return "the hardware's power figure (measured averages differ: give --power if known)";
    case WP_FROM_NONE:
        break;
    }
    return "";
}

void wp_est_fmt_energy_range(double j, double lo, double hi, char *out, size_t cap)
{
    char e[32], l[32], h[32];
    wp_fmt_energy(j, e, sizeof e);
    wp_fmt_energy(lo, l, sizeof l);
    wp_fmt_energy(hi, h, sizeof h);
    if (strcmp(l, h) == 0)
        snprintf(out, cap, "%s", e);
    else
        snprintf(out, cap, "%s (%s to %s)", e, l, h);
}

void wp_est_print_carbon(const struct wp_assumptions *a, double it_j, json_t *out,
                         const char *label, const char *key)
{
    struct wp_carbon c;
    struct wp_equivalents q;
    char e[32], f[32], m[32], k[96], w[32];

    wp_account(it_j, a, &c);
    wp_fmt_energy(c.it_energy_j, e, sizeof e);
    wp_fmt_energy(c.facility_energy_j, f, sizeof f);
    wp_fmt_mass(c.emissions_g, m, sizeof m);
    if (label) {
        printf("  %-13s %s IT, %s at PUE %.3g, %s CO2e at %.4g g/kWh\n", label, e, f, a->pue, m,
               a->region.intensity_g_per_kwh);
        if (wp_equivalents(c.emissions_g, c.facility_energy_j, &q) == 0 && c.emissions_g > 1000)
            printf("  %-13s %.3g km by car, %.3g NY-SF flights, %.2g of a car's lifetime\n", "",
                   q.car_km_eu, q.flights_ny_sf, q.car_lifetime_share);
    }
    snprintf(k, sizeof k, "%sit_energy_j", key);
    wp_cli_put(out, k, json_real(c.it_energy_j));
    snprintf(k, sizeof k, "%sfacility_energy_j", key);
    wp_cli_put(out, k, json_real(c.facility_energy_j));
    snprintf(k, sizeof k, "%semissions_g", key);
    wp_cli_put(out, k, json_real(c.emissions_g));
    if (a->has_wue) {
        wp_fmt_volume(c.water_l, w, sizeof w);
        if (label)
            printf("  %-13s %s of water on site at WUE %.3g L/kWh (%s)\n", "", w, a->wue_l_per_kwh,
                   strcmp(a->wue_source, "given") == 0 ? "--wue" : a->wue_source);
        snprintf(k, sizeof k, "%swater_l", key);
        wp_cli_put(out, k, json_real(c.water_l));
    }
    if (a->has_offsite_wue) {
        wp_fmt_volume(c.water_offsite_l, w, sizeof w);
        if (label)
            printf("  %-13s %s of water off site, at the power plants: %.3g L/kWh (%s)\n", "", w,
                   a->offsite_wue_l_per_kwh,
                   strcmp(a->offsite_wue_source, "given") == 0 ? "--offsite-wue"
                                                               : a->offsite_wue_source);
        snprintf(k, sizeof k, "%swater_offsite_l", key);
        wp_cli_put(out, k, json_real(c.water_offsite_l));
    }
}

const char *wp_est_wall_text(const struct wp_est_out *r)
{
    switch (r->wall_from) {
    case WP_WALL_TOTAL_POWER:
        return "the whole system's power as given (--power-total)";
    case WP_WALL_SYSTEM_POWER:
        return "the hardware's power figure is already the system's per accelerator (host "
               "included)";
    case WP_WALL_NONE:
        return "a CPU: the server around it is not modelled";
    case WP_WALL_HOST_MODEL:
        break;
    }
    return "the accelerators x (1 + host ratio): host CPUs, memory, NICs, fans and power "
           "supplies, from published wall measurements";
}

void wp_est_print_wall(const struct wp_est_out *r, struct wp_band e, struct wp_band host,
                       const struct wp_assumptions *a, json_t *out, json_t *assume, const char *key)
{
    char text[96], k[96];

    if (r->wall_from == WP_WALL_NONE) {
        printf("  whole server  not estimated: %s\n", wp_est_wall_text(r));
        return;
    }
    wp_est_fmt_energy_range(e.mid, e.lo, e.hi, text, sizeof text);
    printf("  whole server  %s IT at the wall: ", text);
    if (r->wall_from == WP_WALL_HOST_MODEL)
        printf("accelerators x %.3g (%.3g to %.3g) for host CPUs, memory, NICs, fans and power "
               "supplies\n",
               host.mid, host.lo, host.hi);
    else
        printf("%s\n", wp_est_wall_text(r));
    wp_est_print_carbon(a, e.mid, out, "at the wall", key);
    snprintf(k, sizeof k, "%sit_energy_range_j", key);
    wp_cli_put(out, k, json_pack("[f,f]", e.lo, e.hi));
    if (*key && strcmp(key, "server_") == 0) {
        wp_cli_put(out, "server_host_ratio",
                   json_pack("[f,f,f]", host.mid - 1, host.lo - 1, host.hi - 1));
        wp_cli_put(out, "server_scope", json_string(wp_est_wall_text(r)));
        wp_est_assume(assume, "whole server: %s; host ratio %.3g (%.3g to %.3g)",
                      wp_est_wall_text(r), host.mid - 1, host.lo - 1, host.hi - 1);
    }
}

void wp_est_print_embodied(const struct est_opts *o, const struct wp_assumptions *a,
                           double device_hours, json_t *out, const char *key)
{
    char m[32], k[96];
    double g;

    snprintf(k, sizeof k, "%sembodied_emissions_g", key);
    if (a->has_embodied) {
        g = a->embodied_g;
    } else if (o->in.has_hardware && strcmp(o->in.hw.vendor, "cpu") != 0 && device_hours > 0) {
        g = wp_embodied_g_per_device_hour(a->lifetime_years) * device_hours;
    } else { /* a CPU server's manufacture is not modelled */
        wp_cli_put(out, k, json_null());
        return;
    }
    wp_fmt_mass(g, m, sizeof m);
    printf("  %-13s %s CO2e %s\n", "embodied", m,
           a->has_embodied ? "(--embodied-g)"
                           : "of manufacture: the accelerators' and their servers' share over "
                             "their service life (estimated; --lifetime-years)");
    wp_cli_put(out, k, json_real(g));
    if (!*key) {
        wp_cli_put(out, "embodied_lifetime_years", json_real(a->lifetime_years));
        wp_cli_put(out, "embodied_source",
                   json_string(a->has_embodied ? "given (--embodied-g)" : wp_embodied_source));
    }
}
