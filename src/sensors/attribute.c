/* A process's own share of the machine's CPU and DRAM energy: wraps a sensor
 * whose CPU or DRAM channels cover the whole machine (RAPL, perf, the models)
 * and splits each interval's energy by the measured command's process tree.
 * CPU: the tree's CPU time over the machine's busy time (/proc/stat); DRAM:
 * the tree's resident memory over the machine's memory in use. Time when
 * nothing ran is nobody's, as with the GPUs' share. */
#define _GNU_SOURCE
#include "sensor.h"

#include "../util/util.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WALK 32768 /* processes looked at per reading */

enum kind { PASS, SHARE, WHOLE };

struct out_ch {
    enum kind kind;
    int in;           /* the inner channel */
    uint64_t prev_uj; /* SHARE: the inner counter at the last reading */
    double share_uj;  /* SHARE: the run's energy so far */
    bool seen;
};

struct attr {
    struct wp_sensor *inner;
    struct out_ch *map;
    uint64_t *in_e;
    bool *in_ok;
    const char *procfs;
    const _Atomic int *root_pid;
    struct wp_proc_usage *scratch;
    long page;
    bool started;
    uint64_t tree_ticks, busy_ticks; /* at the last reading */
    double cpu_share, mem_share;     /* of the last interval */
    double mem_at;                   /* the memory share at the last reading */
};

static void attr_close(struct wp_sensor *s)
{
    struct attr *a = s->priv;

    if (a) {
        if (a->inner)
            a->inner->ops->close(a->inner);
        free(a->map);
        free(a->in_e);
        free(a->in_ok);
        free(a->scratch);
        free(a);
    }
    wp_sensor_free(s);
}

static bool attributable(const struct wp_channel *ch)
{
    return ch->counted && (ch->component == WP_CPU || ch->component == WP_DRAM);
}

/* The share's channel and the whole's beside it, as the GPUs' are. */
static void describe(struct wp_channel *share, struct wp_channel *whole)
{
    char detail[sizeof share->detail], device[sizeof share->device];

    *whole = *share;
    whole->counted = false;
    memcpy(device, share->device, sizeof device);
    snprintf(whole->device, sizeof whole->device, "%.27s-all", device);
    snprintf(
        detail, sizeof detail, "the run's share by %s of its process tree; %s is the whole (%s)",
        share->component == WP_CPU ? "CPU time" : "resident memory", whole->device, whole->detail);
    memcpy(share->detail, detail, sizeof detail);
    memcpy(share->share_of, whole->device, sizeof share->share_of);
    share->range_uj = 0; /* the share is accumulated here and never wraps */
}

static int build(struct attr *a, struct wp_sensor *s)
{
    struct wp_sensor *in = a->inner;

    for (int i = 0, o = 0; i < in->n_channels; i++) {
        s->channels[o] = in->channels[i];
        a->map[o] = (struct out_ch){.kind = PASS, .in = i};
        if (attributable(&in->channels[i])) {
            a->map[o].kind = SHARE;
            a->map[o + 1] = (struct out_ch){.kind = WHOLE, .in = i};
            describe(&s->channels[o], &s->channels[o + 1]);
            o++;
        }
        o++;
    }
    return 0;
}

int wp_attribute_wrap(struct wp_sensor_env *env, struct wp_sensor *inner, struct wp_sensor **out)
{
    int extra = 0;
    struct wp_sensor *s;
    struct attr *a;

    for (int i = 0; i < inner->n_channels; i++)
        extra += attributable(&inner->channels[i]);
    if (!env->attribute_process || extra == 0 || !env->root_pid) {
        *out = inner;
        return 0;
    }
    a = calloc(1, sizeof *a);
    s = a ? wp_sensor_alloc(&wp_attribute_ops, inner->n_channels + extra) : NULL;
    if (s) {
        a->map = calloc((size_t)s->n_channels, sizeof *a->map);
        a->in_e = calloc((size_t)inner->n_channels, sizeof *a->in_e);
        a->in_ok = calloc((size_t)inner->n_channels, sizeof *a->in_ok);
        a->scratch = calloc(MAX_WALK, sizeof *a->scratch);
    }
    if (!s || !a->map || !a->in_e || !a->in_ok || !a->scratch) {
        inner->ops->close(inner);
        if (s) {
            s->priv = a;
            attr_close(s);
        } else {
            free(a);
        }
        return -ENOMEM;
    }
    a->inner = inner;
    a->procfs = env->procfs_root;
    a->root_pid = env->root_pid;
    a->page = sysconf(_SC_PAGESIZE);
    s->priv = a;
    build(a, s);
    *out = s;
    return 0;
}

static double clamp01(double x)
{
    return x > 1.0 ? 1.0 : (x > 0.0 ? x : 0.0);
}

/* The tree's shares of the interval since the last reading. */
static void update_shares(struct attr *a)
{
    int root = atomic_load(a->root_pid);
    struct wp_proc_usage tree = {0};
    struct wp_cpu_times t;
    uint64_t total, avail;
    char text[16384];

    if (root > 0)
        wp_procfs_tree_usage(a->procfs, root, a->scratch, MAX_WALK, &tree);
    if (wp_read_text(a->procfs, "stat", text, sizeof text) > 0 &&
        wp_procfs_parse_stat(text, &t) == 0) {
        if (a->started) {
            /* A tree that lost members to another parent shrinks: that
             * interval counts nothing rather than a negative share. */
            uint64_t busy = t.busy > a->busy_ticks ? t.busy - a->busy_ticks : 0;
            uint64_t mine = tree.ticks > a->tree_ticks ? tree.ticks - a->tree_ticks : 0;
            a->cpu_share = busy ? clamp01((double)mine / (double)busy) : 0.0;
        }
        a->busy_ticks = t.busy;
        a->started = true;
    }
    a->tree_ticks = tree.ticks;
    if (wp_read_text(a->procfs, "meminfo", text, sizeof text) > 0 &&
        wp_procfs_parse_meminfo(text, "MemTotal:", &total) == 0 &&
        wp_procfs_parse_meminfo(text, "MemAvailable:", &avail) == 0 && total > avail) {
        double now = clamp01((double)tree.rss_pages * (double)a->page / (double)(total - avail));
        /* The interval's share: the mean of its ends, or its start's once the
         * tree has ended (an exited process holds no memory, but did). */
        a->mem_share = tree.rss_pages ? (a->mem_at + now) / 2 : a->mem_at;
        a->mem_at = now;
    }
}

static void attr_read(struct wp_sensor *s, double now_s, uint64_t *energy_uj, bool *ok)
{
    struct attr *a = s->priv;

    a->inner->ops->read(a->inner, now_s, a->in_e, a->in_ok);
    update_shares(a);
    for (int o = 0; o < s->n_channels; o++) {
        struct out_ch *m = &a->map[o];
        const struct wp_channel *in = &a->inner->channels[m->in];
        uint64_t cur = a->in_e[m->in];

        ok[o] = a->in_ok[m->in];
        s->channels[o].range_lo = in->range_lo; /* the models update theirs as they go */
        s->channels[o].range_hi = in->range_hi;
        if (m->kind != SHARE) {
            energy_uj[o] = cur;
            continue;
        }
        if (ok[o]) {
            if (m->seen)
                m->share_uj += (double)wp_counter_delta(m->prev_uj, cur, in->range_uj) *
                               (in->component == WP_CPU ? a->cpu_share : a->mem_share);
            m->prev_uj = cur;
            m->seen = true;
        }
        energy_uj[o] = (uint64_t)m->share_uj;
    }
}

const struct wp_sensor_ops wp_attribute_ops = {
    .name = "attribute",
    .components = (1u << WP_CPU) | (1u << WP_DRAM),
    .read = attr_read,
    .close = attr_close,
};
