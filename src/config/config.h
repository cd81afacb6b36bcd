/* Defaults set once: the system file (/etc/wattprint/config) and the user's
 * ($XDG_CONFIG_HOME/wattprint/config, else ~/.config/wattprint/config), as
 * "key = value" lines whose keys are the long option names. A command line
 * option beats the environment, which beats the user's file, which beats the
 * system's. */
#ifndef WP_CONFIG_H
#define WP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define WP_CONFIG_MAX_KEYS 16

struct wp_config_value {
    char key[32];
    char value[256];
    char from[300]; /* the file, with ~ for the home directory */
    int line;
};

struct wp_config {
    int n;
    struct wp_config_value v[WP_CONFIG_MAX_KEYS];
    char ignored[400]; /* a file skipped as another user's, said once; "" if none */
};

/* Parses the text of one file, named where in messages; a key seen again
 * replaces its earlier value. Returns 0, or a negative errno with "FILE:LINE: why" in err. */
int wp_config_parse(struct wp_config *c, const char *text, const char *where, char *err,
                    size_t cap);

/* Loads the system file, then the user's. Only regular files owned by this
 * user or by root are read: a missing file or another user's (said in
 * c->ignored) is no error; one that cannot be read, or is not a regular file
 * (a FIFO, a directory), is. Returns 0, or a negative errno with the reason in err. */
int wp_config_load(struct wp_config *c, char *err, size_t cap);

/* The value of key, or NULL when no file set it. */
const struct wp_config_value *wp_config_get(const struct wp_config *c, const char *key);

/* The keys a file may hold, comma-separated, for help and messages. */
const char *wp_config_keys(void);

#endif
