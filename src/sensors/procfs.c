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

int wp_procfs_parse_meminfo_total(const char *text, uint64_t *bytes)
{
    const char *p = strstr(text, "MemTotal:");
    unsigned long long kb;
    char unit[8] = "";

    if (!p || sscanf(p + 9, "%llu %7s", &kb, unit) < 1 || kb == 0)
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
}

int wp_procfs_parse_pid_stat(const char *text, int *pid, int *ppid)
{
    const char *close = strrchr(text, ')'); /* the command may hold spaces and parentheses */
    char state;

    if (!close || sscanf(text, "%d", pid) != 1 || sscanf(close + 1, " %c %d", &state, ppid) != 2)
        return -EINVAL;
    return 0;
}

int wp_procfs_descendants(const char *procfs, int root, int *out, int max, int (*pairs)[2], int cap)
{
    int n = 0, found = 0;
    struct dirent *de;
    DIR *d = opendir(procfs);

    if (!d)
        return 0;
    while ((de = readdir(d)) && n < cap) {
        char rel[300], text[1024];
        int pid, ppid;
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(rel, sizeof rel, "%s/stat", de->d_name);
        if (wp_read_text(procfs, rel, text, sizeof text) > 0 &&
            wp_procfs_parse_pid_stat(text, &pid, &ppid) == 0) {
            pairs[n][0] = pid;
            pairs[n][1] = ppid;
            n++;
        }
    }
    closedir(d);
    /* breadth first from root: out[] is the queue */
    for (int i = 0; i < n; i++)
        if (pairs[i][0] == root && found < max)
            out[found++] = root;
    for (int q = 0; q < found; q++)
        for (int i = 0; i < n && found < max; i++)
            if (pairs[i][1] == out[q])
                out[found++] = pairs[i][0];
    return found;
}
