/* The hardware table for estimates. */
#include "hardware.h"

#include "../data/csv.h"
#include "../data/tables.h"
#include "../util/util.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

extern const char wp_data_accelerators[], wp_data_mfu[];
extern const size_t wp_data_accelerators_len, wp_data_mfu_len;

static const struct {
    const char *family, *variant;
} families[] = {
    {"P100", "P100-SXM2"},      {"V100", "V100-SXM2"},      {"A100", "A100-SXM4-80GB"},
    {"H100", "H100-SXM5-80GB"}, {"H200", "H200-SXM-141GB"}, {"B200", "B200-HGX"},
    {"TPU v2", "TPUv2"},        {"TPU v3", "TPUv3"},        {"TPU v4", "TPUv4"},
    {"TPU v5e", "TPUv5e"},
};

static const char *col(const struct wp_csv *h, const struct wp_csv *r, const char *name)
{
    int i = wp_csv_column(h, name);
    return (i >= 0 && i < r->nfields) ? r->field[i] : "";
}

/* The generation's MFU: the name up to its first '-' ("H100-SXM5" -> H100). */
static void find_mfu(struct wp_hardware *hw)
{
    struct wp_csv h, r;
    char family[32];

    snprintf(family, sizeof family, "%.*s", (int)strcspn(hw->name, "-"), hw->name);
    wp_csv_init(&h, wp_data_mfu, wp_data_mfu_len);
    wp_csv_next(&h);
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) {
        const char *f = col(&h, &r, "family");
        if (strcasecmp(f, family) == 0 || strcmp(f, "default") == 0) {
            wp_parse_double(col(&h, &r, "mfu"), &hw->mfu);
            snprintf(hw->mfu_source, sizeof hw->mfu_source, "%s", col(&h, &r, "source"));
            if (strcasecmp(f, family) == 0)
                return;
        }
    }
}

static int find_accelerator(const char *name, struct wp_hardware *out)
{
    struct wp_csv h, r;

    wp_csv_init(&h, wp_data_accelerators, wp_data_accelerators_len);
    if (wp_csv_next(&h) != 1)
        return -ENOENT;
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) {
        double tflops = 0;
        if (strcasecmp(col(&h, &r, "name"), name) != 0)
            continue;
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", col(&h, &r, "name"));
        snprintf(out->vendor, sizeof out->vendor, "%s", col(&h, &r, "vendor"));
        snprintf(out->source, sizeof out->source, "%s", col(&h, &r, "source"));
        if (wp_parse_double(col(&h, &r, "tdp_w"), &out->tdp_w))
            out->tdp_w = 0;
        if (wp_parse_double(col(&h, &r, "peak_bf16_or_fp16_dense_tflops"), &tflops) == 0)
            out->peak_flops = tflops * 1e12;
        find_mfu(out);
        return 0;
    }
    return -ENOENT;
}

static void suggest(const char *name, char *out, size_t cap)
{
    struct wp_csv h, r;
    char best[3][64] = {"", "", ""};
    int dist[3] = {99, 99, 99};

    wp_csv_init(&h, wp_data_accelerators, wp_data_accelerators_len);
    wp_csv_next(&h);
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) {
        const char *cand = col(&h, &r, "name");
        char family[32];
        int d = wp_edit_distance(name, cand), df;
        /* a family name ("H100") is as good a match as the full one */
        snprintf(family, sizeof family, "%.*s", (int)strcspn(cand, "-"), cand);
        df = wp_edit_distance(name, family);
        d = df < d ? df : d;
        for (int i = 0; i < 3; i++)
            if (d < dist[i]) {
                for (int k = 2; k > i; k--) {
                    dist[k] = dist[k - 1];
                    memcpy(best[k], best[k - 1], sizeof best[k]);
                }
                dist[i] = d;
                snprintf(best[i], sizeof best[i], "%s", cand);
                break;
            }
    }
    snprintf(out, cap, "%s, %s, %s", best[0], best[1], best[2]);
}

int wp_hardware_find(const char *name, struct wp_hardware *out, char *sug, size_t cap)
{
    char matched[128];
    double tdp;

    if (find_accelerator(name, out) == 0)
        return 0;
    for (size_t i = 0; i < sizeof families / sizeof *families; i++) {
        char squashed[64];
        size_t o = 0;
        /* "TPU v3", "tpuv3" and "TPUv3" are one family */
        for (const char *p = families[i].family; *p && o < sizeof squashed - 1; p++)
            if (*p != ' ')
                squashed[o++] = *p;
        squashed[o] = '\0';
        if (strcasecmp(name, families[i].family) == 0 || strcasecmp(name, squashed) == 0)
            return find_accelerator(families[i].variant, out);
    }
    if (wp_cpu_tdp_lookup(name, &tdp, matched, sizeof matched) == 0) {
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", matched);
        snprintf(out->vendor, sizeof out->vendor, "cpu");
        snprintf(out->source, sizeof out->source,
                 "CPU vendor specifications (CodeCarbon's "
                 "compilation)");
        out->tdp_w = tdp;
        return 0;
    }
    if (sug && cap)
        suggest(name, sug, cap);
    return -ENOENT;
}

void wp_hardware_print(FILE *f)
{
    struct wp_csv h, r;

    fprintf(f, "%-18s %-7s %8s %14s %6s  %s\n", "name", "vendor", "TDP W", "peak TFLOP/s", "MFU",
            "source");
    wp_csv_init(&h, wp_data_accelerators, wp_data_accelerators_len);
    wp_csv_next(&h);
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) {
        struct wp_hardware hw;
        if (find_accelerator(col(&h, &r, "name"), &hw) != 0)
            continue;
        fprintf(f, "%-18s %-7s %8s %14s %6.3g  %s\n", hw.name, hw.vendor, col(&h, &r, "tdp_w"),
                col(&h, &r, "peak_bf16_or_fp16_dense_tflops"), hw.mfu, hw.source);
    }
    fprintf(f, "\nFamilies name their common variant: V100, A100, H100, H200, B200, TPUv3 ...\n"
               "CPU models from the TDP table are accepted too (TDP only: give --hours).\n"
               "Peak is dense BF16/FP16; MFU is the published utilisation of the generation\n"
               "(docs/methodology.md), used when --mfu is not given.\n");
}
