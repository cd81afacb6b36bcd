/* A growable string buffer for the text sinks (metrics, reports). */
#ifndef WP_BUF_H
#define WP_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct wp_buf {
    char *p; /* NUL-terminated; the caller frees it (wp_buf_take or free) */
    size_t len, cap;
    bool failed; /* an allocation failed: the text is incomplete */
};

/* Appends formatted text. On allocation failure sets failed and stops. */
void wp_buf_printf(struct wp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the n bytes at s (a row's cells: no format to parse). */
void wp_buf_add(struct wp_buf *b, const char *s, size_t n);

/* Appends s with &, <, >, " and ' escaped for HTML and XML. */
void wp_buf_escape(struct wp_buf *b, const char *s);

/* Returns the text (malloc'd, caller frees) or NULL if anything failed; the
 * buffer is left empty. */
char *wp_buf_take(struct wp_buf *b, size_t *len);

#endif
