/* Carbon accounting against published tables: Strubell et al. 2019 Table 3
 * and Patterson et al. 2021 Table 4 (data/published_footprints.csv), region
 * and provider lookups, SCI and equivalents. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "account/account.h"
#include "data/csv.h"
#include "util/util.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static double num(const struct wp_csv *h, const struct wp_csv *r, const char *name)
{
    int i = wp_csv_column(h, name);
    double v = 0;
    assert_true(i >= 0 && i < r->nfields);
    if (r->field[i][0] == '\0')
        return 0;
    assert_int_equal(wp_parse_double(r->field[i], &v), 0);
    return v;
}

static void assert_within(double got, double want, double rel)
{
    if (!(got >= want * (1 - rel) && got <= want * (1 + rel)))
        fail_msg("%g is not within %g%% of %g", got, rel * 100, want);
}

/* The papers print whole numbers (Strubell's Transformer-base: 26 lbs for
 * 25.6), so a published figure is also met within half its last digit. */
static void assert_published(double got, double published)
{
    if (got >= published - 0.5 && got <= published + 0.5)
        return;
    assert_within(got, published, 0.01);
}

/* Every row: IT energy from power x hours (x devices), through wp_account
 * with the row's PUE and intensity, must give the published energy and
 * emissions within 1%. */
static void published_footprints(void **state)
{
    size_t len;
    char *text = slurp(WP_SOURCE_DIR "/data/published_footprints.csv", &len);
    struct wp_csv h, r;
    int rows = 0;
    (void)state;

    wp_csv_init(&h, text, len);
    assert_int_equal(wp_csv_next(&h), 1);
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) {
        struct wp_assumptions a = {0};
        struct wp_carbon c;
        double hours = num(&h, &r, "hours"), count = num(&h, &r, "count");
        double p_total = num(&h, &r, "avg_power_w_total");
        double p_dev = num(&h, &r, "avg_power_w_per_device");
        double watts = p_total > 0 ? p_total : p_dev * count;
        const char *unit = r.field[wp_csv_column(&h, "emissions_unit")];

        a.pue = num(&h, &r, "pue");
        a.region.intensity_g_per_kwh = num(&h, &r, "g_co2e_per_kwh");
        wp_account(watts * hours * 3600.0, &a, &c);
        assert_published(c.facility_energy_j / WP_J_PER_KWH, num(&h, &r, "energy_kwh_published"));
        if (strcmp(unit, "lbs") == 0)
            assert_published(c.emissions_g / WP_G_PER_LB, num(&h, &r, "emissions_published"));
        else if (strcmp(unit, "t") == 0)
            assert_within(c.emissions_g / 1e6, num(&h, &r, "emissions_published"), 0.01);
        else
            fail_msg("unknown unit %s", unit);
        rows++;
    }
    assert_int_equal(rows, 11);
    free(text);
}

static void strubell_intensity_constant(void **state)
{
    (void)state;
    /* 0.954 lbs/kWh is 432.7 g/kWh */
    assert_within(0.954 * WP_G_PER_LB, 432.7, 0.001);
}

static void regions(void **state)
{
    struct wp_region r;
    char sug[256];
    (void)state;
    assert_int_equal(wp_region_find("FR", &r, sug, sizeof sug), 0);
    assert_string_equal(r.code, "FRA");
    assert_string_equal(r.name, "France");
    assert_float_equal(r.intensity_g_per_kwh, 56.04, 0.01);
    assert_true(r.has_mix);
    assert_true(r.mix_twh[WP_MIX_NUCLEAR] / r.mix_total_twh > 0.5);
    assert_int_equal(wp_region_find("fra", &r, sug, sizeof sug), 0);
    assert_string_equal(r.code, "FRA");
    assert_int_equal(wp_region_find("IND", &r, sug, sizeof sug), 0);
    assert_true(r.intensity_g_per_kwh > 600);
    assert_int_equal(wp_region_find("gcp:europe-west1", &r, sug, sizeof sug), 0);
    assert_float_equal(r.intensity_g_per_kwh, 122, 0);
    assert_string_equal(r.country3, "BEL");
    assert_true(r.has_mix);
    assert_int_equal(wp_region_find("aws:us-east-1", &r, sug, sizeof sug), 0);
    assert_string_equal(r.country3, "USA");
    assert_int_equal(wp_region_find("FRX", &r, sug, sizeof sug), -ENOENT);
    assert_non_null(strstr(sug, "FRA"));
    assert_int_equal(wp_region_find("gcp:europe-west99", &r, sug, sizeof sug), -ENOENT);
    assert_non_null(strstr(sug, "gcp:europe-west"));
    assert_int_equal(wp_region_find(":", &r, sug, sizeof sug), -ENOENT);
    assert_int_equal(wp_region_find("", &r, sug, sizeof sug), -ENOENT);
    wp_region_world(&r);
    assert_true(r.assumed);
    assert_float_equal(r.intensity_g_per_kwh, 475, 0);
}

/* Off-site water: the region's country's power plants, facility kWh x L/kWh. */
static void offsite_water(void **state)
{
    struct wp_assumptions a = {.pue = 1.5};
    struct wp_carbon c;
    char src[256], sug[64];
    (void)state;
    assert_int_equal(wp_region_find("FR", &a.region, sug, sizeof sug), 0);
    assert_int_equal(wp_region_offsite_wue(&a.region, &a.offsite_wue_l_per_kwh, src, sizeof src),
                     0);
    assert_float_equal(a.offsite_wue_l_per_kwh, 3.674, 1e-9);
    assert_non_null(strstr(src, "WRI"));
    a.has_offsite_wue = true;
    wp_account(7.2e6, &a, &c); /* 2 kWh IT, 3 kWh at the facility */
    assert_float_equal(c.water_offsite_l, 3 * 3.674, 1e-9);
    assert_float_equal(c.water_l, 0, 0); /* no on-site WUE */
    a.has_offsite_wue = false;
    wp_account(7.2e6, &a, &c);
    assert_float_equal(c.water_offsite_l, 0, 0);
    /* a cloud region answers for its country; the world for "world" */
    assert_int_equal(wp_region_find("gcp:europe-west1", &a.region, sug, sizeof sug), 0);
    assert_int_equal(wp_region_offsite_wue(&a.region, &a.offsite_wue_l_per_kwh, src, sizeof src),
                     0);
    assert_float_equal(a.offsite_wue_l_per_kwh, 2.62, 1e-9);
    wp_region_world(&a.region);
    assert_int_equal(wp_region_offsite_wue(&a.region, &a.offsite_wue_l_per_kwh, src, sizeof src),
                     0);
    assert_float_equal(a.offsite_wue_l_per_kwh, 3.908, 1e-9);
    /* a country the table lacks has no figure */
    assert_int_equal(wp_region_find("KE", &a.region, sug, sizeof sug), 0);
    assert_int_equal(wp_region_offsite_wue(&a.region, &a.offsite_wue_l_per_kwh, src, sizeof src),
                     -ENOENT);
}

static void providers(void **state)
{
    double pue;
    char src[256], sug[256];
    (void)state;
    assert_int_equal(wp_provider_pue("gcp", &pue, src, sizeof src, sug, sizeof sug), 0);
    assert_float_equal(pue, 1.1, 1e-12);
    assert_int_equal(wp_provider_pue("ONPREM", &pue, src, sizeof src, sug, sizeof sug), 0);
    assert_float_equal(pue, 1.56, 1e-12);
    assert_int_equal(wp_provider_pue("personal", &pue, src, sizeof src, sug, sizeof sug), 0);
    assert_float_equal(pue, 1.0, 0);
    assert_int_equal(wp_provider_pue("nope", &pue, src, sizeof src, sug, sizeof sug), -ENOENT);
    assert_non_null(strstr(sug, "azure"));
}

static void sci_and_equivalents(void **state)
{
    struct wp_equivalents q;
    (void)state;
    /* 1 kWh at 400 g/kWh plus 100 g embodied over 10 units: 50 g per unit */
    assert_float_equal(wp_sci_g(3.6e6, 400, 100, 10), 50, 1e-9);
    assert_float_equal(wp_sci_g(3.6e6, 400, 100, 0), 0, 0);
    assert_int_equal(wp_equivalents(570000.0, 3.6e12, &q), 0);
    assert_float_equal(q.flights_ny_sf, 1.0, 1e-9);
    assert_float_equal(q.car_km_eu, 570000.0 / 175, 1e-9);
    assert_float_equal(q.reactor_s, 3600.0, 1e-9);
    assert_float_equal(q.car_lifetime_share, 570000.0 / (126000 * WP_G_PER_LB), 1e-12);
}

static void emaps_parse(void **state)
{
    double g;
    char when[64];
    const char *ok =
        "{\"zone\":\"FR\",\"carbonIntensity\":56,\"datetime\":\"2026-11-23T10:00:00Z\"}";
    (void)state;
    assert_int_equal(wp_emaps_parse(ok, strlen(ok), &g, when, sizeof when), 0);
    assert_float_equal(g, 56, 0);
    assert_string_equal(when, "2026-11-23T10:00:00Z");
    assert_int_equal(wp_emaps_parse("{\"carbonIntensity\":\"56\"}", 24, &g, when, sizeof when),
                     -EINVAL);
    assert_int_equal(wp_emaps_parse("{\"carbonIntensity\":-1}", 22, &g, when, sizeof when),
                     -EINVAL);
    assert_int_equal(wp_emaps_parse("not json", 8, &g, when, sizeof when), -EINVAL);
    assert_int_equal(wp_emaps_parse("[]", 2, &g, when, sizeof when), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_footprints),
        cmocka_unit_test(strubell_intensity_constant),
        cmocka_unit_test(regions),
        cmocka_unit_test(offsite_water),
        cmocka_unit_test(providers),
        cmocka_unit_test(sci_and_equivalents),
        cmocka_unit_test(emaps_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
