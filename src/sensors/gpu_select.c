/* Which GPUs belong to a run. */
#include "gpu_select.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The GPU an entry names: an index, or a unique UUID prefix ("GPU-8f6a").
 * Returns its position in gpus, or -1. */
static int match(const char *tok, const struct wp_gpu_id *gpus, int n)
{
    size_t len = strlen(tok);
    int found = -1;

    if (len == 0)
        return -1;
    if (strspn(tok, "0123456789") == len) {
        unsigned long idx = len < 10 ? strtoul(tok, NULL, 10) : (unsigned long)-1;
        for (int i = 0; i < n; i++)
            if (gpus[i].index == idx)
                return i;
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (gpus[i].uuid && strncasecmp(gpus[i].uuid, tok, len) == 0) {
            if (found >= 0)
                return -1; /* ambiguous prefix */
            found = i;
        }
    }
    return found;
}

/* Calls fn on each trimmed comma-separated entry of list until it returns
 * non-zero; returns that value. */
static int each_entry(const char *list, int (*fn)(const char *, void *), void *arg)
{
    char tok[128];

    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const char *s = p, *e = p + len;
        int rc;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if ((size_t)(e - s) >= sizeof tok)
            return -EINVAL;
        memcpy(tok, s, (size_t)(e - s));
        tok[e - s] = '\0';
        if ((rc = fn(tok, arg)) != 0)
            return rc;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

struct sel {
    const struct wp_gpu_id *gpus;
    int n;
    bool *keep;
    const char *bad;
    char bad_buf[128];
};

static int visible_entry(const char *tok, void *arg)
{
    struct sel *s = arg;
    int i = match(tok, s->gpus, s->n);
    if (i < 0)
        return 1; /* CUDA ignores this entry and every one after it */
    s->keep[i] = true;
    return 0;
}

static int list_entry(const char *tok, void *arg)
{
    struct sel *s = arg;
    int i = match(tok, s->gpus, s->n);
    if (i < 0) {
        snprintf(s->bad_buf, sizeof s->bad_buf, "%s", tok);
        s->bad = s->bad_buf;
        return 1;
    }
    s->keep[i] = true;
    return 0;
}

int wp_gpu_select(const char *spec, const char *visible, const struct wp_gpu_id *gpus, int n,
                  bool *keep, char *err, size_t err_cap)
{
    struct sel s = {gpus, n, keep, NULL, ""};
    bool all = false;

    if (!spec || strcmp(spec, "visible") == 0) {
        if (!visible) {
            all = true;
        } else {
            for (int i = 0; i < n; i++)
                keep[i] = false;
            each_entry(visible, visible_entry, &s);
            return 0;
        }
    } else if (strcmp(spec, "all") == 0) {
        all = true;
    }
    for (int i = 0; i < n; i++)
        keep[i] = all;
    if (all || strcmp(spec, "none") == 0)
        return 0;
    if (each_entry(spec, list_entry, &s) != 0 || s.bad) {
        size_t o =
            (size_t)snprintf(err, err_cap, "'%s' names no GPU here; GPUs:", s.bad ? s.bad : spec);
        for (int i = 0; i < n && o < err_cap; i++)
            o += (size_t)snprintf(err + o, err_cap - o, " %u (%s)", gpus[i].index,
                                  gpus[i].uuid ? gpus[i].uuid : "");
        if (n == 0 && o < err_cap)
            snprintf(err + o, err_cap - o, " none");
        return -EINVAL;
    }
    return 0;
}
