/* Checked JSON insertions. jansson reports a failed insertion (out of
 * memory, or a NULL value from a builder that failed) only by its return;
 * these keep the first failure in a caller's flag, so a document is either
 * whole or refused, never one silently missing a member. */
#ifndef WP_JPUT_H
#define WP_JPUT_H

#include <errno.h>
#include <jansson.h>

/* o[key] = v, the reference to v taken over. */
static inline void wp_jput(int *bad, json_t *o, const char *key, json_t *v)
{
    if (json_object_set_new(o, key, v) != 0)
        *bad = -ENOMEM;
}

/* v appended to a, the reference to v taken over. */
static inline void wp_jpush(int *bad, json_t *a, json_t *v)
{
    if (json_array_append_new(a, v) != 0)
        *bad = -ENOMEM;
}

/* o when nothing failed, else NULL (o released). */
static inline json_t *wp_jdone(int bad, json_t *o)
{
    if (bad || !o) {
        json_decref(o);
        return NULL;
    }
    return o;
}

#endif
