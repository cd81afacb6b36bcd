/* Benchmark: CPU cost of sampling RAPL zones. Builds a powercap tree with 7
 * zones (2 packages with core, uncore and dram, plus psys) in a temporary
 * directory, opens it through the real rapl sensor, and measures the
 * process's CPU time while the meter samples at a given rate.
 * With "gpus" as the second argument, samples the GPUs that the NVML library
 * in $WATTPRINT_NVML_LIBRARY reports at 10 Hz instead.
 * Usage: bench_sampling [SECONDS [gpus]]. */
#define _GNU_SOURCE
#include "meter/meter.h"
#include "sensors/sensor.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void put(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static void zone(const char *root, const char *id, const char *name)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/class/powercap/%s", root, id);
    mkdir(dir, 0755);
    put(dir, "name", name);
    put(dir, "energy_uj", "123456789\n");
    put(dir, "max_energy_range_uj", "262143328850\n");
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double measure(const char *root, double interval, double seconds)
{
    struct wp_sensor_env env = {.sysfs_root = root, .procfs_root = "/nonexistent", .gpus = "all"};
    struct wp_sensor **sensors;
    struct wp_meter *m;
    struct timespec ts = {(time_t)seconds, (long)((seconds - (long)seconds) * 1e9)};
    int n = wp_sensors_probe(&env, &sensors), channels = 0;
    double c0, c1;

    for (int i = 0; i < n; i++)
        channels += sensors[i]->n_channels;
    if (wp_meter_create(sensors, n, interval, NULL, &m)) {
        fprintf(stderr, "meter: out of memory\n");
        exit(1);
    }
    c0 = cpu_s();
    wp_meter_start(m);
    nanosleep(&ts, NULL);
    wp_meter_stop(m);
    c1 = cpu_s();
    printf("sampling %d channels every %g s (%g Hz) for %g s: %d readings, CPU %.4f s = %.4f%% of "
           "one core\n",
           channels, interval, 1.0 / interval, seconds, wp_meter_n_samples(m), c1 - c0,
           100.0 * (c1 - c0) / seconds);
    {
        int readings = wp_meter_n_samples(m);
        wp_meter_free(m);
        return readings > 0 ? (c1 - c0) / readings : 0;
    }
}

/* The floor: a loop that only preads and parses the same files at the same
 * rate, with nothing of the meter (no lock, no integration, no samples). */
static double bare_loop(const char *root, double interval, double seconds)
{
    static const char *const ids[] = {"intel-rapl:0", "intel-rapl:0:0", "intel-rapl:0:1",
                                      "intel-rapl:1", "intel-rapl:1:0", "intel-rapl:1:1",
                                      "intel-rapl:2"};
    int fds[7], n = (int)(seconds / interval);
    struct timespec next;
    double c0, c1;
    unsigned long long sum = 0;

    for (int i = 0; i < 7; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/class/powercap/%s/energy_uj", root, ids[i]);
        fds[i] = open(path, O_RDONLY);
    }
    c0 = cpu_s();
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < 7; i++) {
            char buf[32];
            ssize_t len = pread(fds[i], buf, sizeof buf - 1, 0);
            buf[len > 0 ? len : 0] = '\0';
            sum += strtoull(buf, NULL, 10);
        }
        next.tv_nsec += (long)(interval * 1e9);
        while (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    c1 = cpu_s();
    for (int i = 0; i < 7; i++)
        close(fds[i]);
    printf("bare pread loop, 7 files every %g s for %g s: %d readings, CPU %.4f s = %.4f%% of one "
           "core (checksum %llu)\n",
           interval, seconds, n, c1 - c0, 100.0 * (c1 - c0) / seconds, sum % 10);
    return (c1 - c0) / n;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10.0;
    char root[] = "/tmp/wattprint-bench-XXXXXX", dir[512];

    if (argc > 2 && strcmp(argv[2], "gpus") == 0) {
        (void)measure("/nonexistent", 0.1, seconds);
        return 0;
    }
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/class", root);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/class/powercap", root);
    mkdir(dir, 0755);
    zone(root, "intel-rapl:0", "package-0\n");
    zone(root, "intel-rapl:0:0", "core\n");
    zone(root, "intel-rapl:0:1", "dram\n");
    zone(root, "intel-rapl:1", "package-1\n");
    zone(root, "intel-rapl:1:0", "core\n");
    zone(root, "intel-rapl:1:1", "dram\n");
    zone(root, "intel-rapl:2", "psys\n");
    {
        double meter = measure(root, 0.01, seconds), bare = bare_loop(root, 0.01, seconds);
        printf("per reading at 100 Hz: the meter %.2f us, the bare loop %.2f us: %.2fx "
               "(target <= 1.5x)\n",
               meter * 1e6, bare * 1e6, bare > 0 ? meter / bare : 0);
    }
    measure(root, 1.0, seconds);
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf %s", root);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", root);
    }
    return 0;
}
