/* Fuzz target: a packed run document as a ledger file holds it (a shared or
 * copied ledger's bytes are other people's): unpacked within its bound, and
 * the same bytes packed as text come back whole. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, err[256];
    unsigned char *packed;
    size_t len, n;

    if (wp_ledger_unpack(data, size, &text, &len, err, sizeof err) == 0)
        free(text);
    if (wp_ledger_pack((const char *)data, size, &packed, &n) == 0) {
        if (wp_ledger_unpack(packed, n, &text, &len, err, sizeof err) != 0 || len != size ||
            memcmp(text, data, size) != 0)
            abort();
        free(text);
        free(packed);
    }
    return 0;
}
