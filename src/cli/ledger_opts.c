/* Options shared by the subcommands that read the ledger. */
#define _GNU_SOURCE
#include "ledger_opts.h"

#include "cli.h"
#include "config_opts.h"

#include "../util/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int wp_cli_parse_since(const char *text, double *out)
{
    struct tm tm = {0};
    const char *end;
    double n;

    if ((end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm)) && (!*end || !strcmp(end, "Z"))) {
        *out = (double)timegm(&tm);
        return 0;
    }
    memset(&tm, 0, sizeof tm);
    if ((end = strptime(text, "%Y-%m-%d", &tm)) && !*end) {
        *out = (double)timegm(&tm);
        return 0;
    }
    /* a span back from now: a unit is required ("7" alone is no span) */
    if (*text && strchr("mhd", text[strlen(text) - 1]) && wp_parse_span(text, &n) == 0 &&
        n < 1e6 * 86400) {
        *out = wp_wall_s() - n;
        return 0;
    }
    return -1;
}

enum {
    O_LEDGER = 256,
    O_JSON,
    O_PROJECT,
    O_EXPERIMENT,
    O_JOB,
    O_TAG,
    O_SINCE,
    O_LIMIT,
    O_BY,
    O_FORMAT,
    O_OUTPUT
};

/* Which commands take an option: 'f' filters, 'l' --limit, 'b' --by,
 * 'x' export's; 0 every ledger command. */
static char kind_of(int c)
{
    return c == O_PROJECT || c == O_EXPERIMENT || c == O_JOB || c == O_TAG || c == O_SINCE ? 'f'
           : c == O_LIMIT                                                                  ? 'l'
           : c == O_BY                                                                     ? 'b'
           : c == O_FORMAT || c == O_OUTPUT                                                ? 'x'
                                                                                           : 0;
}

/* An option with a value to check. Returns 0 or -1 (said why). */
static int checked_opt(const char *prog, int c, const char *arg, struct wp_ledger_opts *o)
{
    char *end;

    if (c == O_TAG) {
        if (o->q.n_tags == WP_MAX_TAGS || wp_tag_parse(arg, &o->q.tags[o->q.n_tags])) {
            fprintf(stderr, "%s: --tag: '%s' is not KEY=VALUE\n", prog, arg);
            return -1;
        }
        o->q.n_tags++;
    } else if (c == O_SINCE) {
        if (wp_cli_parse_since(arg, &o->q.since_s)) {
            fprintf(stderr,
                    "%s: --since: '%s' is not a date (2026-11-01, "
                    "2026-11-01T12:00:00Z) or a span back from now (90m, 24h, 7d)\n",
                    prog, arg);
            return -1;
        }
    } else if (c == O_LIMIT) {
        o->q.limit = strtol(arg, &end, 10);
        if (*end || end == arg || o->q.limit < 1 || o->q.limit > 100000000) {
            fprintf(stderr, "%s: --limit: '%s' is not a count of runs from 1\n", prog, arg);
            return -1;
        }
    }
    return 0;
}

int wp_cli_ledger_parse(const char *prog, const char *usage, const char *allowed, int argc,
                        char **argv, struct wp_ledger_opts *o)
{
    static const struct option longopts[] = {
        {"ledger", required_argument, NULL, O_LEDGER},
        {"json", no_argument, NULL, O_JSON},
        {"project", required_argument, NULL, O_PROJECT},
        {"experiment", required_argument, NULL, O_EXPERIMENT},
        {"job", required_argument, NULL, O_JOB},
        {"tag", required_argument, NULL, O_TAG},
        {"since", required_argument, NULL, O_SINCE},
        {"limit", required_argument, NULL, O_LIMIT},
        {"by", required_argument, NULL, O_BY},
        {"format", required_argument, NULL, O_FORMAT},
        {"output", required_argument, NULL, O_OUTPUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char **text[] = {[O_LEDGER - O_LEDGER] = &o->ledger_path,
                           [O_PROJECT - O_LEDGER] = &o->q.project,
                           [O_EXPERIMENT - O_LEDGER] = &o->q.experiment,
                           [O_JOB - O_LEDGER] = &o->q.job,
                           [O_BY - O_LEDGER] = &o->by,
                           [O_FORMAT - O_LEDGER] = &o->format,
                           [O_OUTPUT - O_LEDGER] = &o->output};
    int c;

    memset(o, 0, sizeof *o);
    opterr = 0;
    optind = 1;
    /* Options may follow operands: "wattprint show last --json". */
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        char kind = kind_of(c);
        if (kind && !strchr(allowed, kind)) {
            fprintf(stderr, "%s: %s is not an option of this command (see %s --help)\n", prog,
                    argv[optind - 1], prog);
            return -1;
        }
        if (c == O_JSON) {
            o->json = true;
        } else if (c >= O_LEDGER && c <= O_OUTPUT && text[c - O_LEDGER]) {
            *text[c - O_LEDGER] = optarg;
        } else if (c >= O_LEDGER && c <= O_OUTPUT) {
            if (checked_opt(prog, c, optarg, o))
                return -1;
        } else if (c == 'h') {
            fputs(usage, stdout);
            exit(0);
        } else {
            fprintf(stderr,
                    c == ':' ? "%s: %s needs a value\n"
                             : "%s: unknown option '%s' (see %s --help)\n",
                    prog, argv[optind - 1], prog);
            return -1;
        }
    }
    return optind;
}

struct wp_ledger *wp_cli_ledger_open(const char *prog, const struct wp_ledger_opts *o, int mode)
{
    char path[4096], err[1024];
    struct wp_ledger *l;

    if (!wp_ledger_path(wp_cli_ledger(o->ledger_path), path, sizeof path)) {
        fprintf(stderr, "%s: no ledger path: set --ledger, WATTPRINT_LEDGER or HOME\n", prog);
        return NULL;
    }
    if (wp_ledger_open(path, mode, &l, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return NULL;
    }
    if (wp_ledger_sent(l) > 0)
        fprintf(stderr, "%s: %ld run%s kept while the ledger was out of reach %s sent to it\n",
                prog, wp_ledger_sent(l), wp_ledger_sent(l) == 1 ? "" : "s",
                wp_ledger_sent(l) == 1 ? "was" : "were");
    return l;
}
