/* A small SVG chart writer for the reports. */
#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const palette[] = {"#3b6fb6", "#e08a2c", "#4c9a4c", "#c9443c", "#8a5fb0",
                                      "#8c6a4f", "#d472b5", "#7a7a7a", "#b8b52e", "#33a6b8"};
#define N_COLORS    (sizeof palette / sizeof *palette)
#define LEGEND_COLS 3
#define LEGEND_W    210

int wp_nice_ticks(double lo, double hi, int max, double *ticks)
{
    double span = hi - lo, raw, mag, step;
    int n = 0;

    if (!(span > 0) || max < 2) {
        ticks[0] = lo;
        return 1;
    }
    raw = span / (max - 1);
    mag = pow(10, floor(log10(raw)));
    step = raw / mag <= 1 ? mag : raw / mag <= 2 ? 2 * mag : raw / mag <= 5 ? 5 * mag : 10 * mag;
    for (double t = ceil(lo / step) * step; t <= hi + step * 1e-9 && n < max; t += step)
        ticks[n++] = fabs(t) < step * 1e-9 ? 0 : t;
    return n;
}

/* The axis top: top rounded up to a whole tick step. */
static double nice_top(double top)
{
    double ticks[12];
    int k;

    if (!(top > 0))
        return 1;
    k = wp_nice_ticks(0, top, 6, ticks);
    if (k >= 2 && ticks[k - 1] < top)
        return ticks[k - 1] + (ticks[1] - ticks[0]);
    return ticks[k - 1] > 0 ? ticks[k - 1] : top;
}

static void fmt_tick(double v, char *out, size_t cap)
{
    snprintf(out, cap, "%.4g", v);
}

struct frame {
    int w, h, left, right, top, bottom;
    double x0, x1, y0, y1;
};

static double px(const struct frame *f, double x)
{
    return f->left + (x - f->x0) / (f->x1 - f->x0) * (f->w - f->left - f->right);
}

static double py(const struct frame *f, double y)
{
    return f->h - f->bottom - (y - f->y0) / (f->y1 - f->y0) * (f->h - f->top - f->bottom);
}

static void open_svg(struct wp_buf *b, const struct frame *f, const char *title)
{
    wp_buf_printf(b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
                  "height=\"%d\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">"
                  "<title>",
                  f->w, f->h, f->w, f->h);
    wp_buf_escape(b, title);
    wp_buf_printf(b, "</title><text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">",
                  f->left);
    wp_buf_escape(b, title);
    wp_buf_printf(b, "</text>");
}

static void axes(struct wp_buf *b, const struct frame *f, const char *x_label, const char *y_label,
                 bool x_ticks)
{
    double ticks[12];
    char t[32];
    int n;

    n = wp_nice_ticks(f->y0, f->y1, 6, ticks);
    for (int i = 0; i < n; i++) {
        fmt_tick(ticks[i], t, sizeof t);
        wp_buf_printf(b,
                      "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                      "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" dy=\"4\">%s</text>",
                      f->left, f->w - f->right, py(f, ticks[i]), py(f, ticks[i]), f->left - 6,
                      py(f, ticks[i]), t);
    }
    if (x_ticks) {
        n = wp_nice_ticks(f->x0, f->x1, 8, ticks);
        for (int i = 0; i < n; i++) {
            fmt_tick(ticks[i], t, sizeof t);
            wp_buf_printf(b,
                          "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
                          "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                          px(f, ticks[i]), px(f, ticks[i]), f->h - f->bottom, f->h - f->bottom + 5,
                          px(f, ticks[i]), f->h - f->bottom + 18, t);
        }
    }
    wp_buf_printf(b,
                  "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
                  "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#333\"/>",
                  f->left, f->w - f->right, f->h - f->bottom, f->h - f->bottom, f->left, f->left,
                  f->top, f->h - f->bottom);
    wp_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                  (f->left + f->w - f->right) / 2, f->h - 6);
    wp_buf_escape(b, x_label);
    wp_buf_printf(b,
                  "</text><text transform=\"translate(14,%d) rotate(-90)\" "
                  "text-anchor=\"middle\">",
                  (f->top + f->h - f->bottom) / 2);
    wp_buf_escape(b, y_label);
    wp_buf_printf(b, "</text>");
}

static void legend(struct wp_buf *b, const char *const *names, int n, int x, int y)
{
    for (int i = 0; i < n; i++) {
        int lx = x + (i % LEGEND_COLS) * LEGEND_W, ly = y + (i / LEGEND_COLS) * 18;
        wp_buf_printf(b,
                      "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                      "<text x=\"%d\" y=\"%d\">",
                      lx, ly, palette[i % N_COLORS], lx + 16, ly + 10);
        wp_buf_escape(b, names[i]);
        wp_buf_printf(b, "</text>");
    }
}

void wp_svg_stacked(struct wp_buf *b, const char *title, const double *x, int n,
                    const double *const *series, const char *const *names, int n_series,
                    const char *x_label, const char *y_label, int width, int height)
{
    int legend_rows = (n_series + LEGEND_COLS - 1) / LEGEND_COLS;
    struct frame f = {width, height + 18 * legend_rows, 64, 20, 30 + 18 * legend_rows, 40, 0, 1, 0,
                      1};
    double top = 0;

    for (int i = 0; i < n; i++) {
        double sum = 0;
        for (int s = 0; s < n_series; s++)
            sum += series[s][i];
        if (sum > top)
            top = sum;
    }
    if (n > 0) {
        f.x0 = x[0];
        f.x1 = x[n - 1] > x[0] ? x[n - 1] : x[0] + 1;
    }
    f.y1 = nice_top(top);
    open_svg(b, &f, title);
    legend(b, names, n_series, f.left, 30);
    axes(b, &f, x_label, y_label, true);
    /* each layer: its top edge left to right, then the layer below right to left */
    for (int s = 0; s < n_series && n > 0; s++) {
        wp_buf_printf(b, "<path fill=\"%s\" fill-opacity=\"0.85\" stroke=\"none\" d=\"",
                      palette[s % N_COLORS]);
        for (int i = 0; i < n; i++) {
            double y = 0;
            for (int k = 0; k <= s; k++)
                y += series[k][i];
            wp_buf_printf(b, "%c%.1f %.1f ", i ? 'L' : 'M', px(&f, x[i]), py(&f, y));
        }
        for (int i = n - 1; i >= 0; i--) {
            double y = 0;
            for (int k = 0; k < s; k++)
                y += series[k][i];
            wp_buf_printf(b, "L%.1f %.1f ", px(&f, x[i]), py(&f, y));
        }
        wp_buf_printf(b, "Z\"/>");
    }
    wp_buf_printf(b, "</svg>");
}

#define DIGIT_PX     6.7 /* a digit's advance at 12 px sans-serif */
#define LABEL_GAP_PX 6.0

void wp_svg_bars(struct wp_buf *b, const char *title, const char *const *labels,
                 const double *values, int n, const char *y_label, int width, int height)
{
    struct frame f = {width, height, 64, 20, 30, 40, 0, 1, 0, 1};
    double top = 0, slot;

    for (int i = 0; i < n; i++)
        if (values[i] > top)
            top = values[i];
    f.y1 = nice_top(top);
    open_svg(b, &f, title);
    slot = (double)(f.w - f.left - f.right) / (n > 0 ? n : 1);
    /* labels at 12 px: a digit is about 0.56 em (6.7 px); an id's first 13
     * characters tell runs apart where they fit, else the runs' numbers
     * (oldest 1, as the table numbers them), every step-th so that no two
     * touch */
    bool ids = slot >= 13 * DIGIT_PX + LABEL_GAP_PX;
    int step = ids ? 1 : (int)ceil((3 * DIGIT_PX + LABEL_GAP_PX) / slot);
    axes(b, &f, ids ? "" : "runs, oldest first, numbered as in the table", y_label, false);
    for (int i = 0; i < n; i++) {
        double x = f.left + i * slot, y = py(&f, values[i]);
        wp_buf_printf(b,
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                      "fill=\"%s\"><title>",
                      x + slot * 0.1, y, slot * 0.8, f.h - f.bottom - y, palette[0]);
        wp_buf_escape(b, labels[i]);
        wp_buf_printf(b, ": %.4g</title></rect>", values[i]);
        if (ids || i % step == 0) {
            char text[16];
            if (ids)
                snprintf(text, sizeof text, "%.13s", labels[i]);
            else
                snprintf(text, sizeof text, "%d", i + 1);
            wp_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x + slot / 2,
                          f.h - f.bottom + 16);
            wp_buf_escape(b, text);
            wp_buf_printf(b, "</text>");
        }
    }
    wp_buf_printf(b, "</svg>");
}

void wp_svg_shares(struct wp_buf *b, const char *title, const char *const *labels,
                   const double *values, int n, const char *unit, int width)
{
    int legend_rows = (n + LEGEND_COLS - 1) / LEGEND_COLS;
    struct frame f = {width, 70 + 18 * legend_rows, 20, 20, 30, 0, 0, 1, 0, 1};
    double total = 0, x = f.left, span = width - f.left - f.right;
    const char *names[16];
    char text[16][96];

    for (int i = 0; i < n; i++)
        total += values[i] > 0 ? values[i] : 0;
    open_svg(b, &f, title);
    for (int i = 0; i < n && i < 16; i++) {
        double share = total > 0 && values[i] > 0 ? values[i] / total : 0;
        snprintf(text[i], sizeof text[i], "%s %.1f%% (%.4g %s)", labels[i], share * 100, values[i],
                 unit);
        names[i] = text[i];
        wp_buf_printf(b,
                      "<rect x=\"%.1f\" y=\"30\" width=\"%.1f\" height=\"22\" fill=\"%s\">"
                      "<title>",
                      x, share * span, palette[i % N_COLORS]);
        wp_buf_escape(b, text[i]);
        wp_buf_printf(b, "</title></rect>");
        x += share * span;
    }
    legend(b, names, n < 16 ? n : 16, f.left, 66);
    wp_buf_printf(b, "</svg>");
}

/* The data's range with a little room, from 0 when it is near. */
static void range_of(const double *v, int n, double *lo, double *hi)
{
    *lo = *hi = n ? v[0] : 0;
    for (int i = 1; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
    if (*hi <= *lo)
        *hi = *lo + (*lo ? fabs(*lo) * 0.1 : 1);
    *lo -= (*hi - *lo) * 0.08;
    *hi += (*hi - *lo) * 0.08;
}

void wp_svg_scatter(struct wp_buf *b, const char *title, const double *x, const double *y,
                    const char *const *labels, const bool *front, int n, const char *x_label,
                    const char *y_label, int width, int height)
{
    struct frame f = {width, height, 64, 20, 30, 40, 0, 1, 0, 1};

    range_of(x, n, &f.x0, &f.x1);
    range_of(y, n, &f.y0, &f.y1);
    open_svg(b, &f, title);
    axes(b, &f, x_label, y_label, true);
    wp_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                  palette[3]);
    { /* the front's points, left to right */
        int order[512], m = 0;
        for (int i = 0; i < n && m < 512; i++)
            if (front[i])
                order[m++] = i;
        for (int a = 0; a < m; a++) /* insertion sort by x: a front is short */
            for (int c = a; c > 0 && x[order[c]] < x[order[c - 1]]; c--) {
                int t = order[c];
                order[c] = order[c - 1];
                order[c - 1] = t;
            }
        for (int a = 0; a < m; a++)
            wp_buf_printf(b, "%s%.1f,%.1f", a ? " " : "", px(&f, x[order[a]]), py(&f, y[order[a]]));
    }
    wp_buf_printf(b, "\"/>");
    for (int i = 0; i < n; i++) {
        wp_buf_printf(b,
                      "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\" stroke=\"%s\"><title>",
                      px(&f, x[i]), py(&f, y[i]), front[i] ? palette[3] : "none", palette[0]);
        wp_buf_escape(b, labels[i]);
        wp_buf_printf(b, ": %.4g, %.4g%s</title></circle>", x[i], y[i],
                      front[i] ? " (on the front)" : "");
    }
    wp_buf_printf(b, "</svg>");
}
