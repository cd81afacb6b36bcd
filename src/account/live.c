/* Live grid intensity from the Electricity Maps API, through libcurl.
 * Optional: used only when WATTPRINT_ELECTRICITYMAPS_TOKEN is set, and any
 * failure falls back to the bundled table. libcurl is loaded with dlopen on
 * that first use: linking it would load some thirty shared libraries into
 * every wattprint run (about 6 ms measured), for a feature most runs skip. */
#include "account.h"

#include "../util/dl.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_URL "https://api.electricitymap.org/v3"
#define MAX_BODY    (64 * 1024) /* the real answer is a few hundred bytes */

int wp_emaps_parse(const char *body, size_t len, double *g, char *when, size_t when_cap)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr), *ci, *dt;
    int rc = -EINVAL;

    if (!root)
        return -EINVAL;
    ci = json_object_get(root, "carbonIntensity");
    if (json_is_number(ci)) {
        double v = json_number_value(ci);
        if (isfinite(v) && v >= 0 && v < 1e5) {
            *g = v;
            rc = 0;
        }
    }
    if (when && when_cap) {
        dt = json_object_get(root, "datetime");
        snprintf(when, when_cap, "%s", json_is_string(dt) ? json_string_value(dt) : "");
    }
    json_decref(root);
    return rc;
}

struct body {
    char *data;
    size_t len;
    bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t add = size * n;
    char *grown;

    if (b->len + add > MAX_BODY) {
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

/* Loads libcurl once; returns NULL (and says why in err) if it cannot. */
static const struct curl_api *curl_api(char *err, size_t cap)
{
    static struct curl_api api;
    static void *lib;
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

    if (!lib)
        lib =
            wp_dl_load(NULL, "libcurl.so.4", syms, sizeof syms / sizeof *syms, "libcurl", err, cap);
    return lib ? &api : NULL;
}

int wp_emaps_fetch(const char *zone, const char *token, double timeout_s, double *g, char *when,
                   size_t when_cap, char *err, size_t err_cap)
{
    const char *base = getenv("WATTPRINT_ELECTRICITYMAPS_URL");
    char url[1024], auth[1024];
    struct body b = {0};
    struct curl_slist *hdrs = NULL;
    const struct curl_api *c = curl_api(err, err_cap);
    long status = 0;
    CURLcode cc;
    CURL *curl;
    int rc = -EIO;

    if (!c)
        return -ENOSYS;
    if (!base || !*base)
        base = DEFAULT_URL;
    if (snprintf(url, sizeof url, "%s/carbon-intensity/latest?zone=%s", base, zone) >=
            (int)sizeof url ||
        snprintf(auth, sizeof auth, "auth-token: %s", token) >= (int)sizeof auth) {
        snprintf(err, err_cap, "URL or token too long");
        return -ENAMETOOLONG;
    }
    curl = c->init();
    if (!curl) {
        snprintf(err, err_cap, "cannot initialise libcurl");
        return -ENOMEM;
    }
    hdrs = c->slist_append(hdrs, auth);
    c->setopt(curl, CURLOPT_URL, url);
    c->setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    c->setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    c->setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_s * 1000));
    c->setopt(curl, CURLOPT_NOSIGNAL, 1L);
    c->setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    c->setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    c->setopt(curl, CURLOPT_WRITEDATA, &b);
    cc = c->perform(curl);
    c->getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        snprintf(err, err_cap, "%s", b.too_big ? "answer too large" : c->strerror(cc));
        rc = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
    } else if (status != 200) {
        snprintf(err, err_cap, "HTTP status %ld", status);
    } else if (wp_emaps_parse(b.data ? b.data : "", b.len, g, when, when_cap) != 0) {
        snprintf(err, err_cap, "the answer has no valid carbonIntensity");
        rc = -EINVAL;
    } else {
        rc = 0;
    }
    c->slist_free_all(hdrs);
    c->cleanup(curl);
    free(b.data);
    return rc;
}
