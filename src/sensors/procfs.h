/* Parsers for the /proc files the estimating models read. */
#ifndef WP_PROCFS_H
#define WP_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wp_cpu_times {
    uint64_t busy;  /* user + nice + system + irq + softirq (guest is inside user) */
    uint64_t total; /* busy + idle + iowait */
    int n_cpus;     /* "cpuN" lines */
};

/* Parses /proc/stat text. Returns 0, or -EINVAL without a valid "cpu" line. */
int wp_procfs_parse_stat(const char *text, struct wp_cpu_times *out);

/* Busy share of CPU time between two readings of /proc/stat; fallback when
 * no tick elapsed (readings closer than a jiffy) or the counters went back. */
double wp_cpu_times_util(const struct wp_cpu_times *prev, const struct wp_cpu_times *cur,
                         double fallback);

/* Parses MemTotal from /proc/meminfo text, in bytes. Returns 0 or -EINVAL. */
int wp_procfs_parse_meminfo_total(const char *text, uint64_t *bytes);

/* Parses the field named key ("MemAvailable:") of /proc/meminfo text, in
 * bytes. Returns 0 or -EINVAL. */
int wp_procfs_parse_meminfo(const char *text, const char *key, uint64_t *bytes);

struct wp_cpuinfo {
    char model[128]; /* first "model name", "" if none */
    bool hypervisor; /* the "hypervisor" CPU flag: a virtual machine */
    int sockets;     /* distinct "physical id" values, at least 1 */
    int cores;       /* "cpu cores" x sockets, 0 if not said */
};

/* Parses /proc/cpuinfo text. Never fails; missing facts stay empty. */
void wp_procfs_parse_cpuinfo(const char *text, struct wp_cpuinfo *out);

/* Reads and parses procfs's cpuinfo, all of it: a socket's "physical id"
 * lies past the first kilobytes on a machine with many threads. */
void wp_procfs_read_cpuinfo(const char *procfs, struct wp_cpuinfo *out);

/* One process's use, from its /proc/PID/stat line. */
struct wp_proc_usage {
    int pid, ppid;
    uint64_t ticks;     /* utime + stime + cutime + cstime, clock ticks */
    uint64_t rss_pages; /* resident set */
};

/* Parses a /proc/PID/stat line. Returns 0 or -EINVAL. */
int wp_procfs_parse_pid_usage(const char *text, struct wp_proc_usage *out);

/* The use of root's process tree (root and its descendants, from procfs's
 * [pid]/stat files), summed into *sum (pid: members), with the caller's
 * scratch space for up to cap processes. Returns the number of members,
 * which are scratch[0..n) on return. */
int wp_procfs_tree_usage(const char *procfs, int root, struct wp_proc_usage *scratch, int cap,
                         struct wp_proc_usage *sum);

#endif
