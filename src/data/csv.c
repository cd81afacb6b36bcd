/* A small RFC 4180 reader over an in-memory buffer (bundled data tables). */
#include "csv.h"

#include "../util/util.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

void wp_csv_init(struct wp_csv *c, const char *buf, size_t len)
{
    c->p = buf;
    c->end = buf + len;
    c->nfields = 0;
}

/* Skips to the start of the next line after a bad record. */
static int skip_line(struct wp_csv *c)
{
    while (c->p < c->end && *c->p != '\n')
        c->p++;
    if (c->p < c->end)
        c->p++;
    return -EINVAL;
}

int wp_csv_next(struct wp_csv *c)
{
    size_t o = 0;
    int quoted = 0;

    c->nfields = 0;
    if (c->p >= c->end)
        return 0;
    c->field[c->nfields++] = c->scratch;
    while (c->p < c->end) {
        char ch = *c->p++;
        if (quoted) {
            if (ch == '"') {
                if (c->p < c->end && *c->p == '"') {
                    c->p++;
                } else {
                    quoted = 0;
                    continue;
                }
            }
        } else if (ch == '"') {
            quoted = 1;
            continue;
        } else if (ch == ',') {
            if (c->nfields == WP_CSV_MAX_FIELDS || o + 1 >= sizeof c->scratch)
                return skip_line(c);
            c->scratch[o++] = '\0';
            c->field[c->nfields++] = c->scratch + o;
            continue;
        } else if (ch == '\n') {
            break;
        } else if (ch == '\r') {
            continue;
        }
        if (o + 1 >= sizeof c->scratch)
            return skip_line(c);
        c->scratch[o++] = ch;
    }
    if (quoted)
        return -EINVAL; /* unterminated quote ran to the end of the buffer */
    c->scratch[o] = '\0';
    return 1;
}

int wp_csv_column(const struct wp_csv *c, const char *name)
{
    for (int i = 0; i < c->nfields; i++)
        if (strcmp(c->field[i], name) == 0)
            return i;
    return -1;
}

const char *wp_csv_get(const struct wp_csv *hdr, const struct wp_csv *row, const char *name)
{
    int i = wp_csv_column(hdr, name);
    return (i >= 0 && i < row->nfields) ? row->field[i] : "";
}

double wp_csv_positive(const struct wp_csv *hdr, const struct wp_csv *row, const char *name,
                       double dflt)
{
    const char *s = wp_csv_get(hdr, row, name);
    double v;
    return *s && wp_parse_double(s, &v) == 0 && v > 0 ? v : dflt;
}

/* A decimal number, all of it: [+-]digits[.digits][e[+-]digits], in no
 * locale's spelling but C's (the library may run under any). */
static bool plain_number(const char *s)
{
    bool digits = false;

    s += *s == '+' || *s == '-';
    for (; isdigit((unsigned char)*s); s++)
        digits = true;
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++)
            digits = true;
    if (digits && (*s == 'e' || *s == 'E')) {
        s += 1 + (s[1] == '+' || s[1] == '-');
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return digits && *s == '\0';
}

bool wp_csv_formula_risk(const char *cell)
{
    if (!cell[0] || !strchr("=+-@\t\r", cell[0]))
        return false;
    return !((cell[0] == '+' || cell[0] == '-') && plain_number(cell));
}
