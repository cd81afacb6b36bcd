/* Parsers of outside text: sysfs numbers, perf event descriptions, CPU lists,
 * /proc/stat, /proc/meminfo, /proc/cpuinfo, configuration files, cloud
 * metadata answers; and the formats people read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "account/cloud.h"
#include "config/config.h"
#include "sensors/procfs.h"
#include "sensors/sysfs_parse.h"
#include "util/util.h"

static void u64_good_and_bad(void **state)
{
    uint64_t v;
    (void)state;
    assert_int_equal(wp_parse_u64("123\n", 4, &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(wp_parse_u64("18446744073709551615", 20, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_not_equal(wp_parse_u64("18446744073709551616", 20, &v), 0);
    assert_int_not_equal(wp_parse_u64("", 0, &v), 0);
    assert_int_not_equal(wp_parse_u64("\n", 1, &v), 0);
    assert_int_not_equal(wp_parse_u64("-1", 2, &v), 0);
    assert_int_not_equal(wp_parse_u64("12a", 3, &v), 0);
    assert_int_not_equal(wp_parse_u64("1 2", 3, &v), 0);
}

static void doubles(void **state)
{
    double d;
    (void)state;
    assert_int_equal(wp_parse_double("0.5", &d), 0);
    assert_float_equal(d, 0.5, 0);
    assert_int_not_equal(wp_parse_double("nan", &d), 0);
    assert_int_not_equal(wp_parse_double("inf", &d), 0);
    assert_int_not_equal(wp_parse_double("1e999", &d), 0);
    assert_int_not_equal(wp_parse_double("", &d), 0);
    assert_int_not_equal(wp_parse_double(" 1", &d), 0);
    assert_int_not_equal(wp_parse_double("1x", &d), 0);
}

static void perf_config(void **state)
{
    uint64_t c;
    (void)state;
    assert_int_equal(wp_perf_parse_config("event=0x02\n", &c), 0);
    assert_int_equal(c, 2);
    assert_int_equal(wp_perf_parse_config("event=0x01,umask=0x10", &c), 0);
    assert_int_equal(c, 0x1001);
    assert_int_not_equal(wp_perf_parse_config("umask=0x10", &c), 0);
    assert_int_not_equal(wp_perf_parse_config("event=0x100", &c), 0);
    assert_int_not_equal(wp_perf_parse_config("event=", &c), 0);
    assert_int_not_equal(wp_perf_parse_config("config=1", &c), 0);
}

static void cpulist(void **state)
{
    int cpus[8];
    (void)state;
    assert_int_equal(wp_sysfs_parse_cpulist("0,28\n", cpus, 8), 2);
    assert_int_equal(cpus[1], 28);
    assert_int_equal(wp_sysfs_parse_cpulist("0-3,8", cpus, 8), 5);
    assert_int_equal(cpus[4], 8);
    assert_int_equal(wp_sysfs_parse_cpulist("0-100", cpus, 8), -EINVAL);
    assert_int_equal(wp_sysfs_parse_cpulist("3-1", cpus, 8), -EINVAL);
    assert_int_equal(wp_sysfs_parse_cpulist("", cpus, 8), -EINVAL);
    assert_int_equal(wp_sysfs_parse_cpulist("a", cpus, 8), -EINVAL);
}

static void proc_stat(void **state)
{
    struct wp_cpu_times t;
    const char *text = "cpu  10 1 5 100 3 2 1 7 0 0\ncpu0 5 0 2 50 1 1 0 3 0 0\n"
                       "cpu1 5 1 3 50 2 1 1 4 0 0\nintr 1\n";
    (void)state;
    assert_int_equal(wp_procfs_parse_stat(text, &t), 0);
    assert_int_equal(t.busy, 10 + 1 + 5 + 2 + 1);
    assert_int_equal(t.total, t.busy + 100 + 3);
    assert_int_equal(t.n_cpus, 2);
    assert_int_not_equal(wp_procfs_parse_stat("intr 1\n", &t), 0);
    assert_int_not_equal(wp_procfs_parse_stat("cpu  1 2\n", &t), 0);
}

static void meminfo(void **state)
{
    uint64_t b;
    (void)state;
    assert_int_equal(wp_procfs_parse_meminfo_total("MemTotal:       16000000 kB\n", &b), 0);
    assert_true(b == 16000000ULL * 1024);
    assert_int_not_equal(wp_procfs_parse_meminfo_total("MemFree: 1 kB\n", &b), 0);
    assert_int_not_equal(wp_procfs_parse_meminfo_total("MemTotal: 0 kB\n", &b), 0);
    assert_int_not_equal(wp_procfs_parse_meminfo_total("MemTotal: 5 MB\n", &b), 0);
    /* a key found only at the start of a line */
    assert_int_equal(
        wp_procfs_parse_meminfo("XMemAvailable: 7 kB\nMemAvailable: 9 kB\n", "MemAvailable:", &b),
        0);
    assert_true(b == 9 * 1024);
    assert_int_not_equal(wp_procfs_parse_meminfo("XMemAvailable: 7 kB\n", "MemAvailable:", &b), 0);
}

static void cpuinfo(void **state)
{
    struct wp_cpuinfo ci;
    const char *text = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n"
                       "physical id\t: 0\nflags\t\t: fpu hypervisorx avx\n\n"
                       "processor\t: 1\nmodel name\t: other\nphysical id\t: 1\n"
                       "flags\t\t: fpu hypervisor\n";
    (void)state;
    wp_procfs_parse_cpuinfo(text, &ci);
    assert_string_equal(ci.model, "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz");
    assert_true(ci.hypervisor);
    assert_int_equal(ci.sockets, 2);
    wp_procfs_parse_cpuinfo("flags : hypervisorx\n", &ci);
    assert_false(ci.hypervisor);
    assert_int_equal(ci.sockets, 1);
    assert_string_equal(ci.model, "");
}

static void utc_times_and_spans(void **state)
{
    double t;
    (void)state;
    assert_int_equal(wp_parse_utc("2026-12-01T12:00:00.000Z", &t), 0);
    assert_true(t == 1796126400.0);
    assert_int_equal(wp_parse_utc("2026-12-01 12:00:00", &t), 0);
    assert_true(t == 1796126400.0);
    assert_int_equal(wp_parse_utc("2026-12-01T12:00Z", &t), 0);
    assert_true(t == 1796126400.0);
    assert_int_not_equal(wp_parse_utc("yesterday", &t), 0);
    assert_int_equal(wp_parse_span("90m", &t), 0);
    assert_true(t == 5400);
    assert_int_equal(wp_parse_span("3600", &t), 0);
    assert_true(t == 3600);
    assert_int_not_equal(wp_parse_span("8x", &t), 0);
    assert_int_not_equal(wp_parse_span("-1h", &t), 0);
    assert_int_not_equal(wp_parse_span("", &t), 0);
}

static void pid_usage(void **state)
{
    struct wp_proc_usage u;
    const char *line = "77 (a) b) R 12 77 77 0 -1 4194304 100 0 0 0 250 50 7 3 20 0 1 0 "
                       "1000 123456 4096 18446744073709551615";
    (void)state;
    assert_int_equal(wp_procfs_parse_pid_usage(line, &u), 0);
    assert_int_equal(u.pid, 77);
    assert_int_equal(u.ppid, 12);
    assert_true(u.ticks == 250 + 50 + 7 + 3);
    assert_true(u.rss_pages == 4096);
    assert_int_not_equal(wp_procfs_parse_pid_usage("77 (a) R 12 77", &u), 0);
}

/* A fake /proc: 1 (not ours) -> 10 -> {11 -> 13, 12}; with children files
 * when with_children, else only the stat files (the scan fallback). */
static void make_tree(const char *root, bool with_children)
{
    static const int pids[][2] = {{1, 0}, {10, 1}, {11, 10}, {12, 10}, {13, 11}, {20, 1}};
    char path[512];

    for (size_t i = 0; i < sizeof pids / sizeof *pids; i++) {
        FILE *f;
        snprintf(path, sizeof path, "%s/%d", root, pids[i][0]);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/%d/stat", root, pids[i][0]);
        f = fopen(path, "w");
        fprintf(f, "%d (p) S %d 1 1 0 -1 0 0 0 0 0 %d 1 0 0 20 0 1 0 100 4096 %d\n", pids[i][0],
                pids[i][1], pids[i][0], 100 + pids[i][0]);
        fclose(f);
        if (!with_children)
            continue;
        snprintf(path, sizeof path, "%s/%d/task", root, pids[i][0]);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/%d/task/%d", root, pids[i][0], pids[i][0]);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/%d/task/%d/children", root, pids[i][0], pids[i][0]);
        f = fopen(path, "w");
        for (size_t j = 0; j < sizeof pids / sizeof *pids; j++)
            if (pids[j][1] == pids[i][0])
                fprintf(f, "%d ", pids[j][0]);
        fclose(f);
    }
    if (with_children) {
        /* a stat that claims 10 as parent but no children file lists: only
         * the scan would count it, so the count says which path ran */
        FILE *f;
        snprintf(path, sizeof path, "%s/30", root);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/30/stat", root);
        f = fopen(path, "w");
        fprintf(f, "30 (p) S 10 1 1 0 -1 0 0 0 0 0 1000 0 0 0 20 0 1 0 100 4096 1\n");
        fclose(f);
    }
}

static void process_tree_usage(void **state)
{
    static struct wp_proc_usage scratch[64];
    struct wp_proc_usage sum;
    (void)state;
    for (int with = 0; with < 2; with++) {
        char root[] = "/tmp/wp-proc-XXXXXX";
        assert_non_null(mkdtemp(root));
        make_tree(root, with);
        assert_int_equal(wp_procfs_tree_usage(root, 10, scratch, 64, &sum), 4);
        assert_true(sum.ticks == (10 + 1) + (11 + 1) + (12 + 1) + (13 + 1));
        assert_true(sum.rss_pages == 110 + 111 + 112 + 113);
        assert_int_equal(wp_procfs_tree_usage(root, 11, scratch, 64, &sum), 2);
        assert_int_equal(wp_procfs_tree_usage(root, 99, scratch, 64, &sum), 0);
        assert_true(sum.ticks == 0);
        {
            char cmd[64];
            snprintf(cmd, sizeof cmd, "rm -rf %s", root);
            assert_int_equal(system(cmd), 0);
        }
    }
}

static void dmi_memory_device(void **state)
{
    unsigned char raw[0x28] = {17, 0x28};
    struct wp_dimm d;
    (void)state;
    raw[0x0C] = 0x00, raw[0x0D] = 0x40, raw[0x12] = 0x1A; /* 16384 MB DDR4 */
    assert_int_equal(wp_dmi_parse_memory_device(raw, sizeof raw, &d), 0);
    assert_true(d.size_mb == 16384);
    assert_string_equal(d.type, "DDR4");
    raw[0x0C] = 0xFF, raw[0x0D] = 0x7F, raw[0x1D] = 0x00, raw[0x1E] = 0x01; /* extended: 64 GB */
    raw[0x1C] = 0x00, raw[0x12] = 0x22;
    assert_int_equal(wp_dmi_parse_memory_device(raw, sizeof raw, &d), 0);
    assert_true(d.size_mb == 65536);
    assert_string_equal(d.type, "DDR5");
    raw[0x0C] = 0x00, raw[0x0D] = 0x00; /* an empty slot */
    assert_int_equal(wp_dmi_parse_memory_device(raw, sizeof raw, &d), 0);
    assert_true(d.size_mb == 0);
    raw[0x0C] = 0xFF, raw[0x0D] = 0xFF; /* unknown size */
    assert_int_not_equal(wp_dmi_parse_memory_device(raw, sizeof raw, &d), 0);
    raw[0] = 16; /* not a memory device */
    assert_int_not_equal(wp_dmi_parse_memory_device(raw, sizeof raw, &d), 0);
    raw[0] = 17;
    assert_int_not_equal(wp_dmi_parse_memory_device(raw, 0x10, &d), 0); /* truncated */
}

static void counts_and_units(void **state)
{
    char b[64];
    (void)state;
    wp_fmt_count(950, b, sizeof b);
    assert_string_equal(b, "950");
    wp_fmt_count(12000, b, sizeof b);
    assert_string_equal(b, "12,000");
    wp_fmt_count(-1234567, b, sizeof b);
    assert_string_equal(b, "-1,234,567");
    wp_fmt_count(4.2e7, b, sizeof b);
    assert_string_equal(b, "42 million");
    wp_fmt_count(3e11, b, sizeof b);
    assert_string_equal(b, "300 billion");
    wp_fmt_count(12.25, b, sizeof b);
    assert_string_equal(b, "12.25");
    wp_fmt_volume(3.509e-7, b, sizeof b);
    assert_string_equal(b, "351 nL");
    wp_fmt_volume(5.5e-5, b, sizeof b);
    assert_string_equal(b, "55 \u00b5L");
    wp_fmt_volume(0.0123, b, sizeof b);
    assert_string_equal(b, "12.3 mL");
    wp_fmt_volume(0, b, sizeof b);
    assert_string_equal(b, "0 L");
    wp_fmt_volume(1535, b, sizeof b);
    assert_string_equal(b, "1.53 m\u00b3");
    wp_fmt_mass(0, b, sizeof b); /* masses share the formatter */
    assert_string_equal(b, "0 mg");
    wp_fmt_mass(4.19e-7, b, sizeof b);
    assert_string_equal(b, "419 ng");
    wp_fmt_mass(2500, b, sizeof b);
    assert_string_equal(b, "2.5 kg");
    wp_fmt_mass(11.2e6, b, sizeof b);
    assert_string_equal(b, "11.2 t");
    wp_unit_singular("tokens", b, sizeof b);
    assert_string_equal(b, "token");
    wp_unit_singular("queries", b, sizeof b);
    assert_string_equal(b, "query");
    wp_unit_singular("batches", b, sizeof b);
    assert_string_equal(b, "batch");
    wp_unit_singular("steps", b, sizeof b);
    assert_string_equal(b, "step");
    wp_unit_singular("loss", b, sizeof b);
    assert_string_equal(b, "loss");
    wp_unit_singular("corpus", b, sizeof b);
    assert_string_equal(b, "corpus");
    wp_unit_singular("epoch", b, sizeof b);
    assert_string_equal(b, "epoch");
}

static void config_lines(void **state)
{
    struct wp_config c = {0};
    char err[512];
    (void)state;
    assert_int_equal(
        wp_config_parse(&c, "# x\n  region = FR # home\npue=1.2\n\n", "f", err, sizeof err), 0);
    assert_string_equal(wp_config_get(&c, "region")->value, "FR");
    assert_int_equal(wp_config_get(&c, "region")->line, 2);
    assert_string_equal(wp_config_get(&c, "pue")->value, "1.2");
    assert_null(wp_config_get(&c, "ledger"));
    /* a later line replaces an earlier one */
    assert_int_equal(wp_config_parse(&c, "region = SE", "g", err, sizeof err), 0);
    assert_string_equal(wp_config_get(&c, "region")->from, "g");
    assert_int_equal(c.n, 2);
    assert_int_equal(wp_config_parse(&c, "pue = 1.1\npue = 0.5\n", "f", err, sizeof err), -EINVAL);
    assert_string_equal(err, "f:2: pue: '0.5' is not a number from 1 to 3");
    assert_int_equal(wp_config_parse(&c, "--region = FR", "f", err, sizeof err), -EINVAL);
    assert_int_equal(wp_config_parse(&c, "interval 1", "f", err, sizeof err), -EINVAL);
}

static void cloud_answers(void **state)
{
    char r[64], v[64];
    (void)state;
    assert_int_equal(wp_cloud_parse_name("eu-west-3\n", 10, r, sizeof r), 0);
    assert_string_equal(r, "eu-west-3");
    assert_int_not_equal(wp_cloud_parse_name("eu west", 7, r, sizeof r), 0);
    assert_int_not_equal(wp_cloud_parse_name("", 0, r, sizeof r), 0);
    assert_int_equal(wp_cloud_parse_gcp("projects/9/zones/us-central1-a", 30, 1, r, sizeof r), 0);
    assert_string_equal(r, "us-central1");
    assert_int_equal(
        wp_cloud_parse_gcp("projects/9/machineTypes/n1-standard-4", 37, 0, r, sizeof r), 0);
    assert_string_equal(r, "n1-standard-4");
    assert_int_not_equal(wp_cloud_parse_gcp("zones/us-central1-a", 19, 1, r, sizeof r), 0);
    assert_int_not_equal(wp_cloud_parse_gcp("projects/9/zones/abc", 20, 1, r, sizeof r), 0);
    assert_int_equal(wp_cloud_parse_azure("{\"location\":\"westeurope\",\"vmSize\":\"D2\"}", 39, r,
                                          sizeof r, v, sizeof v),
                     0);
    assert_string_equal(r, "westeurope");
    assert_string_equal(v, "D2");
    assert_int_not_equal(wp_cloud_parse_azure("{\"location\":7}", 14, r, sizeof r, v, sizeof v), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(u64_good_and_bad),  cmocka_unit_test(doubles),
        cmocka_unit_test(perf_config),       cmocka_unit_test(cpulist),
        cmocka_unit_test(proc_stat),         cmocka_unit_test(meminfo),
        cmocka_unit_test(cpuinfo),           cmocka_unit_test(counts_and_units),
        cmocka_unit_test(config_lines),      cmocka_unit_test(cloud_answers),
        cmocka_unit_test(pid_usage),         cmocka_unit_test(utc_times_and_spans),
        cmocka_unit_test(dmi_memory_device), cmocka_unit_test(process_tree_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
