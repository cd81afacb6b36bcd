/* The command-line interface: one file per subcommand. */
#ifndef WP_CLI_H
#define WP_CLI_H

/* Exit status for wattprint's own errors before the command starts. */
#define WP_EXIT_USAGE 125

int wp_cmd_run(int argc, char **argv);
int wp_cmd_regions(int argc, char **argv);

#endif
