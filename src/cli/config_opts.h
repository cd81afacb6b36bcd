/* The configuration files as the subcommands see them: loaded once, before
 * any command, and consulted for each option the command line left unset
 * and the environment does not set. */
#ifndef WP_CONFIG_OPTS_H
#define WP_CONFIG_OPTS_H

#include "../account/assume.h"
#include "../config/config.h"

/* Loads the files; on a bad line prints "wattprint: FILE:LINE: why" and
 * returns -1 (the caller exits 125). */
int wp_cli_config_load(void);

/* key's value when the command line gave none (given NULL) and env_var (if
 * any) is unset or empty; else given. *from names the file, or NULL. */
const char *wp_cli_setting(const char *key, const char *given, const char *env_var,
                           const char **from);

/* Region, provider and PUE from the files where the options left them. */
void wp_cli_config_carbon(struct wp_carbon_opts *o);

/* --ledger, else $WATTPRINT_LEDGER (NULL here: the ledger finds it), else
 * the files' ledger. */
const char *wp_cli_ledger(const char *given);

#endif
