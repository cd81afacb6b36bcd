/* A small SVG chart writer for the reports: axes with readable ticks and
 * units, stacked areas, bars and shares, and a legend. No JavaScript. */
#ifndef WP_SVG_H
#define WP_SVG_H

#include "../util/buf.h"

#include <stdbool.h>

/* Up to max "nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi].
 * Returns their count, written to ticks. */
int wp_nice_ticks(double lo, double hi, int max, double *ticks);

/* Stacked areas: n points at x[0..n), series[s][0..n) for n_series series
 * stacked in order, each named for the legend. */
void wp_svg_stacked(struct wp_buf *b, const char *title, const double *x, int n,
                    const double *const *series, const char *const *names, int n_series,
                    const char *x_label, const char *y_label, int width, int height);

/* Vertical bars, one per label. */
void wp_svg_bars(struct wp_buf *b, const char *title, const char *const *labels,
                 const double *values, int n, const char *y_label, int width, int height);

/* One horizontal bar split into shares of the whole, with a legend. */
void wp_svg_shares(struct wp_buf *b, const char *title, const char *const *labels,
                   const double *values, int n, const char *unit, int width);

/* Points (x[i], y[i]) with labels for their tooltips; those with front[i]
 * set drawn filled and joined in x order (a Pareto front). */
void wp_svg_scatter(struct wp_buf *b, const char *title, const double *x, const double *y,
                    const char *const *labels, const bool *front, int n, const char *x_label,
                    const char *y_label, int width, int height);

#endif
