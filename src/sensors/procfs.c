/* Parsers for the /proc files the estimating models read. */
#include "procfs.h"

#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define MAX_SOCKETS 64

int wp_procfs_parse_stat(const char *text, struct wp_cpu_times *out)
{
    const char *line = text;
    bool have = false;

    memset(out, 0, sizeof *out);
    while (line && *line) {
        if (strncmp(line, "cpu ", 4) == 0 && !have) {
            unsigned long long v[8] = {0};
            int n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                           &v[3], &v[4], &v[5], &v[6], &v[7]);
            if (n < 4)
                return -EINVAL;
            /* user nice system idle iowait irq softirq steal: steal is time the
             * hypervisor gave to someone else, so it is neither busy nor idle here. */
            out->busy = v[0] + v[1] + v[2] + v[5] + v[6];
            out->total = out->busy + v[3] + v[4];
            have = true;
        } else if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9') {
            out->n_cpus++;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    if (!have)
        return -EINVAL;
    if (out->n_cpus == 0)
        out->n_cpus = 1;
    return 0;
}

double wp_cpu_times_util(const struct wp_cpu_times *prev, const struct wp_cpu_times *cur,
                         double fallback)
{
    if (cur->total <= prev->total || cur->busy < prev->busy)
        return fallback;
    return (double)(cur->busy - prev->busy) / (double)(cur->total - prev->total);
}

int wp_procfs_parse_meminfo_total(const char *text, uint64_t *bytes)
{
    return wp_procfs_parse_meminfo(text, "MemTotal:", bytes) == 0 && *bytes > 0 ? 0 : -EINVAL;
}

int wp_procfs_parse_meminfo(const char *text, const char *key, uint64_t *bytes)
{
    size_t klen = strlen(key);
    const char *p = text;
    unsigned long long kb;
    char unit[8] = "";

    /* the key at the start of a line, not inside another one */
    while ((p = strstr(p, key)) && p != text && p[-1] != '\n')
        p += klen;
    if (!p || sscanf(p + klen, "%llu %7s", &kb, unit) < 1)
        return -EINVAL;
    if (unit[0] && strcmp(unit, "kB") != 0)
        return -EINVAL;
    if (kb > UINT64_MAX / 1024)
        return -EINVAL;
    *bytes = (uint64_t)kb * 1024;
    return 0;
}

void wp_procfs_parse_cpuinfo(const char *text, struct wp_cpuinfo *out)
{
    int ids[MAX_SOCKETS], n_ids = 0;
    const char *line = text;

    memset(out, 0, sizeof *out);
    while (line && *line) {
        const char *colon = strchr(line, ':');
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);

        if (colon && (!eol || colon < eol)) {
            const char *val = colon + 1;
            size_t vlen = len - (size_t)(val - line);
            while (vlen && *val == ' ') {
                val++;
                vlen--;
            }
            if (strncmp(line, "model name", 10) == 0 && !out->model[0]) {
                if (vlen >= sizeof out->model)
                    vlen = sizeof out->model - 1;
                memcpy(out->model, val, vlen);
                out->model[vlen] = '\0';
            } else if (strncmp(line, "flags", 5) == 0) {
                const char *f = val, *end = val + vlen;
                while (f < end) {
                    const char *sp = memchr(f, ' ', (size_t)(end - f));
                    size_t wl = sp ? (size_t)(sp - f) : (size_t)(end - f);
                    if (wl == 10 && memcmp(f, "hypervisor", 10) == 0)
                        out->hypervisor = true;
                    f += wl + 1;
                }
            } else if (strncmp(line, "cpu cores", 9) == 0 && !out->cores) {
                /* a bound, so that cores x sockets stays an int */
                if (sscanf(val, "%d", &out->cores) != 1 || out->cores < 0 || out->cores > 65536)
                    out->cores = 0;
            } else if (strncmp(line, "physical id", 11) == 0) {
                int id, seen = 0;
                if (sscanf(val, "%d", &id) == 1) {
                    for (int i = 0; i < n_ids; i++)
                        seen |= ids[i] == id;
                    if (!seen && n_ids < MAX_SOCKETS)
                        ids[n_ids++] = id;
                }
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    out->sockets = n_ids > 0 ? n_ids : 1;
    out->cores *= out->sockets;
}

void wp_procfs_read_cpuinfo(const char *procfs, struct wp_cpuinfo *out)
{
    size_t cap = 4u << 20;
    char *text = malloc(cap);
    long n = text ? wp_read_text(procfs, "cpuinfo", text, cap) : -1;

    wp_procfs_parse_cpuinfo(n > 0 ? text : "", out);
    free(text);
}

int wp_procfs_parse_pid_usage(const char *text, struct wp_proc_usage *out)
{
    const char *close = strrchr(text, ')'); /* the command may hold spaces and parentheses */
    unsigned long long ut, st, cut, cst, rss;
    long ppid;
    int pid;

    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime cutime cstime priority nice threads itreal start vsize rss */
    if (!close || sscanf(text, "%d", &pid) != 1 ||
        sscanf(close + 1,
               " %*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu %*d %*d %*d %*d "
               "%*u %*u %llu",
               &ppid, &ut, &st, &cut, &cst, &rss) != 6)
        return -EINVAL;
    out->pid = pid;
    out->ppid = (int)ppid;
    out->ticks = ut + st + cut + cst;
    out->rss_pages = rss;
    return 0;
}

/* The tree from every process's stat: without children files. */
static int tree_by_scan(const char *procfs, int root, struct wp_proc_usage *all, int cap)
{
    int n = 0, members = 0;
    struct dirent *de;
    DIR *d = opendir(procfs);

    if (!d)
        return 0;
    while ((de = readdir(d)) && n < cap) {
        char rel[300], text[1024];
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(rel, sizeof rel, "%s/stat", de->d_name);
        if (wp_read_text(procfs, rel, text, sizeof text) > 0 &&
            wp_procfs_parse_pid_usage(text, &all[n]) == 0)
            n++;
    }
    closedir(d);
    /* Members are moved to the front: all[0..members) is the breadth-first queue. */
    for (int i = 0; i < n; i++)
        if (all[i].pid == root) {
            struct wp_proc_usage t = all[0];
            all[0] = all[i];
            all[i] = t;
            members = 1;
            break;
        }
    for (int q = 0; q < members; q++)
        for (int i = members; i < n;) {
            if (all[i].ppid != all[q].pid) {
                i++;
                continue;
            }
            /* a child: swap it to the queue's end; all[i] is then unchecked */
            struct wp_proc_usage t = all[members];
            all[members] = all[i];
            all[i] = t;
            if (i == members)
                i++;
            members++;
        }
    return members;
}

/* Appends pid's children (from its threads' task/TID/children files) to
 * q[*n..cap). Returns 0, or -ENOENT when the kernel has no such files. */
static int add_children(const char *procfs, int pid, struct wp_proc_usage *q, int *n, int cap)
{
    char dir[4200], text[8192];
    struct dirent *de;
    DIR *d;
    int found = 0;

    snprintf(dir, sizeof dir, "%s/%d/task", procfs, pid);
    if (!(d = opendir(dir)))
        return -ENOENT; /* no task files here (or it just ended): the scan will do */
    while ((de = readdir(d))) {
        char path[128];
        long len;
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "%d/task/%.20s/children", pid, de->d_name);
        if ((len = wp_read_text(procfs, path, text, sizeof text)) == -ENOENT)
            continue;
        found = 1;
        for (char *p = text, *end; len > 0 && *n < cap; p = end) {
            long child = strtol(p, &end, 10);
            if (end == p)
                break;
            q[(*n)++] = (struct wp_proc_usage){.pid = (int)child, .ppid = pid};
        }
    }
    closedir(d);
    return found ? 0 : -ENOENT;
}

/* The tree by following children files from root: cost in proportion to the
 * tree, not the machine. Returns the members, or -ENOENT without children files. */
static int tree_by_children(const char *procfs, int root, struct wp_proc_usage *q, int cap)
{
    int n = 1, members = 0, rc;

    q[0] = (struct wp_proc_usage){.pid = root};
    for (int i = 0; i < n; i++) {
        char rel[32], text[1024];
        int pid = q[i].pid;
        snprintf(rel, sizeof rel, "%d/stat", pid);
        if (wp_read_text(procfs, rel, text, sizeof text) <= 0 ||
            wp_procfs_parse_pid_usage(text, &q[members]) != 0)
            continue; /* it ended: its time is in its parent's cutime once reaped */
        members++;
        if ((rc = add_children(procfs, pid, q, &n, cap)) < 0)
            return rc;
    }
    return members;
}

int wp_procfs_tree_usage(const char *procfs, int root, struct wp_proc_usage *all, int cap,
                         struct wp_proc_usage *sum)
{
    int members = tree_by_children(procfs, root, all, cap);

    memset(sum, 0, sizeof *sum);
    if (members < 0)
        members = tree_by_scan(procfs, root, all, cap);
    for (int i = 0; i < members; i++) {
        sum->ticks += all[i].ticks;
        sum->rss_pages += all[i].rss_pages;
    }
    sum->pid = members;
    return members;
}
