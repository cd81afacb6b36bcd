/* The run JSON: SI base units, the unit in each name. */
#define _GNU_SOURCE
#include "run.h"

#include "../util/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *wp_run_status_name(enum wp_run_status s)
{
    switch (s) {
    case WP_RUN_COMPLETED:
        return "completed";
    case WP_RUN_FAILED:
        return "failed";
    case WP_RUN_INTERRUPTED:
        return "interrupted";
    }
    return "unknown";
}

static json_t *channels_json(struct wp_meter *m, double duration)
{
    json_t *arr = json_array();

    for (int i = 0; arr && i < wp_meter_n_channels(m); i++) {
        const struct wp_channel *ch = wp_meter_channel(m, i);
        double e = wp_meter_energy_j(m, i);
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:b, s:i, s:b, s:s}", "sensor", ch->sensor,
                      "component", wp_component_name(ch->component), "device", ch->device,
                      "energy_j", e, "mean_power_w", duration > 0 ? e / duration : 0.0, "method",
                      wp_method_name(ch->method), "counted", ch->counted, "wraps",
                      (int)wp_meter_wraps(m, i), "lost", wp_meter_lost(m, i), "detail", ch->detail);
        if (o && ch->part_of[0])
            json_object_set_new(o, "part_of", json_string(ch->part_of));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *run_to_json(const struct wp_run *run)
{
    struct wp_energy_totals t;
    char start[32], end[32];
    double duration = wp_meter_duration_s(run->meter);
    json_t *cmd = json_array(), *root;

    for (int i = 0; cmd && i < run->argc; i++)
        json_array_append_new(cmd, json_string(run->argv[i]));
    wp_meter_totals(run->meter, &t);
    wp_iso8601(run->start_wall_s, start, sizeof start);
    wp_iso8601(run->end_wall_s, end, sizeof end);
    root =
        json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:f, s:f, s:s, "
                  "s:{s:f, s:f, s:f, s:f, s:o}, s:s, s:o}",
                  "run_id", run->run_id, "status", wp_run_status_name(run->status), "exit_code",
                  json_integer(run->exit_status), "signal",
                  run->signal ? json_integer(run->signal) : json_null(), "command", cmd, "cwd",
                  run->cwd, "host", run->host, "start", start, "end", end, "duration_s", duration,
                  "interval_s", wp_meter_interval_s(run->meter), "wattprint_version", WP_VERSION,
                  "energy", "total_j", t.total_j, "cpu_j", t.cpu_j, "dram_j", t.dram_j, "gpu_j",
                  t.gpu_j, "psys_j", t.has_psys ? json_real(t.psys_j) : json_null(), "method",
                  t.any_estimated ? "estimated" : "measured", "channels",
                  channels_json(run->meter, duration));
    return root;
}

char *wp_run_json_string(const struct wp_run *run)
{
    json_t *root = run_to_json(run);
    char *s = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(root);
    return s;
}

int wp_run_write_json(const struct wp_run *run, const char *path)
{
    char tmp[4096];
    char *s = wp_run_json_string(run);
    FILE *f;
    int err = 0;

    if (!s) {
        wp_warn("cannot write %s: out of memory", path);
        return -ENOMEM;
    }
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        free(s);
        wp_warn("cannot write %s: path too long", path);
        return -ENAMETOOLONG;
    }
    f = fopen(tmp, "w");
    if (!f) {
        err = errno;
        goto out;
    }
    if (fputs(s, f) < 0 || fputc('\n', f) == EOF)
        err = errno ? errno : EIO;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
out:
    free(s);
    if (err)
        wp_warn("cannot write the result to %s: %s", path, strerror(err));
    return -err;
}
