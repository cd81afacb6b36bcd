/* The command-line interface: one file per subcommand. */
#ifndef WP_CLI_H
#define WP_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit status for wattprint's own errors before the command starts. */
#define WP_EXIT_USAGE 125

/* Prints "wattprint: <message>\n" on stderr, in one write. Only the CLI
 * prints; the layers below report through diagnostics. */
void wp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* o[key] = v and a[] += v (references taken over) for the JSON a command
 * prints: a failed insertion (out of memory) ends the command with a message
 * and status 1 rather than printing a document that lacks a member. Only for
 * commands that print what they build, with nothing of theirs half-written. */
void wp_cli_put(json_t *o, const char *key, json_t *v);
void wp_cli_push(json_t *a, json_t *v);

/* One element of a JSON array written as it comes, indented as the whole
 * array dumped at once would be (JSON_INDENT(2)): "[" before the first,
 * then each, then "\n]\n" (or "]\n" after none) are the caller's. Returns 0
 * or -ENOMEM. */
int wp_cli_json_element(FILE *f, json_t *v, bool first);

/* The GPU power limits that killed `wattprint tune-power`s left, put back
 * before anything is measured (run, serve), one line each on stderr. */
void wp_cli_restore_power_limits(const char *prog);

/* s with its control characters shown as \xNN, for a terminal: valid until
 * 15 more calls (a ring of buffers; the CLI's thread only). */
const char *wp_shown(const char *s);

int wp_cmd_run(int argc, char **argv);
int wp_cmd_regions(int argc, char **argv);
int wp_cmd_ls(int argc, char **argv);
int wp_cmd_show(int argc, char **argv);
int wp_cmd_summary(int argc, char **argv);
int wp_cmd_export(int argc, char **argv);
int wp_cmd_rm(int argc, char **argv);
int wp_cmd_import(int argc, char **argv);
int wp_cmd_sync(int argc, char **argv);
int wp_cmd_compare(int argc, char **argv);
int wp_cmd_tune_power(int argc, char **argv);
int wp_cmd_estimate(int argc, char **argv);
int wp_cmd_hardware(int argc, char **argv);
int wp_cmd_serve(int argc, char **argv);
int wp_cmd_report(int argc, char **argv);

#endif
