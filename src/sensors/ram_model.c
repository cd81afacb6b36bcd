/* Estimated DRAM power where no counter can be read: a constant power per GB
 * of installed memory (Green Algorithms), over the window's duration. */
#include "sensor.h"

#include "../util/util.h"
#include "power_models.h"
#include "procfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct ram_model {
    double power_w;
    double t0;
    bool started;
};

static void ram_close(struct wp_sensor *s)
{
    free(s->priv);
    wp_sensor_free(s);
}

static int ram_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    char text[8192];
    uint64_t bytes;
    struct wp_sensor *s;
    struct ram_model *m;
    struct wp_channel *ch;
    long n;

    if ((env->covered & (1u << WP_DRAM)) || !env->allow_estimates)
        return -ENODEV;
    n = wp_read_text(env->procfs_root, "meminfo", text, sizeof text);
    if (n <= 0 || wp_procfs_parse_meminfo_total(text, &bytes))
        return -ENODEV;
    m = calloc(1, sizeof *m);
    s = m ? wp_sensor_alloc(&wp_ram_model_ops, 1) : NULL;
    if (!s) {
        free(m);
        return -ENOMEM;
    }
    m->power_w = WP_RAM_W_PER_GB * (double)bytes / 1e9;
    ch = &s->channels[0];
    ch->sensor = "ram-model";
    ch->component = WP_DRAM;
    ch->method = WP_ESTIMATED;
    ch->counted = true;
    snprintf(ch->device, sizeof ch->device, "dram");
    snprintf(ch->detail, sizeof ch->detail, "%.4f W/GB x %.1f GB installed = %.2f W",
             WP_RAM_W_PER_GB, (double)bytes / 1e9, m->power_w);
    s->priv = m;
    *out = s;
    return 0;
}

static void ram_read(struct wp_sensor *s, double now_s, uint64_t *energy_uj, bool *ok)
{
    struct ram_model *m = s->priv;

    if (!m->started) {
        m->t0 = now_s;
        m->started = true;
    }
    energy_uj[0] = (uint64_t)(m->power_w * (now_s - m->t0) * 1e6);
    ok[0] = true;
}

const struct wp_sensor_ops wp_ram_model_ops = {
    .name = "ram-model",
    .components = (1u << WP_DRAM),
    .probe = ram_probe,
    .read = ram_read,
    .close = ram_close,
};
