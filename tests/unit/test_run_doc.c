/* The run document read back: what the writer produces passes the schema,
 * and each required member missing or mistyped is an error naming it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "run/run.h"

/* A run as wattprint writes it (one measured CPU channel, work reported). */
static json_t *written_run(void)
{
    struct wp_run run = {0};
    json_t *doc;

    snprintf(run.run_id, sizeof run.run_id, "01a23a68-a2f0-7499-b29d-2c20837c581b");
    run.start_wall_s = 1.7e9;
    run.end_wall_s = 1.7e9 + 10;
    run.assume.pue = 1.2;
    run.work.reported = true;
    run.work.done = 40;
    doc = wp_run_json(&run);
    assert_non_null(doc);
    json_array_append_new(wp_json_get(doc, WPF_CHANNELS),
                          json_pack("{s:s, s:s, s:s, s:s, s:f, s:b, s:s}", "sensor", "rapl",
                                    "component", "cpu", "device", "package-0", "method", "measured",
                                    "energy_j", 12.5, "counted", 1, "detail", "x"));
    return doc;
}

static void the_writer_passes(void **state)
{
    char err[300] = "";
    json_t *doc = written_run();
    (void)state;
    assert_int_equal(wp_run_doc_check(doc, err, sizeof err), 0);
    assert_string_equal(wp_json_str(doc, WPF_RUN_ID), "01a23a68-a2f0-7499-b29d-2c20837c581b");
    assert_true(wp_json_num(wp_json_get(doc, WPF_WORK), WPF_DONE) == 40);
    assert_true(wp_json_true(json_array_get(wp_json_get(doc, WPF_CHANNELS), 0), WPF_COUNTED));
    json_decref(doc);
}

/* Removes or retypes the member at path ("carbon.emissions_g",
 * "channels.0.energy_j") and expects an error that names it. */
static void expect_refused(const char *obj, const char *key, json_t *replacement, const char *named)
{
    char err[300] = "";
    json_t *doc = written_run(), *o = doc;

    if (obj && strcmp(obj, "channels") == 0)
        o = json_array_get(wp_json_get(doc, WPF_CHANNELS), 0);
    else if (obj)
        o = json_object_get(doc, obj);
    if (replacement)
        json_object_set_new(o, key, replacement);
    else
        json_object_del(o, key);
    assert_int_equal(wp_run_doc_check(doc, err, sizeof err), -EINVAL);
    if (!strstr(err, named) || (strcmp(key, "run_id") != 0 && !strstr(err, "01a23a68")))
        fail_msg("'%s' does not name %s and the run", err, named);
    json_decref(doc);
}

static void a_missing_member_is_an_error(void **state)
{
    (void)state;
    expect_refused(NULL, "run_id", NULL, "run_id is missing");
    expect_refused(NULL, "duration_s", NULL, "duration_s is missing");
    expect_refused("energy", "total_j", NULL, "energy.total_j is missing");
    expect_refused("carbon", "emissions_g", NULL, "carbon.emissions_g is missing");
    expect_refused("channels", "energy_j", NULL, "channels[0].energy_j is missing");
    expect_refused("work", "done", NULL, "work.done is missing");
}

static void a_mistyped_member_is_an_error(void **state)
{
    (void)state;
    expect_refused(NULL, "facility_energy_j", json_string("12"), "facility_energy_j is of the");
    expect_refused("carbon", "intensity_g_per_kwh", json_null(), "carbon.intensity_g_per_kwh");
    expect_refused("channels", "counted", json_integer(1), "channels[0].counted");
    expect_refused(NULL, "project", json_integer(3), "project is of the wrong type");
}

static void optional_members_may_be_absent_or_null(void **state)
{
    char err[300];
    json_t *doc = written_run();
    (void)state;
    json_object_del(doc, "machine");
    json_object_set_new(doc, "work", json_null());
    json_object_set_new(doc, "project", json_null());
    json_object_del(json_object_get(doc, "energy"), "psys_j");
    assert_int_equal(wp_run_doc_check(doc, err, sizeof err), 0);
    assert_string_equal(wp_json_str(doc, WPF_PROJECT), "");
    assert_true(wp_json_num(wp_json_get(doc, WPF_WORK), WPF_DONE) == 0);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_writer_passes),
        cmocka_unit_test(a_missing_member_is_an_error),
        cmocka_unit_test(a_mistyped_member_is_an_error),
        cmocka_unit_test(optional_members_may_be_absent_or_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
