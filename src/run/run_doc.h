/* Reading run documents back: every field by a name the compiler knows,
 * and a stored run checked against its schema before anything reads it,
 * so a missing or misspelt field is an error, never a silent 0 or "". */
#ifndef WP_RUN_DOC_H
#define WP_RUN_DOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Every member name the readers use (run, energy, carbon, channels, machine,
 * work, and the derived sci and equivalents parts). A name is spelt once,
 * here; a typo at a reader is a compile error. */
#define WP_RUN_FIELDS(X)                                                                           \
    X(AMERICAN_YEAR_SHARE, "american_year_share")                                                  \
    X(ASSUMED, "assumed")                                                                          \
    X(ASSUMPTIONS, "assumptions")                                                                  \
    X(BOUNDARY, "boundary")                                                                        \
    X(CARBON, "carbon")                                                                            \
    X(CAR_KM_EU, "car_km_eu")                                                                      \
    X(CHANNELS, "channels")                                                                        \
    X(CODECARBON, "codecarbon")                                                                    \
    X(COMMAND, "command")                                                                          \
    X(COMPONENT, "component")                                                                      \
    X(COUNTED, "counted")                                                                          \
    X(COUNTERS, "counters")                                                                        \
    X(CPU_COUNT, "cpu_count")                                                                      \
    X(CPU_J, "cpu_j")                                                                              \
    X(CPU_MODEL, "cpu_model")                                                                      \
    X(CWD, "cwd")                                                                                  \
    X(DETAIL, "detail")                                                                            \
    X(DEVICE, "device")                                                                            \
    X(DONE, "done")                                                                                \
    X(DRAM_J, "dram_j")                                                                            \
    X(DURATION_S, "duration_s")                                                                    \
    X(EMBODIED_G, "embodied_g")                                                                    \
    X(EMBODIED_EMISSIONS_G, "embodied_emissions_g")                                                \
    X(EMBODIED_LIFETIME_YEARS, "embodied_lifetime_years")                                          \
    X(EMBODIED_SOURCE, "embodied_source")                                                          \
    X(EMBODIED_FROM, "embodied_from")                                                              \
    X(EMISSIONS_G, "emissions_g")                                                                  \
    X(END, "end")                                                                                  \
    X(ENERGY, "energy")                                                                            \
    X(ENERGY_J, "energy_j")                                                                        \
    X(ENERGY_PER_UNIT_J, "energy_per_unit_j")                                                      \
    X(ENERGY_RANGE_J, "energy_range_j")                                                            \
    X(EQUIVALENTS, "equivalents")                                                                  \
    X(EXIT_CODE, "exit_code")                                                                      \
    X(EXPERIMENT, "experiment")                                                                    \
    X(FACILITY_ENERGY_J, "facility_energy_j")                                                      \
    X(FLIGHTS_NY_SF, "flights_ny_sf")                                                              \
    X(FUNCTIONAL_UNIT, "functional_unit")                                                          \
    X(GPU_J, "gpu_j")                                                                              \
    X(HOST, "host")                                                                                \
    X(INTENSITY_G_PER_KWH, "intensity_g_per_kwh")                                                  \
    X(INTENSITY_SOURCE, "intensity_source")                                                        \
    X(JOB, "job")                                                                                  \
    X(LOST, "lost")                                                                                \
    X(MACHINE, "machine")                                                                          \
    X(MEAN_POWER_W, "mean_power_w")                                                                \
    X(METHOD, "method")                                                                            \
    X(MIX, "mix")                                                                                  \
    X(NAME, "name")                                                                                \
    X(OFFSITE_WUE_L_PER_KWH, "offsite_wue_l_per_kwh")                                              \
    X(OS, "os")                                                                                    \
    X(PREDICTED_ENERGY_J, "predicted_energy_j")                                                    \
    X(PREDICTION, "prediction")                                                                    \
    X(PROJECT, "project")                                                                          \
    X(PSYS_J, "psys_j")                                                                            \
    X(PUE, "pue")                                                                                  \
    X(PUE_SOURCE, "pue_source")                                                                    \
    X(QUALITY, "quality")                                                                          \
    X(RAM_TOTAL_GIB, "ram_total_gib")                                                              \
    X(REACTOR_1GW_S, "reactor_1gw_s")                                                              \
    X(REGION, "region")                                                                            \
    X(REGION_NAME, "region_name")                                                                  \
    X(RUN_ID, "run_id")                                                                            \
    X(SAMPLES, "samples")                                                                          \
    X(SCI, "sci")                                                                                  \
    X(SCORE_G_PER_UNIT, "score_g_per_unit")                                                        \
    X(SENSOR, "sensor")                                                                            \
    X(SHARE_OF, "share_of")                                                                        \
    X(START, "start")                                                                              \
    X(STATUS, "status")                                                                            \
    X(TAGS, "tags")                                                                                \
    X(TOTAL, "total")                                                                              \
    X(TOTAL_J, "total_j")                                                                          \
    X(TOTAL_RANGE_J, "total_range_j")                                                              \
    X(T_S, "t_s")                                                                                  \
    X(UNIT, "unit")                                                                                \
    X(UNITS, "units")                                                                              \
    X(USER, "user")                                                                                \
    X(WATER_L, "water_l")                                                                          \
    X(WATER_OFFSITE_L, "water_offsite_l")                                                          \
    X(WUE_L_PER_KWH, "wue_l_per_kwh")                                                              \
    X(WORK, "work")

enum wp_run_field {
#define WP_FIELD_ENUM(id, key) WPF_##id,
    WP_RUN_FIELDS(WP_FIELD_ENUM)
#undef WP_FIELD_ENUM
        WPF_COUNT
};

/* The member name of a field. */
const char *wp_field_key(enum wp_run_field f);

/* An object or array member (energy, carbon, work, channels, ...), or NULL. */
json_t *wp_json_get(json_t *o, enum wp_run_field f);

/* A boolean member: false where absent. */
bool wp_json_true(json_t *o, enum wp_run_field f);

/* A string member: "" where the schema lets it be absent or null. */
const char *wp_json_str(json_t *o, enum wp_run_field f);

/* A number member: 0 where the schema lets it be absent or null. */
double wp_json_num(json_t *o, enum wp_run_field f);

/* Checks a stored run against the run document's schema: every required
 * member present with its type, optional ones absent, null or of their type.
 * Returns 0, or -EINVAL with the run and the member's path ("carbon.
 * emissions_g is missing") in err. */
int wp_run_doc_check(json_t *run, char *err, size_t cap);

/* Checks one member, v (NULL: absent), of run id by its path ("status",
 * "energy.cpu_j", "carbon.region") against the same schema, for a reader
 * that extracted only the members it needs. Returns 0, or -EINVAL with err
 * (a path the schema does not hold is an error too). */
int wp_run_doc_check_member(const char *id, const char *path, json_t *v, char *err, size_t cap);

/* The same in two steps, for a reader that checks the same paths in many
 * runs: the path's rule (NULL when the schema has no such member), looked
 * up once, then a value against it. */
struct wp_run_doc_rule;
const struct wp_run_doc_rule *wp_run_doc_rule(const char *path);
int wp_run_doc_check_rule(const char *id, const char *path, const struct wp_run_doc_rule *rule,
                          json_t *v, char *err, size_t cap);

#endif
