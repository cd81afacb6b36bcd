/* One HTTP request through libcurl, loaded with dlopen on first use: linking
 * it would load some thirty shared libraries into every wattprint run (about
 * 6 ms measured), for features most runs skip (live intensity, cloud
 * metadata). */
#ifndef WP_HTTP_H
#define WP_HTTP_H

#include <stddef.h>

#define WP_HTTP_MAX_HEADERS 4

struct wp_http_request {
    const char *method; /* NULL: GET */
    const char *url;
    const char *headers[WP_HTTP_MAX_HEADERS]; /* "Name: value", NULL-terminated if fewer */
    long timeout_ms;                          /* the whole request, connection included */
    size_t max_body;                          /* a longer answer is an error */
    int no_proxy;                             /* never through $http_proxy (link-local APIs) */
};

struct wp_http_response {
    long status;
    char *body; /* NUL-terminated, malloc'd: the caller frees it */
    size_t len;
};

/* Performs r. Returns 0 with the response (any HTTP status), or a negative
 * errno (-ETIMEDOUT, -ECONNREFUSED where nothing listens, -ENOSYS without
 * libcurl, -EIO) with the reason in err. */
int wp_http_fetch(const struct wp_http_request *r, struct wp_http_response *out, char *err,
                  size_t cap);

#endif
