/* Precedence: option > environment > user file > system file. */
#include "config_opts.h"

#include "../util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct wp_config config;

int wp_cli_config_load(void)
{
    char err[1024];

    if (wp_config_load(&config, err, sizeof err) == 0) {
        if (config.ignored[0])
            fprintf(stderr, "wattprint: note: %s\n", config.ignored);
        return 0;
    }
    fprintf(stderr, "wattprint: %s%s\n", err,
            strstr(err, "unknown region") ? " (wattprint regions lists them all)" : "");
    return -1;
}

const char *wp_cli_setting(const char *key, const char *given, const char *env_var,
                           const char **from)
{
    const struct wp_config_value *v;
    const char *env = env_var ? getenv(env_var) : NULL;

    if (from)
        *from = NULL;
    if (given || (env && *env) || !(v = wp_config_get(&config, key)))
        return given;
    if (from)
        *from = v->from;
    return v->value;
}

void wp_cli_config_carbon(struct wp_carbon_opts *o)
{
    const char *from, *pue;

    o->region = wp_cli_setting("region", o->region, "WATTPRINT_REGION", &o->region_from);
    if (o->pue_set || o->provider) /* either on the command line beats both in a file */
        return;
    o->provider = wp_cli_setting("provider", NULL, NULL, &o->provider_from);
    pue = wp_cli_setting("pue", NULL, NULL, &from);
    if (pue && wp_parse_double(pue, &o->pue) == 0) { /* checked when the file was read */
        o->pue_set = true;
        o->pue_from = from;
    }
}

const char *wp_cli_ledger(const char *given)
{
    return wp_cli_setting("ledger", given, "WATTPRINT_LEDGER", NULL);
}
