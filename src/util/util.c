/* Small helpers shared by every module: parsing, files, time, messages. */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int wp_parse_u64(const char *text, size_t len, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    bool any = false;

    while (i < len && isspace((unsigned char)text[i]))
        i++;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
        unsigned d = (unsigned)(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
        any = true;
    }
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (!any || i != len)
        return -EINVAL;
    *out = v;
    return 0;
}

int wp_parse_double(const char *s, double *out)
{
    char *end;
    double v;

    if (!s || !*s || isspace((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -EINVAL;
    *out = v;
    return 0;
}

long wp_pread_text(int fd, char *buf, size_t cap)
{
    ssize_t n;

    if (cap == 0)
        return -EINVAL;
    do
        n = pread(fd, buf, cap - 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return (long)n;
}

int wp_path(char *out, size_t cap, const char *root, const char *rel)
{
    int n = snprintf(out, cap, "%s/%s", root, rel);
    return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

long wp_read_text(const char *root, const char *rel, char *buf, size_t cap)
{
    char path[4096];
    long n;
    int fd, rc = wp_path(path, sizeof path, root, rel);

    if (rc)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = wp_pread_text(fd, buf, cap);
    close(fd);
    return n;
}

static const char *env_root(const char *var, const char *fallback)
{
    const char *v = getenv(var);
    return (v && *v) ? v : fallback;
}

const char *wp_sysfs_root(void)
{
    return env_root("WATTPRINT_SYSFS", "/sys");
}

const char *wp_procfs_root(void)
{
    return env_root("WATTPRINT_PROCFS", "/proc");
}

double wp_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double wp_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void wp_iso8601(double epoch_s, char *out, size_t cap)
{
    /* within 1970..9999, where the format and time_t hold it */
    time_t t =
        (time_t)floor(epoch_s > 0 ? (epoch_s < 253402300799.0 ? epoch_s : 253402300799.0) : 0.0);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void wp_uuid7(char out[37])
{
    unsigned char b[16];
    uint64_t ms = (uint64_t)(wp_wall_s() * 1000.0);
    size_t got = 0;

    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* No entropy source: fall back on time and pid; ids stay unique enough. */
            for (size_t i = got; i < sizeof b; i++)
                b[i] = (unsigned char)((uint64_t)getpid() * 2654435761u >> (i % 8));
            break;
        }
        got += (size_t)n;
    }
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void wp_timespec_add(struct timespec *t, double s)
{
    t->tv_sec += (time_t)s;
    t->tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t wp_c_locale(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale ? c_locale : LC_GLOBAL_LOCALE;
}

struct start {
    void *(*fn)(void *);
    void *arg;
};

/* Every thread of ours parses and prints numbers in the C locale: a host
 * that set LC_NUMERIC (de_DE: "56,04") must not change what the sampler,
 * the recorder or the scraper read and write. */
static void *in_c_locale(void *arg)
{
    struct start st = *(struct start *)arg;

    free(arg);
    uselocale(wp_c_locale());
    return st.fn(st.arg);
}

int wp_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    struct start *st = malloc(sizeof *st);
    sigset_t all, old;
    int rc;

    if (!st)
        return ENOMEM;
    *st = (struct start){fn, arg};
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(t, NULL, in_c_locale, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        free(st);
    return rc;
}

void wp_fmt_energy(double j, char *out, size_t cap)
{
    double a = fabs(j);

    if (a > 0 && a < 1e-3)
        snprintf(out, cap, "%.3g \u00b5J", j * 1e6);
    else if (a > 0 && a < 1.0)
        snprintf(out, cap, "%.3g mJ", j * 1e3);
    else if (a < 1000.0)
        snprintf(out, cap, "%.3g J", j);
    else if (a < 3600.0)
        snprintf(out, cap, "%.3g kJ", j / 1e3);
    else if (a < 3.6e6)
        snprintf(out, cap, "%.3g Wh", j / 3600.0);
    else if (a < 3.6e9)
        snprintf(out, cap, "%.3g kWh", j / 3.6e6);
    else
        snprintf(out, cap, "%.3g MWh", j / 3.6e9);
}

void wp_fmt_duration(double s, char *out, size_t cap)
{
    if (!(s >= 0)) /* negative or NaN: nothing sensible to say */
        snprintf(out, cap, "?");
    else if (s < 1.0)
        snprintf(out, cap, "%.0f ms", s * 1e3);
    else if (s < 60.0)
        snprintf(out, cap, "%.3g s", s);
    else if (s < 3600.0)
        snprintf(out, cap, "%d min %02d s", (int)(s / 60), (int)s % 60);
    else if (s < 86400.0)
        snprintf(out, cap, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
    else
        snprintf(out, cap, "%.0f d %02d h", floor(s / 86400), (int)(s / 3600) % 24);
}

/* A quantity in the first unit whose range holds it: unit i below limit i
 * (the last above them all), the value times mul over div (small units
 * multiply, large ones divide: each rounds as its decimal would); zero in
 * the unit marked for it. */
struct si_unit {
    double limit, mul, div;
    const char *unit;
    bool zero;
};

static void fmt_si(double v, const struct si_unit *u, size_t n, char *out, size_t cap)
{
    double a = fabs(v);
    size_t i = 0;

    while (i + 1 < n && !(a < u[i].limit && (a > 0 || u[i].zero)))
        i++;
    snprintf(out, cap, "%.3g %s", v * u[i].mul / u[i].div, u[i].unit);
}

void wp_fmt_mass(double g, char *out, size_t cap)
{
    static const struct si_unit u[] = {
        {1e-6, 1e9, 1, "ng", false}, {1e-3, 1e6, 1, "\u00b5g", false}, {1.0, 1e3, 1, "mg", true},
        {1000.0, 1, 1, "g", false},  {1e6, 1, 1e3, "kg", false},       {0, 1, 1e6, "t", false}};
    fmt_si(g, u, sizeof u / sizeof *u, out, cap);
}

void wp_fmt_volume(double l, char *out, size_t cap)
{
    static const struct si_unit u[] = {{1e-6, 1e9, 1, "nL", false},
                                       {1e-3, 1e6, 1, "\u00b5L", false},
                                       {1.0, 1e3, 1, "mL", false},
                                       {1000.0, 1, 1, "L", true},
                                       {0, 1, 1e3, "m\u00b3", false}};
    fmt_si(l, u, sizeof u / sizeof *u, out, cap);
}

void wp_fmt_count(double n, char *out, size_t cap)
{
    static const struct {
        double scale;
        const char *word;
    } big[] = {{1e15, "quadrillion"}, {1e12, "trillion"}, {1e9, "billion"}, {1e6, "million"}};
    double a = fabs(n);
    char digits[32], grouped[48];
    size_t len, o = 0;

    if (!isfinite(n)) {
        snprintf(out, cap, "?");
        return;
    }
    for (size_t i = 0; i < sizeof big / sizeof *big; i++)
        if (a >= big[i].scale && (a >= 1e7 || n != floor(n))) {
            snprintf(out, cap, "%.3g %s", n / big[i].scale, big[i].word);
            return;
        }
    if (n != floor(n)) {
        snprintf(out, cap, "%.4g", n);
        return;
    }
    /* a whole number under ten million: every digit, grouped by three */
    snprintf(digits, sizeof digits, "%.0f", a);
    len = strlen(digits);
    if (n < 0)
        grouped[o++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            grouped[o++] = ',';
        grouped[o++] = digits[i];
    }
    grouped[o] = '\0';
    snprintf(out, cap, "%s", grouped);
}

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80                 ? 1
               : c >= 0xC2 && c <= 0xDF ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

size_t wp_utf8_clean(const char *in, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, bad = 0;

    if (cap == 0)
        return 0;
    while (*s) {
        size_t n = utf8_seq(s);
        if (n == 0) {
            if (o + 4 >= cap)
                break;
            snprintf(out + o, cap - o, "\\x%02X", *s++);
            o += 4;
            bad++;
            continue;
        }
        if (o + n >= cap)
            break;
        memcpy(out + o, s, n);
        o += n;
        s += n;
    }
    out[o] = '\0';
    return bad;
}

void wp_term_safe(const char *in, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;

    if (cap == 0)
        return;
    for (; *s && o + 1 < cap; s++) {
        bool c1 = s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F; /* U+0080-U+009F */
        if (*s < 0x20 || *s == 0x7F || c1) {
            if (o + 5 > cap)
                break;
            snprintf(out + o, cap - o, "\\x%02X", c1 ? s[1] : *s);
            o += 4;
            s += c1;
        } else {
            out[o++] = (char)*s;
        }
    }
    out[o] = '\0';
}

void wp_unit_singular(const char *unit, char *out, size_t cap)
{
    size_t n = strlen(unit);

    if (n > 3 && strcmp(unit + n - 3, "ies") == 0)
        snprintf(out, cap, "%.*sy", (int)(n - 3), unit);
    else if (n > 4 && (strcmp(unit + n - 4, "ches") == 0 || strcmp(unit + n - 4, "shes") == 0 ||
                       strcmp(unit + n - 4, "sses") == 0 || strcmp(unit + n - 3, "xes") == 0))
        snprintf(out, cap, "%.*s", (int)(n - 2), unit);
    else if (n > 1 && unit[n - 1] == 's' && unit[n - 2] != 's' && unit[n - 2] != 'u')
        snprintf(out, cap, "%.*s", (int)(n - 1), unit);
    else
        snprintf(out, cap, "%s", unit);
}

int wp_edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b), prev[65], cur[65];

    if (la > 64 || lb > 64)
        return 99;
    for (int j = 0; j <= lb; j++)
        prev[j] = j;
    for (int i = 1; i <= la; i++) {
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] +
                      (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            int best = sub < prev[j] + 1 ? sub : prev[j] + 1;
            cur[j] = best < cur[j - 1] + 1 ? best : cur[j - 1] + 1;
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
    }
    return prev[lb];
}

uint64_t wp_counter_delta(uint64_t prev, uint64_t cur, uint64_t range)
{
    if (cur >= prev)
        return cur - prev;
    if (range > prev)
        return (range - prev) + cur;
    return 0;
}

int wp_mkdir_parents(const char *file, unsigned mode)
{
    char dir[4096];
    char *slash;

    snprintf(dir, sizeof dir, "%s", file);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, (mode_t)mode) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(dir, (mode_t)mode) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int wp_parse_utc(const char *text, double *out)
{
    static const char *const formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                          "%Y-%m-%dT%H:%M"};

    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        struct tm tm = {0};
        if (strptime(text, formats[i], &tm)) {
            *out = (double)timegm(&tm);
            return 0;
        }
    }
    return -EINVAL;
}

int wp_parse_span(const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end), mult = 1;

    if (end == text || !(v > 0) || !isfinite(v))
        return -EINVAL;
    if (*end == 's' || *end == 'm' || *end == 'h' || *end == 'd') {
        mult = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : 86400;
        end++;
    }
    if (*end)
        return -EINVAL;
    *out = v * mult;
    return 0;
}
