/* RAPL counters through a `wattprint serve --socket` daemon: how an ordinary
 * user measures where the counters are root-only (Linux >= 5.10). Each read
 * is one connection that returns a JSON snapshot of the daemon's cumulative
 * energies (since it started: 64-bit, never wrapping). */
#define _GNU_SOURCE
#include "serve_client.h"
#include "sensor.h"

#include "../util/util.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/wattprint.sock"
#define MAX_ANSWER     (256 * 1024)
#define MAX_CH         64

struct client {
    char path[108];
    char *buf; /* MAX_ANSWER bytes, made once in probe */
    int n;
    char device[MAX_CH][32];
};

static enum wp_component component_of(const char *name)
{
    for (int c = 0; c < WP_COMPONENT_COUNT; c++)
        if (strcmp(wp_component_name((enum wp_component)c), name) == 0)
            return (enum wp_component)c;
    return WP_COMPONENT_COUNT;
}

int wp_snapshot_parse(const char *text, size_t len, struct wp_snap_channel *out, int max)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je), *ch;
    size_t i;
    int n = 0;

    if (!json_is_object(root) || json_integer_value(json_object_get(root, "version")) != 1 ||
        !json_is_array(json_object_get(root, "channels"))) {
        json_decref(root);
        return -EINVAL;
    }
    json_array_foreach(json_object_get(root, "channels"), i, ch)
    {
        json_t *e = json_object_get(ch, "energy_uj");
        const char *dev = json_string_value(json_object_get(ch, "device"));
        const char *comp = json_string_value(json_object_get(ch, "component"));
        const char *part = json_string_value(json_object_get(ch, "part_of"));
        if (!json_is_integer(e) || json_integer_value(e) < 0 || !dev || !comp ||
            strlen(dev) >= sizeof out->device || component_of(comp) == WP_COMPONENT_COUNT) {
            n = -EINVAL;
            break;
        }
        if (n == max)
            break;
        memset(&out[n], 0, sizeof out[n]);
        snprintf(out[n].device, sizeof out[n].device, "%s", dev);
        snprintf(out[n].part_of, sizeof out[n].part_of, "%s", part ? part : "");
        out[n].component = component_of(comp);
        out[n].counted = json_is_true(json_object_get(ch, "counted"));
        out[n].lost = json_is_true(json_object_get(ch, "lost"));
        out[n].energy_uj = (uint64_t)json_integer_value(e);
        n++;
    }
    json_decref(root);
    return n;
}

/* One snapshot from the daemon. Returns the channel count, or -errno. */
static int fetch(const char *path, char *buf, struct wp_snap_channel *out, int max)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = 0;
    int fd, rc;

    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        rc = -errno;
        goto out;
    }
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t k;
        if (poll(&p, 1, 2000) <= 0) { /* a stuck daemon must not stall the sampler */
            rc = -ETIMEDOUT;
            goto out;
        }
        k = read(fd, buf + len, MAX_ANSWER - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = -errno;
            goto out;
        }
        if (k == 0)
            break;
        len += (size_t)k;
        if (len == MAX_ANSWER) {
            rc = -E2BIG;
            goto out;
        }
    }
    rc = wp_snapshot_parse(buf, len, out, max);
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

static void client_close(struct wp_sensor *s)
{
    struct client *c = s->priv;

    if (c)
        free(c->buf);
    free(c);
    wp_sensor_free(s);
}

static int client_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    const char *path = getenv("WATTPRINT_SOCKET");
    bool explicit = path && *path;
    struct wp_snap_channel snap[MAX_CH];
    struct wp_sensor *s;
    struct client *c;
    char *buf;
    int n, k = 0;

    if (env->no_socket || (env->covered & (1u << WP_CPU)))
        return -ENODEV;
    if (!explicit)
        path = DEFAULT_SOCKET;
    if (strlen(path) >= sizeof c->path)
        return -ENODEV;
    if (!(buf = malloc(MAX_ANSWER)))
        return -ENOMEM;
    n = fetch(path, buf, snap, MAX_CH);
    if (n <= 0) {
        free(buf);
        if (explicit)
            wp_diag(&env->diag, WP_HINT_SERVE_SOCKET, "WATTPRINT_SOCKET=%s: %s", path,
                    n < 0 ? strerror(-n) : "no measured channels");
        return -ENODEV;
    }
    if (!(c = calloc(1, sizeof *c)) || !(s = wp_sensor_alloc(&wp_serve_client_ops, n))) {
        free(c);
        free(buf);
        return -ENOMEM;
    }
    c->buf = buf;
    snprintf(c->path, sizeof c->path, "%s", path);
    for (int i = 0; i < n; i++) {
        struct wp_channel *ch = &s->channels[k];
        if (env->covered & (1u << snap[i].component))
            continue; /* already measured here */
        ch->sensor = "serve";
        ch->component = snap[i].component;
        ch->method = WP_MEASURED;
        ch->counted = snap[i].counted;
        ch->max_power_w = 1000.0;
        snprintf(ch->device, sizeof ch->device, "%s", snap[i].device);
        snprintf(ch->part_of, sizeof ch->part_of, "%s", snap[i].part_of);
        snprintf(ch->detail, sizeof ch->detail, "counters of wattprint serve at %.100s", path);
        snprintf(c->device[k], sizeof c->device[k], "%s", snap[i].device);
        k++;
    }
    s->n_channels = k;
    c->n = k;
    s->priv = c;
    if (env->unreadable)
        wp_diag(&env->diag, WP_HINT_NONE, "measuring through wattprint serve at %s instead", path);
    *out = s;
    return 0;
}

static void client_read(struct wp_sensor *s, double now, uint64_t *energy_uj, bool *ok)
{
    struct client *c = s->priv;
    struct wp_snap_channel snap[MAX_CH];
    int n = fetch(c->path, c->buf, snap, MAX_CH);

    (void)now;
    for (int i = 0; i < c->n; i++) {
        ok[i] = false;
        for (int j = 0; j < n; j++)
            if (strcmp(snap[j].device, c->device[i]) == 0 && !snap[j].lost) {
                energy_uj[i] = snap[j].energy_uj;
                ok[i] = true;
                break;
            }
    }
}

const struct wp_sensor_ops wp_serve_client_ops = {
    .name = "serve",
    .components = (1u << WP_CPU) | (1u << WP_DRAM) | (1u << WP_PSYS),
    .probe = client_probe,
    .read = client_read,
    .close = client_close,
};
