/* A growable string buffer for the text sinks. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for need more bytes and the NUL; false (and failed) if it cannot. */
static bool grow(struct wp_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 1024;
    char *grown;

    if (b->cap - b->len > need)
        return true;
    while (cap - b->len <= need)
        cap *= 2;
    if (!(grown = realloc(b->p, cap))) {
        b->failed = true;
        return false;
    }
    b->p = grown;
    b->cap = cap;
    return true;
}

void wp_buf_printf(struct wp_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed || !grow(b, 1))
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n >= b->cap - b->len) { /* it did not fit: make room and write again */
        if (!grow(b, (size_t)n))
            return;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void wp_buf_add(struct wp_buf *b, const char *s, size_t n)
{
    if (b->failed || !grow(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void wp_buf_escape(struct wp_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            wp_buf_printf(b, "&amp;");
            break;
        case '<':
            wp_buf_printf(b, "&lt;");
            break;
        case '>':
            wp_buf_printf(b, "&gt;");
            break;
        case '"':
            wp_buf_printf(b, "&quot;");
            break;
        case '\'':
            wp_buf_printf(b, "&#39;");
            break;
        default:
            wp_buf_printf(b, "%c", *s);
        }
    }
}

char *wp_buf_take(struct wp_buf *b, size_t *len)
{
    char *p = b->failed ? NULL : b->p;

    if (b->failed)
        free(b->p);
    else if (!p && (p = malloc(1)))
        p[0] = '\0';
    if (len)
        *len = p ? b->len : 0;
    memset(b, 0, sizeof *b);
    return p;
}
