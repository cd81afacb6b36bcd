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
    const char *body;                         /* sent with the method (PUT, POST); NULL: none */
    size_t body_len;
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

/* A client kept between requests, so that a server polled every second is
 * asked over one connection (curl reconnects when the server has closed it).
 * One thread at a time. */
struct wp_http_client;

/* Returns a client (wp_http_client_free it), or NULL without libcurl or memory. */
struct wp_http_client *wp_http_client_new(void);

/* wp_http_fetch through c. */
int wp_http_client_fetch(struct wp_http_client *c, const struct wp_http_request *r,
                         struct wp_http_response *out, char *err, size_t cap);

void wp_http_client_free(struct wp_http_client *c);

#endif
