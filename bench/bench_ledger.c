/* Benchmark: the ledger at scale. Inserts 1,000,000 runs (each the JSON of a
 * real `wattprint run` on the machine, with its id, start, project and
 * experiment varied), then times `summary --by experiment` and
 * `ls --limit 100` over them, and records a 24-hour run sampled at 10 Hz to
 * see the ledger's size. Usage: bench_ledger RUN.json [RUNS]. */
#define _GNU_SOURCE
#include "ledger/ledger.h"
#include "meter/meter.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static double since(double t0)
{
    return wp_mono_s() - t0;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* A constant-power sensor standing in for hardware in the 24-hour run. */
static void steady_read(struct wp_sensor *s, double now, uint64_t *e, bool *ok)
{
    (void)s;
    e[0] = (uint64_t)(now * 100e6); /* 100 W */
    ok[0] = true;
}

static void steady_close(struct wp_sensor *s)
{
    wp_sensor_free(s);
}

static const struct wp_sensor_ops steady_ops = {"steady", 1u << WP_CPU, NULL, steady_read,
                                                steady_close};

static void day_long_run(const char *dir)
{
    char path[512], err[1024];
    struct wp_sensor **list = calloc(1, sizeof *list);
    struct wp_run run = {0};
    struct wp_ledger *l;
    char *argv[] = {"train", NULL};
    long samples = 24L * 3600 * 10;

    snprintf(path, sizeof path, "%s/day.db", dir);
    list[0] = wp_sensor_alloc(&steady_ops, 1);
    list[0]->channels[0] = (struct wp_channel){
        .sensor = "steady", .component = WP_CPU, .device = "package-0", .counted = true};
    struct wp_meter *m;
    struct wp_reading r;

    wp_meter_create(list, 1, 0, NULL, &m);
    wp_meter_start(m);
    for (long i = 0; i < samples; i++)
        wp_meter_sample(m);
    wp_meter_stop(m);
    wp_uuid7(run.run_id);
    run.argc = 1;
    run.argv = argv;
    run.start_wall_s = wp_wall_s();
    run.end_wall_s = run.start_wall_s + 86400;
    wp_region_world(&run.assume.region);
    run.assume.pue = 1.0;
    if (wp_meter_read(m, true, &r) != 0) {
        fprintf(stderr, "bench_ledger: out of memory\n");
        exit(1);
    }
    wp_run_set_reading(&run, &r);
    if (wp_ledger_open(path, WP_LEDGER_WRITE, &l, err, sizeof err) ||
        wp_ledger_begin(l, &run, err, sizeof err) || wp_ledger_finish(l, &run, err, sizeof err)) {
        fprintf(stderr, "bench_ledger: %s\n", err);
        exit(1);
    }
    wp_ledger_close(l);
    printf("a 24-hour run sampled at 10 Hz (%ld readings, %d kept): ledger %.2f MB "
           "(target < 20 MB)\n",
           samples, run.reading.n_samples,
           (file_size(path) + file_size(strcat(path, "-wal"))) / 1e6);
    wp_run_release(&run);
    wp_meter_free(m);
}

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    char dir[] = "/tmp/wattprint-bench-ledger-XXXXXX", path[512], err[1024];
    json_error_t je;
    json_t *tmpl;
    struct wp_ledger *l;
    double t0, base = wp_wall_s() - (double)n;

    if (argc < 2 || !(tmpl = json_load_file(argv[1], 0, &je))) {
        fprintf(stderr, "usage: bench_ledger RUN.json [RUNS [LEDGER]]   (LEDGER: a postgresql:// "
                        "URI; default a new SQLite file)\n");
        return 2;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (argc > 3)
        snprintf(path, sizeof path, "%s", argv[3]);
    else
        snprintf(path, sizeof path, "%s/ledger.db", dir);
    if (wp_ledger_open(path, WP_LEDGER_WRITE, &l, err, sizeof err)) {
        fprintf(stderr, "bench_ledger: %s\n", err);
        return 1;
    }
    /* The real run's JSON with fixed-width fields to vary in place. */
    json_object_set_new(tmpl, "run_id", json_string("RUNID-0000-7000-8000-000000000000000"));
    json_object_set_new(tmpl, "start", json_string("SSSSSSSSSSSSSSSSSSSS"));
    json_object_set_new(tmpl, "project", json_string("project-XX"));
    json_object_set_new(tmpl, "experiment", json_string("experiment-XXX"));
    json_object_del(tmpl, "equivalents"); /* stored as the ledger stores runs */
    json_object_del(tmpl, "sci");
    json_object_del(tmpl, "assumptions");
    char *text = json_dumps(tmpl, JSON_COMPACT | JSON_REAL_PRECISION(10));
    char *pid = strstr(text, "RUNID"), *pstart = strstr(text, "SSSSSSSSSSSSSSSSSSSS");
    char *pproj = strstr(text, "project-XX"), *pexp = strstr(text, "experiment-XXX");
    t0 = wp_mono_s();
    for (long i = 0; i < n; i++) {
        char buf[64];
        if (i % 10000 == 0 && (i ? wp_ledger_end_batch(l) : 0) == 0)
            wp_ledger_begin_batch(l);
        snprintf(buf, sizeof buf, "%08lx-0000-7000-8000-%012lx", (unsigned long)i,
                 (unsigned long)i);
        memcpy(pid, buf, 36);
        wp_iso8601(base + (double)i, buf, sizeof buf);
        memcpy(pstart, buf, 20);
        snprintf(buf, sizeof buf, "project-%02ld", i % 10);
        memcpy(pproj, buf, 10);
        snprintf(buf, sizeof buf, "experiment-%03ld", i % 100);
        memcpy(pexp, buf, 14);
        char id[37], project[16], experiment[16];
        memcpy(id, pid, 36);
        id[36] = '\0';
        memcpy(project, pproj, 10);
        project[10] = '\0';
        memcpy(experiment, pexp, 14);
        experiment[14] = '\0';
        struct wp_ledger_row row = {.id = id,
                                    .status = "completed",
                                    .start_s = base + (double)i,
                                    .duration_s = 1.5,
                                    .host = "bench",
                                    .project = project,
                                    .experiment = experiment,
                                    .energy_j = 20.0,
                                    .facility_energy_j = 22.0,
                                    .emissions_g = 0.003};
        if (wp_ledger_insert_row(l, &row, text, err, sizeof err) != 0) {
            fprintf(stderr, "bench_ledger: %s\n", err);
            return 1;
        }
    }
    free(text);
    wp_ledger_end_batch(l);
    if (argc > 3)
        printf("insert %ld runs into %s: %.1f s\n", n, wp_ledger_is_uri(path) ? "PostgreSQL" : path,
               since(t0));
    else
        printf("insert %ld runs: %.1f s (target < 30 s); ledger %.0f MB\n", n, since(t0),
               (file_size(path) + file_size(strcat(strcpy(err, path), "-wal"))) / 1e6);

    t0 = wp_mono_s();
    json_t *groups = wp_ledger_summary(l, "experiment", NULL, err, sizeof err);
    printf("summary --by experiment over %ld runs: %.3f s, %zu groups (target < 0.5 s)\n", n,
           since(t0), json_array_size(groups) - 1);
    json_decref(groups);

    t0 = wp_mono_s();
    struct wp_query q = {.limit = 100};
    json_t *runs = wp_ledger_list(l, &q, false, err, sizeof err);
    printf("ls --limit 100 over %ld runs: %.1f ms, %zu runs (target < 50 ms)\n", n, since(t0) * 1e3,
           json_array_size(runs));
    json_decref(runs);
    wp_ledger_close(l);

    day_long_run(dir);
    snprintf(err, sizeof err, "rm -rf %s", dir);
    if (system(err) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    json_decref(tmpl);
    return 0;
}
