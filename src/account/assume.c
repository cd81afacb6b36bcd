/* Carbon assumptions from options: region (or WATTPRINT_REGION, or the world
 * average), intensity, PUE (given, the provider's, or 1.0), embodied
 * emissions; and the optional live intensity. */
#include "assume.h"
#include "embodied.h"

#include "cloud.h"

#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct wp_carbon_names plain_names = {"region", "intensity", "PUE", "provider"};

/* The region (given, WATTPRINT_REGION, or the world average) and the
 * intensity. Returns 0 or a negative errno with why. */
static int resolve_region(const struct wp_carbon_opts *o, const struct wp_carbon_names *nm,
                          struct wp_assumptions *a, char *err, size_t cap)
{
    const char *region = o->region;
    const char *from = o->region_from ? o->region_from : nm->region;
    char suggest[256];

    if (!region || !*region) {
        region = getenv("WATTPRINT_REGION");
        from = "WATTPRINT_REGION";
    }
    if (region && *region) {
        if (wp_region_find(region, &a->region, suggest, sizeof suggest) != 0) {
            snprintf(err, cap, "%s: unknown region '%s'; nearest: %s", from, region, suggest);
            return -EINVAL;
        }
        if (o->region_from || !o->region)
            snprintf(a->intensity_source, sizeof a->intensity_source,
                     "region %.60s from %.200s; table: %.200s", region, from, a->region.source);
        else
            snprintf(a->intensity_source, sizeof a->intensity_source, "table: %s",
                     a->region.source);
    } else {
        wp_region_world(&a->region);
        snprintf(a->intensity_source, sizeof a->intensity_source, "assumed: %s", a->region.source);
    }
    if (o->intensity_set) {
        a->region.intensity_g_per_kwh = o->intensity;
        a->region.assumed = false;
        if (!region || !*region) {
            snprintf(a->region.code, sizeof a->region.code, "custom");
            snprintf(a->region.name, sizeof a->region.name, "given intensity");
            a->region.has_mix = false;
            a->region.year = 0;
        }
        snprintf(a->intensity_source, sizeof a->intensity_source, "%s", nm->intensity);
    }
    return 0;
}

/* The off-site water intensity: given, else the region's country's (none
 * for a custom intensity or a country the table lacks). */
static void offsite_wue(const struct wp_carbon_opts *o, struct wp_assumptions *a)
{
    a->has_offsite_wue = o->offsite_wue_set;
    a->offsite_wue_l_per_kwh = o->offsite_wue;
    if (o->offsite_wue_set)
        snprintf(a->offsite_wue_source, sizeof a->offsite_wue_source, "given");
    else
        a->has_offsite_wue =
            wp_region_offsite_wue(&a->region, &a->offsite_wue_l_per_kwh, a->offsite_wue_source,
                                  sizeof a->offsite_wue_source) == 0;
}

/* The provider's published on-site WUE, where it publishes one: water is
 * then reported, labelled with its source. */
static void provider_wue(const char *provider, const char *how, struct wp_assumptions *a)
{
    char src[200];
    double wue;

    if (wp_provider_wue(provider, &wue, src, sizeof src) != 0)
        return;
    a->wue_l_per_kwh = wue;
    a->has_wue = true;
    snprintf(a->wue_source, sizeof a->wue_source, "%s%.20s's published on-site WUE: %.200s", how,
             provider, src);
}

/* The provider's PUE (named, or implied by a cloud region). Returns 0 or a negative errno. */
static int provider_pue(const struct wp_carbon_opts *o, const struct wp_carbon_names *nm,
                        const char *provider, struct wp_assumptions *a, char *err, size_t cap)
{
    char src[200], suggest[256];

    if (wp_provider_pue(provider, &a->pue, src, sizeof src, suggest, sizeof suggest) == 0) {
        if (o->provider && o->provider_from)
            snprintf(a->pue_source, sizeof a->pue_source, "provider %.20s from %.200s: %s",
                     provider, o->provider_from, src);
        else
            snprintf(a->pue_source, sizeof a->pue_source, "%s", src);
        return 0;
    }
    if (o->provider) {
        snprintf(err, cap, "%s: unknown provider '%s'; known: %s", nm->provider, o->provider,
                 suggest);
        return -EINVAL;
    }
    a->pue = 1.0;
    a->pue_assumed = true;
    snprintf(a->pue_source, sizeof a->pue_source, "assumed 1.0: no published PUE for %s; set %s",
             provider, nm->pue);
    return 0;
}

int wp_carbon_resolve(const struct wp_carbon_opts *o, struct wp_assumptions *a, char *err,
                      size_t cap)
{
    const struct wp_carbon_names *nm = o->names ? o->names : &plain_names;
    char provider[32] = "";

    memset(a, 0, sizeof *a);
    if (resolve_region(o, nm, a, err, cap))
        return -EINVAL;
    /* PUE: given, else the provider's, else the cloud region's provider's, else 1.0. */
    if (o->provider)
        snprintf(provider, sizeof provider, "%s", o->provider);
    else if (strchr(a->region.code, ':'))
        snprintf(provider, sizeof provider, "%.*s", (int)strcspn(a->region.code, ":"),
                 a->region.code);
    if (o->pue_set) {
        a->pue = o->pue;
        if (o->pue_from)
            snprintf(a->pue_source, sizeof a->pue_source, "pue %.4g from %.200s", o->pue,
                     o->pue_from);
        else
            snprintf(a->pue_source, sizeof a->pue_source, "%s", nm->pue);
    } else if (provider[0]) {
        if (provider_pue(o, nm, provider, a, err, cap))
            return -EINVAL;
    } else {
        a->pue = 1.0;
        a->pue_assumed = true;
        snprintf(a->pue_source, sizeof a->pue_source,
                 "assumed 1.0 (no data-centre overhead); set %s or %s", nm->pue, nm->provider);
    }
    a->embodied_g = o->embodied_g;
    a->has_embodied = o->embodied_set;
    a->lifetime_years = o->lifetime_years > 0 ? o->lifetime_years : WP_EMBODIED_LIFETIME_YEARS;
    a->wue_l_per_kwh = o->wue;
    a->has_wue = o->wue_set;
    if (o->wue_set)
        snprintf(a->wue_source, sizeof a->wue_source, "given");
    else if (provider[0])
        provider_wue(provider, "", a);
    offsite_wue(o, a);
    return 0;
}

void wp_carbon_detected(struct wp_assumptions *a, const struct wp_carbon_opts *o,
                        const struct wp_cloud_info *cloud)
{
    char code[96], sug[256], src[200];
    struct wp_region r;
    double pue;

    if (cloud->cloud == WP_CLOUD_NONE)
        return;
    if (!o->pue_set && !o->provider &&
        wp_provider_pue(cloud->provider, &pue, src, sizeof src, sug, sizeof sug) == 0) {
        a->pue = pue;
        a->pue_assumed = false;
        snprintf(a->pue_source, sizeof a->pue_source, "detected %s (%.100s): %s", cloud->provider,
                 cloud->evidence, src);
    }
    if (!o->wue_set && !o->provider)
        provider_wue(cloud->provider, "detected ", a);
    if (o->region || o->intensity_set || getenv("WATTPRINT_REGION") || !cloud->region[0])
        return;
    snprintf(code, sizeof code, "%s:%s", cloud->provider, cloud->region);
    if (wp_region_find(code, &r, sug, sizeof sug) != 0) {
        snprintf(a->intensity_source, sizeof a->intensity_source,
                 "assumed: the world average (detected region %.80s is not in the table)", code);
        return;
    }
    a->region = r;
    offsite_wue(o, a);
    snprintf(a->intensity_source, sizeof a->intensity_source,
             "detected region %.80s (instance metadata); table: %.150s", code, r.source);
}

void wp_carbon_live(struct wp_assumptions *a, const struct wp_carbon_opts *o,
                    const struct wp_diag *d)
{
    const char *token = getenv("WATTPRINT_ELECTRICITYMAPS_TOKEN");
    char zone[3], when[64], err[256];
    double g;

    if (!token || !*token || o->intensity_set)
        return;
    if (a->region.assumed || !a->region.country3[0] ||
        wp_country_alpha2(a->region.country3, zone) != 0) {
        wp_diag(d, WP_HINT_NONE, "live intensity: no country zone for region '%s'; using the table",
                a->region.code);
        return;
    }
    if (wp_emaps_fetch(zone, token, 2.0, &g, when, sizeof when, err, sizeof err) != 0) {
        wp_diag(d, WP_HINT_NONE,
                "live intensity from Electricity Maps failed (%s); using the table's %.0f "
                "g/kWh",
                err, a->region.intensity_g_per_kwh);
        snprintf(a->intensity_source, sizeof a->intensity_source,
                 "table (Electricity Maps failed: %.100s): %.120s", err, a->region.source);
        return;
    }
    a->region.intensity_g_per_kwh = g;
    snprintf(a->intensity_source, sizeof a->intensity_source, "Electricity Maps live, zone %s, %s",
             zone, when[0] ? when : "latest");
}
