/* Fuzz target: a packed run document as a ledger file holds it (a shared or
 * copied ledger's bytes are other people's): unpacked within its bound, with
 * and without a row's id, and the same bytes packed as text (and as a run's,
 * its id left out) come back whole. */
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
    /* as the ledger reads a row's document: with the row's id */
    if (wp_ledger_unpack_run(data, size, "01a23af1-5157-7378-b6f2-2fc5a6b15171", &text, &len, err,
                             sizeof err) == 0)
        free(text);
    if (wp_ledger_pack((const char *)data, size, &packed, &n) == 0) {
        if (wp_ledger_unpack(packed, n, &text, &len, err, sizeof err) != 0 || len != size ||
            memcmp(text, data, size) != 0)
            abort();
        free(text);
        free(packed);
    }
    /* the same packed as a run whose id begins it (when it does) */
    if (size > 13 && wp_ledger_pack_run((const char *)data, size, "a", &packed, &n) == 0) {
        if (wp_ledger_unpack_run(packed, n, "a", &text, &len, err, sizeof err) != 0 ||
            len != size || memcmp(text, data, size) != 0)
            abort();
        free(text);
        free(packed);
    }
    return 0;
}
