/* Options shared by the subcommands that read the ledger: where it is, and
 * which runs (--project, --experiment, --job, --tag, --since, --limit). */
#ifndef WP_LEDGER_OPTS_H
#define WP_LEDGER_OPTS_H

#include "../ledger/ledger.h"

#include <stdbool.h>

struct wp_ledger_opts {
    const char *ledger_path;
    struct wp_query q;
    bool json;
    const char *by;     /* summary --by */
    const char *format; /* export --format */
    const char *output; /* export --output */
};

/* Parses argv for subcommand prog; allowed is a string of option letters the
 * subcommand accepts beyond --ledger and --json: f (filters), l (--limit),
 * b (--by), x (--format/--output). Returns the index of the first operand,
 * or -1 after printing the reason; exits 0 after --help (usage printed). */
int wp_cli_ledger_parse(const char *prog, const char *usage, const char *allowed, int argc,
                        char **argv, struct wp_ledger_opts *o);

/* Opens the ledger for reading or writing; prints the reason and returns
 * NULL on failure. */
struct wp_ledger *wp_cli_ledger_open(const char *prog, const struct wp_ledger_opts *o, int mode);

/* wattprint import --format codecarbon PATH into the ledger o names. Returns
 * the exit status. */
int wp_import_codecarbon(const struct wp_ledger_opts *o, const char *path);

/* Parses a --since value: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[Z] (UTC), or a span
 * back from now such as 90m, 24h, 7d. Returns 0 and *out (epoch s), or -1. */
int wp_cli_parse_since(const char *text, double *out);

#endif
