/* A run's status names, its tags, where it runs, and its carbon account. */
#include "run.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *wp_run_status_name(enum wp_run_status s)
{
    switch (s) {
    case WP_RUN_COMPLETED:
        return "completed";
    case WP_RUN_FAILED:
        return "failed";
    case WP_RUN_INTERRUPTED:
        return "interrupted";
    case WP_RUN_RUNNING:
        return "running";
    }
    return "unknown";
}

/* $USER, else (an empty environment, a daemon) the real uid's name from the
 * password database, else the uid itself: never an empty owner. */
static void who(char *out, size_t cap)
{
    const char *user = getenv("USER");
    struct passwd pw, *found = NULL;
    char buf[4096];

    if (user && *user)
        snprintf(out, cap, "%s", user);
    else if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) == 0 && found)
        snprintf(out, cap, "%s", found->pw_name);
    else
        snprintf(out, cap, "%u", (unsigned)getuid());
}

void wp_run_place(struct wp_run *run)
{

    if (!getcwd(run->cwd, sizeof run->cwd))
        run->cwd[0] = '\0';
    if (gethostname(run->host, sizeof run->host) != 0)
        run->host[0] = '\0';
    who(run->user, sizeof run->user);
    wp_machine_probe(&run->machine);
}

void wp_run_account(struct wp_run *run)
{
    wp_account(run->reading.totals.total_j, &run->assume, &run->carbon);
}

void wp_run_set_reading(struct wp_run *run, struct wp_reading *r)
{
    wp_reading_free(&run->reading);
    run->reading = *r;
    memset(r, 0, sizeof *r);
    wp_run_account(run);
}

void wp_run_release(struct wp_run *run)
{
    wp_reading_free(&run->reading);
}

int wp_tag_parse(const char *text, struct wp_tag *out)
{
    const char *eq = strchr(text, '=');
    size_t klen = eq ? (size_t)(eq - text) : 0;

    if (!eq || klen == 0 || klen >= sizeof out->key || strlen(eq + 1) >= sizeof out->value)
        return -EINVAL;
    memcpy(out->key, text, klen);
    out->key[klen] = '\0';
    snprintf(out->value, sizeof out->value, "%s", eq + 1);
    return 0;
}
