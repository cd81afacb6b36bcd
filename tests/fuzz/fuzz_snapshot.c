/* Fuzz target: the wattprint serve socket's snapshot, as clients parse it. */
#include <stddef.h>
#include <stdint.h>

#include "sensors/serve_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wp_snap_channel ch[16];
    (void)wp_snapshot_parse((const char *)data, size, ch, 16);
    return 0;
}
