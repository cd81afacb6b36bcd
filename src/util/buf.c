/* A growable string buffer for the text sinks. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wp_buf_printf(struct wp_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        if (b->cap - b->len < 2) {
            size_t cap = b->cap ? b->cap * 2 : 1024;
            char *grown = realloc(b->p, cap);
            if (!grown) {
                b->failed = true;
                return;
            }
            b->p = grown;
            b->cap = cap;
        }
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        {
            size_t cap = (b->len + (size_t)n + 1) * 2;
            char *grown = realloc(b->p, cap);
            if (!grown) {
                b->failed = true;
                return;
            }
            b->p = grown;
            b->cap = cap;
        }
    }
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
