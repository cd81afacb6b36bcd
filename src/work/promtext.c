/* A strict reader of the Prometheus text format 0.0.4: metric and label
 * names by the format's grammar, label values with only the \\, \" and \n
 * escapes, values as floats (NaN and +/-Inf included), an optional integer
 * timestamp, HELP and TYPE lines checked, any other # line a comment. */
#include "promtext.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
    const char *p, *end;
    int line;
    char *err;
    size_t cap;
    /* the family the last TYPE line declared */
    char family[WP_PROM_MAX_NAME];
    size_t family_len;
    enum wp_prom_type family_type;
};

static int fail(struct cursor *c, const char *why)
{
    snprintf(c->err, c->cap, "line %d: %s", c->line, why);
    return -EINVAL;
}

static bool name_start(char ch, bool metric)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
           (metric && ch == ':');
}

static bool name_char(char ch, bool metric)
{
    return name_start(ch, metric) || (ch >= '0' && ch <= '9');
}

static void blanks(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
}

/* A metric (or label) name at *p; its length, 0 if none. */
static size_t name_at(const char *p, const char *end, bool metric)
{
    size_t n = 0;

    if (p >= end || !name_start(*p, metric))
        return 0;
    while (p + n < end && name_char(p[n], metric))
        n++;
    return n;
}

/* A quoted label value from *p (at the opening quote) past its closing one. */
static int label_value(struct cursor *c, const char **p, const char *end)
{
    const char *q = *p + 1;

    for (; q < end && *q != '"'; q++) {
        if (*q != '\\')
            continue;
        if (++q >= end || (*q != '\\' && *q != '"' && *q != 'n'))
            return fail(c, "a label value has an escape other than \\\\, \\\" or \\n");
    }
    if (q >= end)
        return fail(c, "a label value is not closed");
    *p = q + 1;
    return 0;
}

/* {name="value",...} from *p (at the brace) past the closing brace. */
static int label_set(struct cursor *c, const char **p, const char *end)
{
    const char *q = *p + 1;

    for (;;) {
        size_t n;
        blanks(&q, end);
        if (q < end && *q == '}')
            break;
        if (!(n = name_at(q, end, false)))
            return fail(c, "a label name is missing or invalid");
        q += n;
        blanks(&q, end);
        if (q >= end || *q != '=')
            return fail(c, "a label has no '='");
        q++;
        blanks(&q, end);
        if (q >= end || *q != '"')
            return fail(c, "a label value is not quoted");
        if (label_value(c, &q, end))
            return -EINVAL;
        blanks(&q, end);
        if (q < end && *q == ',') {
            q++;
            continue;
        }
        if (q >= end || *q != '}')
            return fail(c, "labels are not separated by ',' or closed by '}'");
        break;
    }
    *p = q + 1;
    return 0;
}

/* A float token (Go's ParseFloat's forms, which strtod reads: NaN, Inf). */
static int number(struct cursor *c, const char *p, size_t n, double *out)
{
    char buf[64], *stop;

    if (n == 0 || n >= sizeof buf)
        return fail(c, "a sample has no value, or one too long");
    memcpy(buf, p, n);
    buf[n] = '\0';
    *out = strtod(buf, &stop);
    if (*stop)
        return fail(c, "a sample's value is not a number");
    return 0;
}

static int timestamp(struct cursor *c, const char *p, size_t n)
{
    size_t i = n > 0 && (*p == '-' || *p == '+');

    if (i == n || n > 20)
        return fail(c, "a sample's timestamp is not an integer");
    for (; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return fail(c, "a sample's timestamp is not an integer");
    return 0;
}

static size_t token(const char *p, const char *end)
{
    size_t n = 0;

    while (p + n < end && p[n] != ' ' && p[n] != '\t')
        n++;
    return n;
}

/* The type a sample of this name has: its family's, where the last TYPE
 * line declared a family it belongs to (the name, or name_sum, _count, ...). */
static enum wp_prom_type type_of(const struct cursor *c, const char *name, size_t n)
{
    static const char *const suffix[] = {"", "_sum", "_count", "_bucket", "_total", "_created"};

    if (!c->family_len || n < c->family_len || memcmp(name, c->family, c->family_len) != 0)
        return WP_PROM_UNTYPED;
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++)
        if (n - c->family_len == strlen(suffix[i]) &&
            memcmp(name + c->family_len, suffix[i], n - c->family_len) == 0)
            return c->family_type;
    return WP_PROM_UNTYPED;
}

static int sample(struct cursor *c, const char *p, const char *end, wp_prom_fn fn, void *ctx)
{
    struct wp_prom_sample s = {.line = c->line, .labels = ""};
    size_t n;

    if (!(s.name_len = name_at(p, end, true)))
        return fail(c, "not a sample: no metric name");
    s.name = p;
    p += s.name_len;
    if (p < end && *p == '{') {
        const char *open = p;
        if (label_set(c, &p, end))
            return -EINVAL;
        s.labels = open + 1;
        s.labels_len = (size_t)(p - open - 2);
    }
    if (p >= end || (*p != ' ' && *p != '\t'))
        return fail(c, "a sample's name is not followed by a blank and a value");
    blanks(&p, end);
    n = token(p, end);
    if (number(c, p, n, &s.value))
        return -EINVAL;
    p += n;
    blanks(&p, end);
    if (p < end) {
        n = token(p, end);
        if (timestamp(c, p, n))
            return -EINVAL;
        p += n;
        blanks(&p, end);
        if (p < end)
            return fail(c, "a sample has text after its timestamp");
    }
    s.type = type_of(c, s.name, s.name_len);
    return fn ? fn(ctx, &s) : 0;
}

/* # HELP name text, # TYPE name type, or a comment. */
static int comment(struct cursor *c, const char *p, const char *end)
{
    static const char *const types[] = {"untyped", "counter", "gauge", "histogram", "summary"};
    bool help = end - p >= 7 && memcmp(p, "# HELP ", 7) == 0;
    bool type = end - p >= 7 && memcmp(p, "# TYPE ", 7) == 0;
    size_t n;

    if (!help && !type)
        return 0;
    p += 7;
    blanks(&p, end);
    if (!(n = name_at(p, end, true)) || n >= WP_PROM_MAX_NAME)
        return fail(c, help ? "HELP names no metric" : "TYPE names no metric");
    if (help) {
        for (const char *q = p + n; q < end; q++)
            if (*q == '\\' && (++q >= end || (*q != '\\' && *q != 'n')))
                return fail(c, "HELP text has an escape other than \\\\ or \\n");
        return 0;
    }
    memcpy(c->family, p, n);
    c->family[n] = '\0';
    c->family_len = n;
    p += n;
    blanks(&p, end);
    n = token(p, end);
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (n == strlen(types[i]) && memcmp(p, types[i], n) == 0 && p + n == end) {
            c->family_type = (enum wp_prom_type)i;
            return 0;
        }
    return fail(c, "TYPE is not counter, gauge, histogram, summary or untyped");
}

int wp_prom_parse(const char *text, size_t len, wp_prom_fn fn, void *ctx, char *err, size_t cap)
{
    struct cursor c = {.p = text, .end = text + len, .err = err, .cap = cap};

    if (memchr(text, '\0', len)) {
        snprintf(err, cap, "the page has a NUL byte: not text");
        return -EINVAL;
    }
    while (c.p < c.end) {
        const char *nl = memchr(c.p, '\n', (size_t)(c.end - c.p)), *e = nl ? nl : c.end, *p = c.p;
        int rc = 0;
        c.line++;
        blanks(&p, e);
        if (p < e && *p == '#')
            rc = comment(&c, p, e);
        else if (p < e)
            rc = sample(&c, p, e, fn, ctx);
        if (rc)
            return rc;
        c.p = nl ? nl + 1 : c.end;
    }
    return 0;
}

/* The next label of validated label text at *p: its name and its value's
 * bytes between the quotes, still escaped. Returns false at the end. */
static bool next_label(const char **p, const char *end, const char **name, size_t *name_len,
                       const char **v, const char **v_end)
{
    const char *q = *p;

    blanks(&q, end);
    if (!(*name_len = name_at(q, end, false)))
        return false;
    *name = q;
    q += *name_len;
    while (q < end && *q != '"')
        q++;
    *v = ++q;
    while (q < end && *q != '"')
        q += *q == '\\' ? 2 : 1;
    *v_end = q < end ? q : end;
    q = *v_end + 1;
    blanks(&q, end);
    if (q < end && *q == ',')
        q++;
    *p = q;
    return true;
}

/* Unescapes a validated label value [p, end) into out; false if truncated. */
static bool unescape(const char *p, const char *end, char *out, size_t cap)
{
    size_t n = 0;

    for (; p < end; p++) {
        char ch = *p;
        if (ch == '\\' && p + 1 < end)
            ch = *++p == 'n' ? '\n' : *p;
        if (n + 1 >= cap) {
            out[n] = '\0';
            return false;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    return true;
}

bool wp_prom_label(const struct wp_prom_sample *s, const char *name, char *value, size_t cap)
{
    const char *p = s->labels, *end = s->labels + s->labels_len, *n, *v, *v_end;
    size_t nl, want = strlen(name);

    while (next_label(&p, end, &n, &nl, &v, &v_end))
        if (nl == want && memcmp(n, name, nl) == 0) {
            unescape(v, v_end, value, cap);
            return true;
        }
    return false;
}

/* The matchers of a selector's validated label text [p, end). */
static int matchers(const char *text, const char *p, const char *end, struct wp_prom_selector *out,
                    char *err, size_t cap)
{
    const char *n, *v, *v_end;
    size_t nl;

    while (next_label(&p, end, &n, &nl, &v, &v_end)) {
        if (out->n_matchers == WP_PROM_MAX_MATCHERS || nl >= sizeof out->matchers[0].label) {
            snprintf(err, cap, "'%s': at most %d labels, names of up to 63 characters", text,
                     WP_PROM_MAX_MATCHERS);
            return -EINVAL;
        }
        memcpy(out->matchers[out->n_matchers].label, n, nl);
        if (!unescape(v, v_end, out->matchers[out->n_matchers].value,
                      sizeof out->matchers[0].value)) {
            snprintf(err, cap, "'%s': a label value is over %d bytes", text,
                     WP_PROM_MAX_LABEL_VALUE - 1);
            return -EINVAL;
        }
        out->n_matchers++;
    }
    return 0;
}

int wp_prom_selector_parse(const char *text, struct wp_prom_selector *out, char *err, size_t cap)
{
    const char *p = text, *end = text + strlen(text);
    size_t n = name_at(p, end, true);
    struct cursor c = {.err = err, .cap = cap, .line = 1};

    memset(out, 0, sizeof *out);
    if (!n || n >= sizeof out->name) {
        snprintf(err, cap, "'%s' does not start with a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
                 text);
        return -EINVAL;
    }
    memcpy(out->name, p, n);
    p += n;
    if (p == end)
        return 0;
    if (*p == '{') {
        const char *q = p;
        if (label_set(&c, &q, end) == 0 && q == end)
            return matchers(text, p + 1, end - 1, out, err, cap);
    }
    snprintf(err, cap, "'%s' is not NAME or NAME{label=\"value\",...}", text);
    return -EINVAL;
}

bool wp_prom_selects(const struct wp_prom_selector *sel, const struct wp_prom_sample *s)
{
    char v[WP_PROM_MAX_LABEL_VALUE];

    if (s->name_len != strlen(sel->name) || memcmp(s->name, sel->name, s->name_len) != 0)
        return false;
    for (int i = 0; i < sel->n_matchers; i++) {
        const char *p = s->labels, *end = s->labels + s->labels_len, *n, *lv, *lv_end;
        size_t nl, want = strlen(sel->matchers[i].label);
        bool found = false;
        while (!found && next_label(&p, end, &n, &nl, &lv, &lv_end))
            found = nl == want && memcmp(n, sel->matchers[i].label, nl) == 0 &&
                    unescape(lv, lv_end, v, sizeof v) && strcmp(v, sel->matchers[i].value) == 0;
        if (!found)
            return false;
    }
    return true;
}
