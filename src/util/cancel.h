/* The process has been asked to end (a signal after the measured command
 * ended): every wait that could last (a FIFO nobody reads, a locked ledger)
 * gives up at its next look, within 50 ms, and the result is kept where it
 * can be without waiting. Only the CLI requests it; the library never does,
 * so a program that embeds libwattprint keeps its own signals. */
#ifndef WP_CANCEL_H
#define WP_CANCEL_H

#include <stdbool.h>

/* Async-signal-safe: called from a signal handler. */
void wp_cancel_request(void);

bool wp_cancelled(void);

/* How often a wait looks at the request, in milliseconds. */
#define WP_CANCEL_POLL_MS 50

#endif
