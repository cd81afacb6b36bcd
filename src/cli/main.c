/* wattprint: measure the energy of any command. Dispatches subcommands. */
#include "cli.h"

#include "../report/run.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: wattprint run [options] -- COMMAND [ARG...]\n"
               "       wattprint regions\n"
               "       wattprint --version\n"
               "\n"
               "Commands:\n"
               "  run      run COMMAND and report its energy and CO2e (wattprint run --help)\n"
               "  regions  list the grid regions and their carbon intensity\n"
               "\n"
               "See wattprint(1) and docs/ for the method.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "run") == 0)
        return wp_cmd_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "regions") == 0)
        return wp_cmd_regions(argc - 1, argv + 1);
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
