/* HTTP through libcurl, loaded once with dlopen. */
#include "http.h"

#include "dl.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct body {
    char *data;
    size_t len, max;
    bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t add = size * n;
    char *grown;

    if (b->len + add > b->max) {
        b->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    grown = realloc(b->data, b->len + add + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

struct curl_api {
    CURL *(*init)(void);
    CURLcode (*setopt)(CURL *, CURLoption, ...);
    CURLcode (*perform)(CURL *);
    CURLcode (*getinfo)(CURL *, CURLINFO, ...);
    void (*cleanup)(CURL *);
    const char *(*strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
};

static struct curl_api api;
static void *lib;
static char lib_err[256];

static void load(void)
{
    const struct wp_dl_sym syms[] = {
        {(void **)&api.init, "curl_easy_init"},
        {(void **)&api.setopt, "curl_easy_setopt"},
        {(void **)&api.perform, "curl_easy_perform"},
        {(void **)&api.getinfo, "curl_easy_getinfo"},
        {(void **)&api.cleanup, "curl_easy_cleanup"},
        {(void **)&api.strerror, "curl_easy_strerror"},
        {(void **)&api.slist_append, "curl_slist_append"},
        {(void **)&api.slist_free_all, "curl_slist_free_all"},
    };
    lib = wp_dl_load(NULL, "libcurl.so.4", syms, sizeof syms / sizeof *syms, "libcurl", lib_err,
                     sizeof lib_err);
}

/* Loads libcurl once (from any thread); NULL, with why in err, if it cannot. */
static const struct curl_api *curl_api(char *err, size_t cap)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, load);
    if (!lib)
        snprintf(err, cap, "%s", lib_err);
    return lib ? &api : NULL;
}

static void set_options(const struct curl_api *c, CURL *curl, const struct wp_http_request *r,
                        struct curl_slist *hdrs, struct body *b)
{
    long ms = r->timeout_ms > 0 ? r->timeout_ms : 1;

    c->setopt(curl, CURLOPT_URL, r->url);
    c->setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    if (r->body) { /* copied: the request owns nothing of the caller's after this */
        c->setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        c->setopt(curl, CURLOPT_COPYPOSTFIELDS, r->body);
    } else {
        c->setopt(curl, CURLOPT_HTTPGET, 1L); /* a reused handle forgets an earlier body */
    }
    c->setopt(curl, CURLOPT_CUSTOMREQUEST, r->method); /* NULL: GET, on a reused handle too */
    c->setopt(curl, CURLOPT_TIMEOUT_MS, ms);
    c->setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ms);
    c->setopt(curl, CURLOPT_NOSIGNAL, 1L);
    c->setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    c->setopt(curl, CURLOPT_NOPROXY, r->no_proxy ? "*" : NULL);
    c->setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    c->setopt(curl, CURLOPT_WRITEDATA, b);
}

/* One request on curl, an easy handle that may have served others before. */
static int perform(const struct curl_api *c, CURL *curl, const struct wp_http_request *r,
                   struct wp_http_response *out, char *err, size_t cap)
{
    struct body b = {.max = r->max_body ? r->max_body : 64 * 1024};
    struct curl_slist *hdrs = NULL;
    CURLcode cc;

    for (int i = 0; i < WP_HTTP_MAX_HEADERS && r->headers[i]; i++)
        hdrs = c->slist_append(hdrs, r->headers[i]);
    set_options(c, curl, r, hdrs, &b);
    cc = c->perform(curl);
    c->getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    c->setopt(curl, CURLOPT_HTTPHEADER, NULL); /* the list is freed: forget it */
    c->slist_free_all(hdrs);
    if (cc != CURLE_OK) {
        snprintf(err, cap, "%s", b.too_big ? "answer too large" : c->strerror(cc));
        free(b.data);
        return cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
               : cc == CURLE_COULDNT_CONNECT  ? -ECONNREFUSED
                                              : -EIO;
    }
    out->body = b.data ? b.data : calloc(1, 1);
    out->len = b.len;
    if (!out->body) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

int wp_http_fetch(const struct wp_http_request *r, struct wp_http_response *out, char *err,
                  size_t cap)
{
    struct wp_http_client *client;
    int rc;

    memset(out, 0, sizeof *out);
    if (!curl_api(err, cap))
        return -ENOSYS;
    if (!(client = wp_http_client_new())) {
        snprintf(err, cap, "cannot initialise libcurl");
        return -ENOMEM;
    }
    rc = wp_http_client_fetch(client, r, out, err, cap);
    wp_http_client_free(client);
    return rc;
}

struct wp_http_client {
    CURL *curl;
};

struct wp_http_client *wp_http_client_new(void)
{
    char err[256];
    const struct curl_api *c = curl_api(err, sizeof err);
    struct wp_http_client *client;

    if (!c || !(client = calloc(1, sizeof *client)))
        return NULL;
    if (!(client->curl = c->init())) {
        free(client);
        return NULL;
    }
    return client;
}

int wp_http_client_fetch(struct wp_http_client *client, const struct wp_http_request *r,
                         struct wp_http_response *out, char *err, size_t cap)
{
    const struct curl_api *c = curl_api(err, cap);

    memset(out, 0, sizeof *out);
    if (!c)
        return -ENOSYS;
    return perform(c, client->curl, r, out, err, cap);
}

void wp_http_client_free(struct wp_http_client *client)
{
    if (!client)
        return;
    api.cleanup(client->curl);
    free(client);
}
