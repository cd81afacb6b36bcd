/* The configuration files: strict parsing (an unknown key or a bad value is
 * an error naming the file and line, never ignored), and every value checked
 * the way its option is, so that a mistake is found before anything runs. */
#include "config.h"

#include "../account/account.h"
#include "../sensors/sensor.h"
#include "../util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSTEM_FILE "/etc/wattprint/config"
#define MAX_FILE    (64 * 1024)

static int check_number(const char *v, double lo, double hi, char *why, size_t cap)
{
    double x;
    if (wp_parse_double(v, &x) || x < lo || x > hi) {
        snprintf(why, cap, "'%s' is not a number from %g to %g", v, lo, hi);
        return -EINVAL;
    }
    return 0;
}

static int check_value(const char *key, const char *v, char *why, size_t cap)
{
    char sug[512], src[256];
    struct wp_region r;
    double pue;

    if (strcmp(key, "region") == 0) {
        if (wp_region_find(v, &r, sug, sizeof sug) == 0)
            return 0;
        snprintf(why, cap, "unknown region '%s'; nearest: %s", v, sug);
        return -EINVAL;
    }
    if (strcmp(key, "provider") == 0) {
        if (wp_provider_pue(v, &pue, src, sizeof src, sug, sizeof sug) == 0)
            return 0;
        snprintf(why, cap, "unknown provider '%s'; known: %s", v, sug);
        return -EINVAL;
    }
    if (strcmp(key, "pue") == 0)
        return check_number(v, WP_PUE_MIN, WP_PUE_MAX, why, cap);
    if (strcmp(key, "interval") == 0)
        return check_number(v, 0.01, 3600, why, cap);
    if (strcmp(key, "sensors") == 0)
        return wp_sensors_check_list(v, why, cap) ? -EINVAL : 0;
    if (strcmp(key, "detect") == 0) {
        if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0)
            return 0;
        snprintf(why, cap, "'%s' is not yes or no", v);
        return -EINVAL;
    }
    if (strlen(v) > 200) { /* ledger, project */
        snprintf(why, cap, "longer than 200 characters");
        return -EINVAL;
    }
    return 0;
}

const char *wp_config_keys(void)
{
    return "region, provider, pue, ledger, project, sensors, interval, detect";
}

static const char *const keys[] = {"region",  "provider", "pue",      "ledger",
                                   "project", "sensors",  "interval", "detect"};

static bool known_key(const char *k)
{
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

static const char *nearest_key(const char *k)
{
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (wp_edit_distance(k, keys[i]) <= 2)
            return keys[i];
    return NULL;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static void set(struct wp_config *c, const char *key, const char *value, const char *where,
                int line)
{
    int i = 0;
    while (i < c->n && strcmp(c->v[i].key, key) != 0)
        i++;
    if (i == c->n)
        c->n++; /* fewer distinct keys than slots: known_key bounds them */
    snprintf(c->v[i].key, sizeof c->v[i].key, "%s", key);
    snprintf(c->v[i].value, sizeof c->v[i].value, "%s", value);
    snprintf(c->v[i].from, sizeof c->v[i].from, "%s", where);
    c->v[i].line = line;
}

/* One line: blank, a comment, or key = value. Returns 0 or a negative errno with why. */
static int parse_line(struct wp_config *c, char *line, const char *where, int n, char *why,
                      size_t cap)
{
    char *eq, *key, *value, *hash = strchr(line, '#'), msg[512];

    if (hash)
        *hash = '\0';
    line = trim(line);
    if (!*line)
        return 0;
    if (!(eq = strchr(line, '='))) {
        snprintf(why, cap, "'%.80s' is not 'key = value'", line);
        return -EINVAL;
    }
    *eq = '\0';
    key = trim(line);
    value = trim(eq + 1);
    if (!known_key(key)) {
        const char *near = nearest_key(key);
        if (near)
            snprintf(why, cap, "unknown key '%.40s' (did you mean %s?)", key, near);
        else
            snprintf(why, cap, "unknown key '%.40s'; the keys are %s", key, wp_config_keys());
        return -EINVAL;
    }
    if (!*value) {
        snprintf(why, cap, "%s has no value", key);
        return -EINVAL;
    }
    if (strlen(value) >= sizeof c->v[0].value) {
        snprintf(why, cap, "%s: the value is too long", key);
        return -EINVAL;
    }
    if (check_value(key, value, msg, sizeof msg)) {
        snprintf(why, cap, "%s: %s", key, msg);
        return -EINVAL;
    }
    set(c, key, value, where, n);
    return 0;
}

int wp_config_parse(struct wp_config *c, const char *text, const char *where, char *err, size_t cap)
{
    char line[1024], why[600];
    int n = 0;

    while (*text) {
        size_t len = strcspn(text, "\n");
        n++;
        if (len >= sizeof line) {
            snprintf(err, cap, "%s:%d: line too long", where, n);
            return -EINVAL;
        }
        memcpy(line, text, len);
        line[len] = '\0';
        if (parse_line(c, line, where, n, why, sizeof why)) {
            snprintf(err, cap, "%s:%d: %s", where, n, why);
            return -EINVAL;
        }
        text += len + (text[len] == '\n');
    }
    return 0;
}

/* Whether the directory holding path is this user's or root's: in another
 * user's directory the name could be their link to a file of root's they
 * chose (the file's owner alone would pass). */
static bool dir_trusted(const char *path)
{
    char dir[4096], *slash;
    struct stat st;

    snprintf(dir, sizeof dir, "%s", path);
    if (!(slash = strrchr(dir, '/')))
        snprintf(dir, sizeof dir, ".");
    else
        slash[slash == dir] = '\0';
    return stat(dir, &st) == 0 && (st.st_uid == geteuid() || st.st_uid == 0);
}

/* Opens path for reading without waiting on it (a FIFO would block every
 * command) and checks what it is: a regular file owned by this user or by
 * root, in a directory owned by either. Returns the descriptor, -ENOENT when there is no file
 * (absent, or hidden in a directory this user may not enter), -EPERM for another user's file
 * (ignored: root running with someone else's HOME must not follow their settings), or -EIO with err
 * set. */
static int open_checked(const char *path, const char *where, char *err, size_t cap)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || stat(path, &st) != 0)
            return -ENOENT;
        snprintf(err, cap, "%s: cannot read the configuration: %s", where, strerror(errno));
        return -EIO;
    }
    if (fstat(fd, &st) != 0 || (st.st_uid != geteuid() && st.st_uid != 0) || !dir_trusted(path)) {
        close(fd);
        return -EPERM;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, cap, "%s: cannot read the configuration: not a regular file", where);
        return -EIO;
    }
    return fd;
}

/* Reads one file if it exists and is this user's or root's. Returns 0 (also
 * when absent or ignored, said in c->ignored) or a negative errno. */
static int load_file(struct wp_config *c, const char *path, const char *where, char *err,
                     size_t cap)
{
    int fd = open_checked(path, where, err, cap);
    char *text;
    ssize_t got = 0, n = 0;
    int rc;

    if (fd == -ENOENT)
        return 0;
    if (fd == -EPERM) {
        snprintf(c->ignored, sizeof c->ignored,
                 "%s belongs to another user: its settings are not used", where);
        return 0;
    }
    if (fd < 0)
        return fd;
    if (!(text = malloc(MAX_FILE + 1))) {
        close(fd);
        snprintf(err, cap, "%s: out of memory", where);
        return -ENOMEM;
    }
    while (got <= MAX_FILE && (n = read(fd, text + got, (size_t)(MAX_FILE + 1 - got))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        got += n;
    }
    rc = n < 0 ? -EIO : 0;
    close(fd);
    if (rc || got > MAX_FILE) {
        snprintf(err, cap, "%s: %s", where,
                 rc ? "cannot read the configuration" : "larger than 64 KiB: not a configuration");
        free(text);
        return -EINVAL;
    }
    text[got] = '\0';
    if (strlen(text) != (size_t)got) {
        snprintf(err, cap, "%s: contains a NUL byte: not a configuration", where);
        free(text);
        return -EINVAL;
    }
    rc = wp_config_parse(c, text, where, err, cap);
    free(text);
    return rc;
}

/* path with the home directory written as ~, for messages. */
static void shorten(const char *path, char *out, size_t cap)
{
    const char *home = getenv("HOME");
    size_t n = home ? strlen(home) : 0;

    if (n > 1 && strncmp(path, home, n) == 0 && path[n] == '/')
        snprintf(out, cap, "~%s", path + n);
    else
        snprintf(out, cap, "%s", path);
}

int wp_config_load(struct wp_config *c, char *err, size_t cap)
{
    const char *sys = getenv("WATTPRINT_SYSTEM_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char user[4096] = "", where[300];
    int rc;

    memset(c, 0, sizeof *c);
    if (!sys || !*sys)
        sys = SYSTEM_FILE;
    if ((rc = load_file(c, sys, sys, err, cap)) != 0)
        return rc;
    /* XDG Base Directory: a relative XDG_CONFIG_HOME is invalid and ignored */
    if (xdg && xdg[0] == '/')
        snprintf(user, sizeof user, "%s/wattprint/config", xdg);
    else if (home && *home)
        snprintf(user, sizeof user, "%s/.config/wattprint/config", home);
    if (!user[0])
        return 0;
    shorten(user, where, sizeof where);
    return load_file(c, user, where, err, cap);
}

const struct wp_config_value *wp_config_get(const struct wp_config *c, const char *key)
{
    for (int i = 0; c && i < c->n; i++)
        if (strcmp(c->v[i].key, key) == 0)
            return &c->v[i];
    return NULL;
}
