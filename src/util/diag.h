/* Diagnostics from below the CLI and the library. A lower layer never
 * prints and never names an option or a command: it passes a message and a
 * hint at what would help, and the front end that installed the sink words
 * it for its users (the CLI names its options, the library its fields). */
#ifndef WP_DIAG_H
#define WP_DIAG_H

/* What the user could set or do about a diagnostic. */
enum wp_hint {
    WP_HINT_NONE,
    WP_HINT_CPU_TDP,          /* give the CPU's TDP */
    WP_HINT_REQUIRE_MEASURED, /* refuse estimates instead */
    WP_HINT_SERVE_SOCKET,     /* start a wattprint serve socket as root */
    WP_HINT_LEDGER_PATH,      /* name a ledger */
};

struct wp_diag {
    void (*fn)(void *ctx, enum wp_hint hint, const char *msg); /* NULL: discarded */
    void *ctx;
};

/* Formats a message and passes it to d's sink (none: discarded). */
void wp_diag(const struct wp_diag *d, enum wp_hint hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
