/* Names in Markdown and YAML: a project, a command or a GPU's name is data,
 * and must not become HTML, a link, a table column or a YAML key in a
 * report or a model card that others render. */
#include "report_int.h"

#include <stdio.h>
#include <string.h>

/* Appends c to out (cap bytes) at *o if it fits with its NUL. */
static void put(char *out, size_t cap, size_t *o, const char *c, size_t n)
{
    if (*o + n < cap) {
        memcpy(out + *o, c, n);
        *o += n;
    }
    out[*o < cap ? *o : cap - 1] = '\0';
}

/* A control character as \xNN (a newline would end a table row). */
static bool control(unsigned char c, char *out, size_t cap, size_t *o)
{
    char hex[8];

    if (c >= 0x20 && c != 0x7F)
        return false;
    snprintf(hex, sizeof hex, "\\x%02X", c);
    put(out, cap, o, hex, 4);
    return true;
}

void wp_md_text(const char *s, char *out, size_t cap)
{
    size_t o = 0;

    out[0] = '\0';
    for (; s && *s; s++) {
        const char *entity = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;" : NULL;
        if (entity)
            put(out, cap, &o, entity, strlen(entity));
        else if (control((unsigned char)*s, out, cap, &o))
            continue;
        else if (strchr("\\`*_[]|~!#", *s)) {
            char esc[2] = {'\\', *s};
            put(out, cap, &o, esc, 2);
        } else
            put(out, cap, &o, s, 1);
    }
}

void wp_md_code(const char *s, bool in_table, char *out, size_t cap)
{
    int longest = 0, run = 0;
    char fence[16];
    size_t o = 0, len = strlen(s);
    bool pad;

    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    if (longest > 12)
        longest = 12;
    memset(fence, '`', (size_t)longest + 1);
    fence[longest + 1] = '\0';
    /* CommonMark strips one space at each end when both are there */
    pad = len == 0 || s[0] == '`' || s[len - 1] == '`' || s[0] == ' ';
    out[0] = '\0';
    put(out, cap, &o, fence, strlen(fence));
    if (pad)
        put(out, cap, &o, " ", 1);
    for (; *s; s++) {
        if (control((unsigned char)*s, out, cap, &o))
            continue;
        if (in_table && *s == '|')
            put(out, cap, &o, "\\|", 2); /* GFM splits cells before code spans */
        else
            put(out, cap, &o, s, 1);
    }
    if (pad)
        put(out, cap, &o, " ", 1);
    put(out, cap, &o, fence, strlen(fence));
}

void wp_yaml_quoted(const char *s, char *out, size_t cap)
{
    size_t o = 0;

    out[0] = '\0';
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') {
            char esc[2] = {'\\', *s};
            put(out, cap, &o, esc, 2);
        } else if (!control((unsigned char)*s, out, cap, &o)) {
            put(out, cap, &o, s, 1);
        }
    }
}
