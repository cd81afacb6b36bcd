/* The run document's schema and its typed accessors (run_doc.h). */
#include "run_doc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const keys[WPF_COUNT] = {
#define WP_FIELD_KEY(id, key) [WPF_##id] = key,
    WP_RUN_FIELDS(WP_FIELD_KEY)
#undef WP_FIELD_KEY
};

enum kind { STR, NUM, BOOL, ARR, OBJ };

struct member {
    const char *key;
    enum kind kind;
    bool optional; /* absent or null allowed */
};

/* What every run document has held since the ledger's first version: the
 * rest (labels, machine, work, ...) is optional, so older runs still read. */
static const struct member run_members[] = {
    {"run_id", STR, false},
    {"status", STR, false},
    {"start", STR, false},
    {"end", STR, false},
    {"duration_s", NUM, false},
    {"energy", OBJ, false},
    {"method", STR, false},
    {"channels", ARR, false},
    {"command", ARR, false},
    {"pue", NUM, false},
    {"facility_energy_j", NUM, false},
    {"carbon", OBJ, false},
    {"pue_source", STR, true},
    {"exit_code", NUM, true},
    {"host", STR, true},
    {"user", STR, true},
    {"cwd", STR, true},
    {"project", STR, true},
    {"experiment", STR, true},
    {"job", STR, true},
    {"embodied_g", NUM, true},
    {"embodied_emissions_g", NUM, true},
    {"embodied_lifetime_years", NUM, true},
    {"embodied_source", STR, true},
    {"machine", OBJ, true},
    {"work", OBJ, true},
    {"tags", OBJ, true},
    {"settings", ARR, true},
    {"codecarbon", OBJ, true}, /* an imported row's own cells */
};
static const struct member energy_members[] = {
    {"total_j", NUM, false}, {"cpu_j", NUM, false}, {"dram_j", NUM, false},
    {"gpu_j", NUM, false},   {"psys_j", NUM, true}, {"total_range_j", ARR, true},
};
static const struct member carbon_members[] = {
    {"water_l", NUM, true},
    {"wue_l_per_kwh", NUM, true},
    {"wue_source", STR, true},
    {"water_offsite_l", NUM, true},
    {"offsite_wue_l_per_kwh", NUM, true},
    {"offsite_wue_source", STR, true},
    {"region", STR, false},
    {"region_name", STR, false},
    {"intensity_g_per_kwh", NUM, false},
    {"intensity_source", STR, false},
    {"emissions_g", NUM, false},
    {"assumed", BOOL, true},
};
static const struct member channel_members[] = {
    {"sensor", STR, false},      {"component", STR, false}, {"device", STR, false},
    {"method", STR, false},      {"energy_j", NUM, false},  {"counted", BOOL, false},
    {"mean_power_w", NUM, true}, {"detail", STR, true},     {"share_of", STR, true},
    {"name", STR, true},
};
static const struct member machine_members[] = {
    {"cpu_model", STR, true},
    {"cpu_count", NUM, true},
    {"ram_total_gib", NUM, true},
    {"os", STR, true},
};
static const struct member work_members[] = {
    {"unit", STR, false},
    {"done", NUM, false},
    {"total", NUM, true},
    {"energy_per_unit_j", NUM, true},
    {"predicted_energy_j", NUM, true},
    {"prediction", STR, true},
};

#define N_OF(a) (sizeof(a) / sizeof(a)[0])

const char *wp_field_key(enum wp_run_field f)
{
    return (unsigned)f < WPF_COUNT ? keys[f] : "";
}

json_t *wp_json_get(json_t *o, enum wp_run_field f)
{
    return json_object_get(o, wp_field_key(f));
}

bool wp_json_true(json_t *o, enum wp_run_field f)
{
    return json_is_true(json_object_get(o, wp_field_key(f)));
}

const char *wp_json_str(json_t *o, enum wp_run_field f)
{
    json_t *v = json_object_get(o, wp_field_key(f));
    return json_is_string(v) ? json_string_value(v) : "";
}

double wp_json_num(json_t *o, enum wp_run_field f)
{
    json_t *v = json_object_get(o, wp_field_key(f));
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static bool of_kind(json_t *v, enum kind k)
{
    switch (k) {
    case STR:
        return json_is_string(v);
    case NUM:
        return json_is_number(v);
    case BOOL:
        return json_is_boolean(v);
    case ARR:
        return json_is_array(v);
    case OBJ:
        return json_is_object(v);
    }
    return false;
}

static const char *kind_name(enum kind k)
{
    static const char *const names[] = {"a string", "a number", "true or false", "an array",
                                        "an object"};
    return (unsigned)k < N_OF(names) ? names[k] : "of another kind";
}

/* Checks one object's members; where names the object ("carbon.",
 * "channels[2]."). */
static int check_members(json_t *o, const struct member *m, size_t n, const char *where,
                         const char *id, char *err, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(o, m[i].key);
        if ((!v || json_is_null(v)) && m[i].optional)
            continue;
        if (of_kind(v, m[i].kind))
            continue;
        snprintf(err, cap, "run %s: %s%s is %s, not %s", id, where, m[i].key,
                 v ? "of the wrong type" : "missing", kind_name(m[i].kind));
        return -EINVAL;
    }
    return 0;
}

int wp_run_doc_check(json_t *run, char *err, size_t cap)
{
    const char *id = json_is_string(json_object_get(run, "run_id"))
                         ? json_string_value(json_object_get(run, "run_id"))
                         : "(without run_id)";
    json_t *ch;
    size_t i;
    int rc;

    if (!json_is_object(run)) {
        snprintf(err, cap, "a run is a JSON object, not this");
        return -EINVAL;
    }
    if ((rc = check_members(run, run_members, N_OF(run_members), "", id, err, cap)) ||
        (rc = check_members(json_object_get(run, "energy"), energy_members, N_OF(energy_members),
                            "energy.", id, err, cap)) ||
        (rc = check_members(json_object_get(run, "carbon"), carbon_members, N_OF(carbon_members),
                            "carbon.", id, err, cap)))
        return rc;
    if (json_is_object(json_object_get(run, "machine")) &&
        (rc = check_members(json_object_get(run, "machine"), machine_members, N_OF(machine_members),
                            "machine.", id, err, cap)))
        return rc;
    if (json_is_object(json_object_get(run, "work")) &&
        (rc = check_members(json_object_get(run, "work"), work_members, N_OF(work_members), "work.",
                            id, err, cap)))
        return rc;
    json_array_foreach(json_object_get(run, "channels"), i, ch)
    {
        char where[32];
        snprintf(where, sizeof where, "channels[%zu].", i);
        if (!json_is_object(ch)) {
            snprintf(err, cap, "run %s: channels[%zu] is not an object", id, i);
            return -EINVAL;
        }
        if ((rc = check_members(ch, channel_members, N_OF(channel_members), where, id, err, cap)))
            return rc;
    }
    return 0;
}

/* The member table of an object path's first part ("" for the run). */
static const struct member *members_of(const char *parent, size_t len, size_t *n)
{
    static const struct {
        const char *name;
        const struct member *m;
        size_t n;
    } objects[] = {{"", run_members, N_OF(run_members)},
                   {"energy", energy_members, N_OF(energy_members)},
                   {"carbon", carbon_members, N_OF(carbon_members)},
                   {"machine", machine_members, N_OF(machine_members)},
                   {"work", work_members, N_OF(work_members)}};
    for (size_t i = 0; i < N_OF(objects); i++)
        if (strlen(objects[i].name) == len && strncmp(objects[i].name, parent, len) == 0) {
            *n = objects[i].n;
            return objects[i].m;
        }
    return NULL;
}

/* A rule is a member of the tables above, handed out opaque. */
const struct wp_run_doc_rule *wp_run_doc_rule(const char *path)
{
    const char *dot = strchr(path, '.'), *key = dot ? dot + 1 : path;
    size_t n = 0;
    const struct member *m = members_of(path, dot ? (size_t)(dot - path) : 0, &n);

    for (size_t i = 0; m && i < n; i++)
        if (strcmp(m[i].key, key) == 0)
            return (const struct wp_run_doc_rule *)&m[i];
    return NULL;
}

int wp_run_doc_check_rule(const char *id, const char *path, const struct wp_run_doc_rule *rule,
                          json_t *v, char *err, size_t cap)
{
    const struct member *m = (const struct member *)rule;

    if (!m) {
        snprintf(err, cap, "run %s: %s is not a member of the run document's schema", id, path);
        return -EINVAL;
    }
    if (((!v || json_is_null(v)) && m->optional) || of_kind(v, m->kind))
        return 0;
    snprintf(err, cap, "run %s: %s is %s, not %s", id, path,
             v && !json_is_null(v) ? "of the wrong type" : "missing", kind_name(m->kind));
    return -EINVAL;
}

int wp_run_doc_check_member(const char *id, const char *path, json_t *v, char *err, size_t cap)
{
    return wp_run_doc_check_rule(id, path, wp_run_doc_rule(path), v, err, cap);
}
