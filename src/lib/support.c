/* libwattprint's calls that hold no handle: errors, the log, the locale,
 * versions, and the CodeCarbon row. */
#define _GNU_SOURCE
#include "lib_int.h"

#include "../data/csv.h"
#include "../interop/codecarbon.h"
#include "../run/run_doc.h"
#include "../util/buf.h"
#include "../util/util.h"

#include <jansson.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[512];

int wp_lib_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

const char *wattprint_last_error(void)
{
    return last_error;
}

static _Thread_local locale_t host_locale;
static _Thread_local int depth;

void wp_lib_enter(void)
{
    if (depth++ == 0)
        host_locale = uselocale(wp_c_locale());
}

void wp_lib_leave(void)
{
    if (--depth == 0 && host_locale)
        uselocale(host_locale);
}

/* The host's log function, read and set under log_mu and called outside it
 * (it may call back into the library). */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static wattprint_log_fn log_fn;
static void *log_user;

void wattprint_set_log(wattprint_log_fn fn, void *user)
{
    pthread_mutex_lock(&log_mu);
    log_fn = fn;
    log_user = user;
    pthread_mutex_unlock(&log_mu);
}

void wattprint_log_stderr(int level, const char *message, void *user)
{
    (void)level;
    (void)user;
    fprintf(stderr, "wattprint: %s\n", message);
}

/* A warning from below, in the library's words (its fields, not options). */
static void say(void *ctx, enum wp_hint hint, const char *msg)
{
    char line[1200];
    wattprint_log_fn fn;
    void *user;

    (void)ctx;
    pthread_mutex_lock(&log_mu);
    fn = log_fn;
    user = log_user;
    pthread_mutex_unlock(&log_mu);
    if (!fn)
        return;
    snprintf(line, sizeof line, "%s%s", msg,
             hint == WP_HINT_SERVE_SOCKET
                 ? " (run as root, make the counters readable, or point WATTPRINT_SOCKET at a "
                   "wattprint serve socket)"
             : hint == WP_HINT_LEDGER_PATH ? " (set the ledger option, WATTPRINT_LEDGER or HOME)"
                                           : "");
    fn(WATTPRINT_LOG_WARNING, line, user);
}

const struct wp_diag wp_lib_diag = {say, NULL};

void wattprint_free(void *p)
{
    free(p);
}

const char *wattprint_strerror(int code)
{
    switch (code) {
    case WATTPRINT_OK:
        return "success";
    case WATTPRINT_EINVAL:
        return "invalid argument";
    case WATTPRINT_ESTATE:
        return "not in this state";
    case WATTPRINT_ENOENT:
        return "not found";
    case WATTPRINT_ENOMEM:
        return "out of memory";
    case WATTPRINT_ESENSOR:
        return "no measured energy source";
    }
    return "unknown error";
}

const char *wattprint_version(void)
{
    return WP_VERSION;
}

static int codecarbon_csv(const char *run_json, const char *header, char **csv)
{
    static _Thread_local struct wp_csv hdr;
    const char *cols[WP_CSV_MAX_FIELDS];
    struct wp_buf b = {0};
    json_error_t je;
    json_t *run;
    char why[300];
    int n = WP_CC_COLUMNS;

    if (!run_json || !csv)
        return wp_lib_fail(WATTPRINT_EINVAL, "no run JSON, or no place for the CSV");
    if (!(run = json_loads(run_json, 0, &je)) || !json_is_object(run)) {
        json_decref(run);
        return wp_lib_fail(WATTPRINT_EINVAL, "run_json: not a JSON object (%s)", je.text);
    }
    if (wp_run_doc_check(run, why, sizeof why) != 0) {
        json_decref(run);
        return wp_lib_fail(WATTPRINT_EINVAL, "run_json: %s", why);
    }
    if (header && *header) {
        wp_csv_init(&hdr, header, strlen(header));
        if (wp_csv_next(&hdr) != 1 || !wp_cc_header_matches(&hdr)) {
            json_decref(run);
            return wp_lib_fail(WATTPRINT_EINVAL, "header: not CodeCarbon 3.x's %d columns",
                               WP_CC_COLUMNS);
        }
        for (n = 0; n < hdr.nfields; n++)
            cols[n] = hdr.field[n];
    } else {
        wp_cc_header(&b);
        memcpy(cols, wp_cc_columns, sizeof wp_cc_columns);
    }
    wp_cc_row(&b, run, cols, n);
    json_decref(run);
    *csv = wp_buf_take(&b, NULL);
    return *csv ? WATTPRINT_OK : wp_lib_fail(WATTPRINT_ENOMEM, "out of memory");
}

int wattprint_codecarbon_csv(const char *run_json, const char *header, char **csv)
{
    int rc;

    wp_lib_enter(); /* the row's numbers with points, whatever the host's locale */
    rc = codecarbon_csv(run_json, header, csv);
    wp_lib_leave();
    return rc;
}
