/* Fuzz target: the cloud metadata services' answers (AWS plain text, GCP
 * paths, Azure JSON). */
#include <stddef.h>
#include <stdint.h>

#include "account/cloud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char a[64], b[64];
    const char *s = (const char *)data;

    (void)wp_cloud_parse_name(s, size, a, sizeof a);
    (void)wp_cloud_parse_gcp(s, size, 1, a, sizeof a);
    (void)wp_cloud_parse_gcp(s, size, 0, a, sizeof a);
    (void)wp_cloud_parse_azure(s, size, a, sizeof a, b, sizeof b);
    return 0;
}
