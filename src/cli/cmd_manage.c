/* wattprint rm and wattprint import: changing what the ledger holds. */
#include "cli.h"
#include "config_opts.h"
#include "ledger_opts.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char rm_usage[] = "usage: wattprint rm RUN... [--ledger PATH]\n"
                               "\nDeletes runs (ids or unique prefixes) and their samples.\n";

int wp_cmd_rm(int argc, char **argv)
{
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    char err[1024];
    int first = wp_cli_ledger_parse("wattprint rm", rm_usage, "", argc, argv, &o), n;

    if (first < 0)
        return 2;
    if (first >= argc) {
        fprintf(stderr, "wattprint rm: give the runs to delete\n");
        return 2;
    }
    if (!(l = wp_cli_ledger_open("wattprint rm", &o, WP_LEDGER_WRITE)))
        return 1;
    n = wp_ledger_remove(l, argv + first, argc - first, err, sizeof err);
    wp_ledger_close(l);
    if (n < 0) {
        fprintf(stderr, "wattprint rm: %s (nothing was deleted)\n", err);
        return 1;
    }
    fprintf(stderr, "wattprint rm: deleted %d run%s\n", n, n == 1 ? "" : "s");
    return 0;
}

static const char import_usage[] =
    "usage: wattprint import OTHER.db [--ledger PATH]\n"
    "       wattprint import --format codecarbon emissions.csv [--ledger PATH]\n"
    "\nMerges another machine's ledger, or CodeCarbon's emissions.csv (any version's\n"
    "columns, matched by name): runs keep their ids; runs already here are skipped,\n"
    "so importing twice adds nothing. A bad CodeCarbon row is named by its line and\n"
    "skipped; rows repeating a run id are one run, its last row.\n";

int wp_cmd_import(int argc, char **argv)
{
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    char err[1024];
    long added, skipped, replaced;
    int first = wp_cli_ledger_parse("wattprint import", import_usage, "x", argc, argv, &o);

    if (first < 0)
        return 2;
    if (first != argc - 1) {
        fprintf(stderr, "wattprint import: give one %s to import\n",
                o.format ? "emissions.csv" : "ledger file");
        return 2;
    }
    if (o.output || (o.format && strcmp(o.format, "codecarbon") != 0)) {
        fprintf(stderr, "wattprint import: %s\n",
                o.output ? "--output is export's option" : "--format must be codecarbon");
        return 2;
    }
    if (o.format)
        return wp_import_codecarbon(&o, argv[first]);
    if (!(l = wp_cli_ledger_open("wattprint import", &o, WP_LEDGER_WRITE)))
        return 1;
    added = wp_ledger_import(l, argv[first], &skipped, &replaced, err, sizeof err);
    wp_ledger_close(l);
    if (added < 0) {
        fprintf(stderr, "wattprint import: %s (nothing was imported)\n", err);
        return 1;
    }
    fprintf(stderr, "wattprint import: %ld run%s added, %ld already here", added,
            added == 1 ? "" : "s", skipped);
    if (replaced > 0)
        fprintf(stderr, ", %ld replaced by a later state of the run", replaced);
    fputc('\n', stderr);
    return 0;
}

static const char sync_usage[] =
    "usage: wattprint sync [--ledger URI]\n"
    "\nSends the runs kept locally while the PostgreSQL ledger could not be reached,\n"
    "or while a ledger file was locked past the wait (every command that writes to\n"
    "it does the same). Each run arrives once.\n";

int wp_cmd_sync(int argc, char **argv)
{
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    char path[4096];
    int first = wp_cli_ledger_parse("wattprint sync", sync_usage, "", argc, argv, &o);

    if (first < 0)
        return 2;
    if (first != argc) {
        fprintf(stderr, "wattprint sync: takes no operands\n");
        return 2;
    }
    /* a file's spool holds runs that found it locked; no file, no runs */
    if (wp_ledger_path(wp_cli_ledger(o.ledger_path), path, sizeof path) &&
        !wp_ledger_is_uri(path) && access(path, F_OK) != 0) {
        fprintf(stderr, "wattprint sync: no ledger at %s: nothing to send\n", path);
        return 0;
    }
    if (!(l = wp_cli_ledger_open("wattprint sync", &o, WP_LEDGER_WRITE)))
        return 1; /* out of reach still: the spool stays */
    if (*wp_ledger_send_error(l)) {
        fprintf(stderr, "wattprint sync: %s\n", wp_ledger_send_error(l));
        wp_ledger_close(l);
        return 1;
    }
    if (wp_ledger_sent(l) == 0)
        fprintf(stderr, "wattprint sync: nothing was waiting\n");
    else if (wp_ledger_replaced(l) == 0)
        fprintf(stderr, "wattprint sync: %ld run%s sent\n", wp_ledger_sent(l),
                wp_ledger_sent(l) == 1 ? "" : "s");
    else
        fprintf(stderr,
                "wattprint sync: %ld run%s sent; %ld replaced the checkpoint the ledger had "
                "kept of the same run\n",
                wp_ledger_sent(l), wp_ledger_sent(l) == 1 ? "" : "s", wp_ledger_replaced(l));
    wp_ledger_close(l);
    return 0;
}
