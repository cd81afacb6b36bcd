/* wattprint: measure the energy of any command. Dispatches subcommands. */
#include "cli.h"
#include "config_opts.h"

#include "../run/run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: wattprint run [options] -- COMMAND [ARG...]\n"
               "       wattprint ls|show|summary|export|rm|import|sync [options]\n"
               "       wattprint compare SELECTION SELECTION [--json]\n"
               "       wattprint report RUN|last|--experiment E|--project P [outputs]\n"
               "       wattprint estimate [inputs]\n"
               "       wattprint serve [--listen ADDR:PORT] [--socket PATH]\n"
               "       wattprint regions | hardware\n"
               "       wattprint --version | --help\n"
               "\n"
               "Commands:\n"
               "  run      run COMMAND and report its energy and CO2e (wattprint run --help)\n"
               "  ls       list recorded runs (wattprint ls --help)\n"
               "  show     show one run: wattprint show RUN|last\n"
               "  summary  totals by project, experiment, tag, day, host, user or job\n"
               "  export   the ledger as csv, json or CodeCarbon's emissions.csv\n"
               "  report   HTML, Markdown, model card or SCI for a run, experiment or project\n"
               "  rm       delete runs from the ledger\n"
               "  import   merge another machine's ledger, or CodeCarbon's emissions.csv\n"
               "  sync     send the runs kept while a PostgreSQL ledger was out of reach\n"
               "  compare  did a change save energy? two groups of runs, with 95 %% intervals\n"
               "  tune-power the GPU power limit with the least energy per unit of work\n"
               "  estimate the footprint of training or inference before running it, or of\n"
               "           a whole job from a short run (wattprint estimate --help)\n"
               "  hardware list the hardware the estimator knows\n"
               "  serve    this node's energy for Prometheus and local users\n"
               "  regions  list the grid regions and their carbon intensity\n"
               "\n"
               "\n"
               "Defaults for region, provider, pue, ledger, project, sensors, interval and\n"
               "detect may be set in $XDG_CONFIG_HOME/wattprint/config (else\n"
               "~/.config/wattprint/config) and /etc/wattprint/config, as key = value\n"
               "lines; an option beats the environment, which beats the files.\n"
               "\n"
               "See man wattprint, and the README and docs/ (installed in share/doc/wattprint\n"
               "under the prefix) for the method.\n");
}

/* A command's own output that could not be written fails the command
 * (ls > /dev/full). run's stdout is the measured command's, not wattprint's. */
static int flushed(const char *cmd, int rc)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    fprintf(stderr, "wattprint %s: cannot write the output: %s\n", cmd, strerror(errno));
    return rc ? rc : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"run", wp_cmd_run},
        {"regions", wp_cmd_regions},
        {"ls", wp_cmd_ls},
        {"show", wp_cmd_show},
        {"summary", wp_cmd_summary},
        {"export", wp_cmd_export},
        {"rm", wp_cmd_rm},
        {"import", wp_cmd_import},
        {"sync", wp_cmd_sync},
        {"compare", wp_cmd_compare},
        {"tune-power", wp_cmd_tune_power},
        {"estimate", wp_cmd_estimate},
        {"hardware", wp_cmd_hardware},
        {"serve", wp_cmd_serve},
        {"report", wp_cmd_report},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            int rc = wp_cli_config_load() ? WP_EXIT_USAGE : cmds[i].fn(argc - 1, argv + 1);
            return cmds[i].fn == wp_cmd_run ? rc : flushed(argv[1], rc);
        }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("wattprint %s\n", WP_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "wattprint: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
