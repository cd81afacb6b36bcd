/* The wattprint serve socket's snapshot, as its client parses it. */
#ifndef WP_SERVE_CLIENT_H
#define WP_SERVE_CLIENT_H

#include "sensor.h"

#include <stddef.h>
#include <stdint.h>

struct wp_snap_channel {
    char device[32], part_of[32];
    enum wp_component component;
    bool counted, lost;
    uint64_t energy_uj;
};

/* Parses a snapshot ({"version":1,"channels":[...]}) into out[0..max).
 * Returns the channel count, or -EINVAL for anything malformed. */
int wp_snapshot_parse(const char *text, size_t len, struct wp_snap_channel *out, int max);

#endif
