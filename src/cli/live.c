/* The live progress line. On a terminal it lives on the last row, outside a
 * scroll region that holds everything else, so the command's output scrolls
 * above it and the two never mix on one line (the way apt draws its bar).
 * A terminal that does not tell its size (rows 0, as under script(1) or a
 * serial console) still gets the line, redrawn in place on the current row. */
#include "live.h"

#include "../util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct wp_live {
    bool tty;
    int rows;
    double every_s, last_s;
    bool drawn;
};

static int term_rows(void)
{
    struct winsize ws;
    /* 0: unknown; too few rows for a region are treated the same */
    return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 2 ? ws.ws_row : 0;
}

/* One write, so nothing else lands in the middle of an escape sequence. */
static void emit(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t k = write(STDERR_FILENO, s, n);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

struct wp_live *wp_live_begin(enum wp_live_mode mode, double every_s)
{
    struct wp_live *l;
    bool tty = isatty(STDERR_FILENO);
    char buf[64];

    if (mode == WP_LIVE_NEVER || (!tty && every_s <= 0))
        return NULL;
    if (!(l = calloc(1, sizeof *l)))
        return NULL;
    l->tty = tty;
    l->every_s = tty ? 0.5 : every_s;
    /* a terminal's line at once; a log's first line after every_s */
    l->last_s = tty ? -1e9 : wp_mono_s();
    l->rows = tty ? term_rows() : 0;
    if (l->rows > 0) {
        /* room for the line, then the scroll region above it */
        snprintf(buf, sizeof buf, "\n\0337\033[1;%dr\0338\033[1A", l->rows - 1);
        emit(buf);
    }
    return l;
}

void wp_live_format(const struct wp_live_status *st, char *out, size_t cap)
{
    char d[32], p[32], e[32], m[32], pe[32], pm[32], pd[32];
    size_t o;

    wp_fmt_duration(st->elapsed_s, d, sizeof d);
    snprintf(p, sizeof p, "%.3g W", st->power_w);
    wp_fmt_energy(st->energy_j, e, sizeof e);
    wp_fmt_mass(st->emissions_g, m, sizeof m);
    o = (size_t)snprintf(out, cap, "wattprint %s | %s | %s | %s CO2e", d, p, e, m);
    if (o < cap && st->done > 0) {
        char n[48];
        wp_fmt_count(st->total > 0 ? st->total : st->done, n, sizeof n);
        if (st->total > 0)
            o += (size_t)snprintf(out + o, cap - o, " | %.1f%% of %s %s",
                                  100.0 * st->done / st->total, n, st->unit);
        else
            o += (size_t)snprintf(out + o, cap - o, " | %s %s", n, st->unit);
    }
    if (o < cap && st->predicted) {
        wp_fmt_energy(st->predicted_energy_j, pe, sizeof pe);
        wp_fmt_mass(st->predicted_emissions_g, pm, sizeof pm);
        wp_fmt_duration(st->predicted_duration_s, pd, sizeof pd);
        snprintf(out + o, cap - o, " | whole run: %s, %s CO2e, %s", pe, pm, pd);
    }
}

void wp_live_update(struct wp_live *l, const struct wp_live_status *st, double now_s)
{
    char line[512], buf[640];
    int rows;

    if (!l || now_s - l->last_s < l->every_s)
        return;
    l->last_s = now_s;
    wp_live_format(st, line, sizeof line);
    if (!l->tty) {
        snprintf(buf, sizeof buf, "%s\n", line);
        emit(buf);
        return;
    }
    rows = term_rows();
    if (l->rows == 0) { /* size unknown: redraw the current row, cursor back at its start */
        snprintf(buf, sizeof buf, "\r\033[2K%.200s\r", line);
        emit(buf);
        l->drawn = true;
        return;
    }
    if (rows > 0 && rows != l->rows) { /* the terminal was resized */
        l->rows = rows;
        snprintf(buf, sizeof buf, "\0337\033[1;%dr\0338", l->rows - 1);
        emit(buf);
    }
    snprintf(buf, sizeof buf, "\0337\033[%d;1H\033[2K%.200s\0338", l->rows, line);
    emit(buf);
    l->drawn = true;
}

bool wp_live_due(const struct wp_live *l, double now_s)
{
    return l && now_s - l->last_s >= l->every_s;
}

double wp_live_period_s(const struct wp_live *l)
{
    return l ? l->every_s : 0;
}

double wp_live_due_s(const struct wp_live *l)
{
    return l->last_s + l->every_s;
}

void wp_live_end(struct wp_live *l)
{
    char buf[64];

    if (!l)
        return;
    if (l->tty && l->rows == 0) {
        if (l->drawn)
            emit("\r\033[2K");
    } else if (l->tty) {
        /* clear the line, give the whole screen back */
        snprintf(buf, sizeof buf, "\0337\033[%d;1H\033[2K\033[r\0338", l->rows);
        emit(buf);
    }
    free(l);
}
