/* wattprint serve: this node's energy for Prometheus, and for local users. */
#define _GNU_SOURCE
#include "carbon_opts.h"
#include "cli.h"
#include "config_opts.h"

#include "../serve/serve.h"
#include "../util/util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: wattprint serve [--listen ADDR:PORT|none] [--socket PATH] [options]\n"
    "\n"
    "Serves this node's energy counters until SIGINT or SIGTERM:\n"
    "  GET /metrics   Prometheus text: wattprint_energy_joules_total and\n"
    "                 wattprint_power_watts per channel; with a region or intensity,\n"
    "                 wattprint_emissions_grams_total and the grid intensity\n"
    "  GET /healthz   ok\n"
    "\n"
    "Options:\n"
    "  --listen ADDR:PORT   HTTP address (default 127.0.0.1:9731; [::1]:9731 for IPv6;\n"
    "                       0.0.0.0:9731 to be scraped from other hosts; none: no HTTP)\n"
    "  --socket PATH        also serve the counters on a Unix socket, so that any local\n"
    "                       user's `wattprint run` measures without root\n"
    "                       (WATTPRINT_SOCKET on the client; default " WP_SERVE_DEFAULT_SOCKET ")\n"
    "  --socket-mode MODE   the socket's permissions, octal (default 0666)\n"
    "  --socket-resolution S  at most one fresh reading per S seconds for socket\n"
    "                       clients (default 0.1; RAPL read fast is a side channel)\n"
    "  --interval S         seconds between readings (default 1)\n" WP_CARBON_HELP;

static int parse_listen(const char *v, char *addr, size_t cap, int *port)
{
    const char *colon = strrchr(v, ':');
    char *end;
    long p;

    if (strcmp(v, "none") == 0) {
        *port = 0;
        return 0;
    }
    if (!colon || colon == v)
        return -1;
    p = strtol(colon + 1, &end, 10);
    if (*end || p < 1 || p > 65535)
        return -1;
    if (v[0] == '[') { /* [::1]:9731 */
        if (colon[-1] != ']' || (size_t)(colon - v - 2) >= cap)
            return -1;
        snprintf(addr, cap, "%.*s", (int)(colon - v - 2), v + 1);
    } else {
        if ((size_t)(colon - v) >= cap)
            return -1;
        snprintf(addr, cap, "%.*s", (int)(colon - v), v);
    }
    *port = (int)p;
    return 0;
}

int wp_cmd_serve(int argc, char **argv)
{
    enum { O_LISTEN = 256, O_SOCKET, O_MODE, O_RES, O_INTERVAL };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"socket", required_argument, NULL, O_SOCKET},
        {"socket-mode", required_argument, NULL, O_MODE},
        {"socket-resolution", required_argument, NULL, O_RES},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"help", no_argument, NULL, 'h'},
        WP_CARBON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    struct wp_server_opts so = {
        .port = WP_SERVE_DEFAULT_PORT, .socket_mode = 0666, .socket_resolution_s = 0.1};
    struct wp_carbon_opts carbon = {0};
    struct wp_assumptions assume;
    struct wp_sensor_env env = {0};
    struct wp_sensor **sensors;
    struct wp_server *server;
    struct wp_meter *meter;
    char addr[64] = "127.0.0.1", err[512];
    double interval = 1.0;
    bool interval_set = false;
    const char *v;
    sigset_t sigs;
    int c, n, sig;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int k = wp_carbon_opt("wattprint serve", c, optarg, &carbon);
        char *end;
        if (k < 0)
            return 2;
        if (k > 0)
            continue;
        switch (c) {
        case O_LISTEN:
            if (parse_listen(optarg, addr, sizeof addr, &so.port)) {
                fprintf(stderr,
                        "wattprint serve: --listen: '%s' is not ADDR:PORT "
                        "(127.0.0.1:9731, [::1]:9731) or none\n",
                        optarg);
                return 2;
            }
            break;
        case O_SOCKET:
            so.socket_path = optarg;
            break;
        case O_MODE:
            so.socket_mode = (unsigned)strtoul(optarg, &end, 8);
            if (*end || end == optarg || so.socket_mode > 0777) {
                fprintf(stderr, "wattprint serve: --socket-mode: '%s' is not an octal mode\n",
                        optarg);
                return 2;
            }
            break;
        case O_RES:
            if (wp_parse_double(optarg, &so.socket_resolution_s) || so.socket_resolution_s < 0.01 ||
                so.socket_resolution_s > 60) {
                fprintf(stderr,
                        "wattprint serve: --socket-resolution: '%s' is not from 0.01 "
                        "to 60 seconds\n",
                        optarg);
                return 2;
            }
            break;
        case O_INTERVAL:
            interval_set = true;
            if (wp_parse_double(optarg, &interval) || interval < 0.01 || interval > 3600) {
                fprintf(stderr,
                        "wattprint serve: --interval: '%s' is not from 0.01 to 3600 "
                        "seconds\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        case ':':
            fprintf(stderr, "wattprint serve: %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "wattprint serve: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wattprint serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (so.port == 0 && !so.socket_path) {
        fprintf(stderr, "wattprint serve: nothing to serve: --listen none and no --socket\n");
        return 2;
    }
    if (wp_carbon_resolve_cli("wattprint serve", &carbon, &assume))
        return 2;
    so.carbon = carbon.region || carbon.intensity_set || getenv("WATTPRINT_REGION");
    so.listen_addr = addr;

    if (!interval_set && (v = wp_cli_setting("interval", NULL, NULL, NULL)))
        wp_parse_double(v, &interval); /* checked when the file was read */
    env.only = wp_cli_setting("sensors", NULL, NULL, NULL);
    env.sysfs_root = wp_sysfs_root();
    env.procfs_root = wp_procfs_root();
    env.allow_estimates = true;
    env.gpus = "all";
    env.no_socket = true; /* the daemon is the socket's source, not its client */
    n = wp_sensors_probe(&env, &sensors);
    if (n < 0 || wp_meter_create(sensors, n, interval, &meter)) {
        fprintf(stderr, "wattprint serve: cannot open the sensors: out of memory\n");
        return 1;
    }
    /* signals are waited for here, not delivered to the server's threads */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if (wp_server_start(meter, &assume, &so, &server, err, sizeof err)) {
        fprintf(stderr, "wattprint serve: %s\n", err);
        wp_meter_free(meter);
        return 1;
    }
    wp_meter_on_tick(meter, 0, wp_server_refresh, server);
    wp_meter_start(meter);
    wp_server_refresh(server);
    if (so.port)
        wp_warn("serving http://%s%s%s:%d/metrics (%d channels)", strchr(addr, ':') ? "[" : "",
                addr, strchr(addr, ':') ? "]" : "", so.port, wp_meter_n_channels(meter));
    if (so.socket_path)
        wp_warn("serving counters on %s (mode %04o)", so.socket_path, so.socket_mode);
    sigwait(&sigs, &sig);
    wp_server_stop(server);
    wp_meter_free(meter);
    return 0;
}
