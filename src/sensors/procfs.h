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

/* Parses MemTotal from /proc/meminfo text, in bytes. Returns 0 or -EINVAL. */
int wp_procfs_parse_meminfo_total(const char *text, uint64_t *bytes);

struct wp_cpuinfo {
    char model[128]; /* first "model name", "" if none */
    bool hypervisor; /* the "hypervisor" CPU flag: a virtual machine */
    int sockets;     /* distinct "physical id" values, at least 1 */
};

/* Parses /proc/cpuinfo text. Never fails; missing facts stay empty. */
void wp_procfs_parse_cpuinfo(const char *text, struct wp_cpuinfo *out);

/* The pids of root and all its descendants, from procfs's [pid]/stat files,
 * into out[0..max), using the caller's scratch space for up to cap
 * processes (so that a sensor's read allocates nothing of its own). Returns
 * the count (root included when it is alive). */
int wp_procfs_descendants(const char *procfs, int root, int *out, int max, int (*scratch)[2],
                          int cap);

/* Parses the pid and parent pid from a /proc/PID/stat line. Returns 0 or
 * -EINVAL. */
int wp_procfs_parse_pid_stat(const char *text, int *pid, int *ppid);

#endif
