/* The live progress line on stderr while a run goes on. */
#ifndef WP_LIVE_H
#define WP_LIVE_H

#include <stdbool.h>
#include <stddef.h>

enum wp_live_mode { WP_LIVE_AUTO, WP_LIVE_ALWAYS, WP_LIVE_NEVER };

struct wp_live_status {
    double elapsed_s, power_w, energy_j, emissions_g;
    const char *unit;
    double done, total; /* total 0: unknown */
    bool predicted;
    double predicted_energy_j, predicted_emissions_g, predicted_duration_s;
};

struct wp_live;

/* Starts the display on stderr. With a terminal (mode auto or always), one
 * line is kept at the bottom of the screen, below a scroll region holding
 * the command's own output, and redrawn at most twice a second; otherwise
 * (always, or auto without a terminal, when every_s > 0) a plain line is
 * printed every every_s seconds. Returns NULL when nothing is to be shown. */
struct wp_live *wp_live_begin(enum wp_live_mode mode, double every_s);

/* Shows st if its time has come (now_s on any monotonic clock). */
void wp_live_update(struct wp_live *l, const struct wp_live_status *st, double now_s);

/* Whether the line is due to be redrawn at now_s (false for NULL). */
bool wp_live_due(const struct wp_live *l, double now_s);

/* How often the line is redrawn, s (0.5 on a terminal, every_s in a log);
 * 0 for NULL. */
double wp_live_period_s(const struct wp_live *l);

/* When the next line is due, on wp_mono_s's clock (l not NULL). */
double wp_live_due_s(const struct wp_live *l);

/* Removes the line and restores the terminal; frees l. */
void wp_live_end(struct wp_live *l);

/* Formats st as one line of at most cap bytes. */
void wp_live_format(const struct wp_live_status *st, char *out, size_t cap);

#endif
