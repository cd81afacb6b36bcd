/* wattprint regions: list the grid regions the bundled tables know. */
#include "cli.h"

#include "../account/account.h"

#include <stdio.h>
#include <string.h>

int wp_cmd_regions(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: wattprint regions\n\nLists every --region code with its grid intensity "
               "(gCO2e/kWh), year and name.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "wattprint regions: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    wp_regions_print(stdout);
    return 0;
}
