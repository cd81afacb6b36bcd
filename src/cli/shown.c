/* Names from a ledger as a terminal shows them: a shared ledger's project,
 * experiment, command or tag could hold escape sequences that would drive
 * the reader's terminal (retitle it, hide lines, rewrite what came before).
 * Control characters are shown as \xNN; the names stay stored as given. */
#include "cli.h"

#include "../util/util.h"

#define SLOTS    16
#define SLOT_CAP 4096

const char *wp_shown(const char *s)
{
    /* several names in one printf: a ring of buffers (the CLI prints from
     * one thread) */
    static char ring[SLOTS][SLOT_CAP];
    static int next;
    char *out = ring[next];

    next = (next + 1) % SLOTS;
    wp_term_safe(s ? s : "", out, SLOT_CAP);
    return out;
}
