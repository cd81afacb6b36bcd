/* The whole footprint beside a run's operational CO2e: the hardware's
 * manufacture and the water on site and at the power plants, each with the
 * figure it came from and its source (Markdown rows or HTML paragraphs). */
#include "report_int.h"

#include "../run/run.h"
#include "../util/buf.h"
#include "../util/util.h"

#include <stdio.h>

/* One water figure of a run's report ("on site"), what it was computed from
 * ("the IT energy at a WUE of") and the source of that intensity. */
static void water_row(struct wp_buf *b, bool html, const char *where, double litres,
                      const char *basis, double l_per_kwh, const char *src)
{
    char safe[1200], v[32];

    wp_fmt_volume(litres, v, sizeof v);
    if (html) {
        wp_buf_printf(b, "<p>Water %s: %s, %s %.3g L/kWh (", where, v, basis, l_per_kwh);
        wp_buf_escape(b, src ? src : "");
        wp_buf_printf(b, ").</p>");
    } else {
        wp_md_text(src ? src : "", safe, sizeof safe);
        wp_buf_printf(b, "| water %s | %s: %s %.3g L/kWh (%s) |\n", where, v, basis, l_per_kwh,
                      safe);
    }
}

void wp_rep_footprint(struct wp_buf *b, json_t *run, bool html)
{
    json_t *carbon = wp_json_get(run, WPF_CARBON);
    char v[64];

    if (json_is_number(wp_json_get(run, WPF_EMBODIED_EMISSIONS_G))) {
        wp_fmt_mass(wp_json_num(run, WPF_EMBODIED_EMISSIONS_G), v, sizeof v);
        const char *src = wp_json_str(run, WPF_EMBODIED_SOURCE);
        if (html) {
            wp_buf_printf(b, "<p>Embodied: %s CO2e of the hardware's manufacture (", v);
            wp_buf_escape(b, src);
            wp_buf_printf(b, ").</p>");
        } else {
            char safe[1200];
            wp_md_text(src, safe, sizeof safe);
            wp_buf_printf(b, "| embodied CO2e (manufacture) | %s: %s |\n", v, safe);
        }
    }
    if (json_is_number(wp_json_get(carbon, WPF_WATER_L)))
        water_row(b, html, "on site", wp_json_num(carbon, WPF_WATER_L), "the IT energy at a WUE of",
                  wp_json_num(carbon, WPF_WUE_L_PER_KWH),
                  json_string_value(json_object_get(carbon, "wue_source")));
    if (json_is_number(wp_json_get(carbon, WPF_WATER_OFFSITE_L)))
        water_row(b, html, "at the power plants (estimated)",
                  wp_json_num(carbon, WPF_WATER_OFFSITE_L), "the facility's energy at",
                  wp_json_num(carbon, WPF_OFFSITE_WUE_L_PER_KWH),
                  json_string_value(json_object_get(carbon, "offsite_wue_source")));
}
