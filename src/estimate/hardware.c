/* The hardware table for estimates: names as papers and model cards write
 * them resolve by family and variant, not by edit distance. */
#include "hardware.h"

#include "../data/csv.h"
#include "../data/tables.h"
#include "../util/util.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

extern const char wp_data_accelerators[];
extern const size_t wp_data_accelerators_len;

/* "A100 80GB", "a100-80gb" and "A100_80GB" are one name: upper case without
 * separators. */
static void squash(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in && o + 1 < cap; in++)
        if (*in != ' ' && *in != '-' && *in != '_')
            out[o++] = (char)toupper((unsigned char)*in);
    out[o] = '\0';
}

static void fill(const struct wp_csv *h, const struct wp_csv *r, struct wp_hardware *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", wp_csv_get(h, r, "name"));
    snprintf(o->family, sizeof o->family, "%s", wp_csv_get(h, r, "family"));
    snprintf(o->vendor, sizeof o->vendor, "%s", wp_csv_get(h, r, "vendor"));
    snprintf(o->generation, sizeof o->generation, "%s", wp_csv_get(h, r, "generation"));
    snprintf(o->calibrate_as, sizeof o->calibrate_as, "%s", wp_csv_get(h, r, "calibrate_as"));
    snprintf(o->power_kind, sizeof o->power_kind, "%s", wp_csv_get(h, r, "power_kind"));
    snprintf(o->source, sizeof o->source, "%s", wp_csv_get(h, r, "source"));
    o->tdp_w = wp_csv_positive(h, r, "tdp_w", 0);
    o->peak_flops = wp_csv_positive(h, r, "peak_bf16_or_fp16_dense_tflops", 0) * 1e12;
    o->peak_fp8_flops = wp_csv_positive(h, r, "peak_fp8_dense_tflops", 0) * 1e12;
    o->peak_fp4_flops = wp_csv_positive(h, r, "peak_fp4_dense_tflops", 0) * 1e12;
    o->peak_int8_ops = wp_csv_positive(h, r, "peak_int8_dense_tops", 0) * 1e12;
    o->peak_fp32_flops = wp_csv_positive(h, r, "peak_fp32_tflops", 0) * 1e12;
    o->memory_bytes = wp_csv_positive(h, r, "memory_gb", 0) * 1e9;
    o->memory_bw_bytes_s = wp_csv_positive(h, r, "memory_bw_gbs", 0) * 1e9;
}

/* Does the squashed name q name this row: its name or one of its aliases? */
static bool names_row(const struct wp_csv *h, const struct wp_csv *r, const char *q)
{
    char s[64], list[512];
    char *save = NULL;

    squash(wp_csv_get(h, r, "name"), s, sizeof s);
    if (strcmp(s, q) == 0)
        return true;
    snprintf(list, sizeof list, "%s", wp_csv_get(h, r, "aliases"));
    for (char *a = strtok_r(list, "|", &save); a; a = strtok_r(NULL, "|", &save)) {
        squash(a, s, sizeof s);
        if (strcmp(s, q) == 0)
            return true;
    }
    return false;
}

static int find_accelerator(const char *name, struct wp_hardware *out)
{
    struct wp_csv h, r;
    char q[64];

    squash(name, q, sizeof q);
    wp_csv_init(&h, wp_data_accelerators, wp_data_accelerators_len);
    if (!*q || wp_csv_next(&h) != 1)
        return -ENOENT;
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1)
        if (names_row(&h, &r, q)) {
            fill(&h, &r, out);
            return 0;
        }
    return -ENOENT;
}

static void append(char *out, size_t cap, const char *name)
{
    size_t n = strlen(out);
    if (strstr(out, name))
        return;
    snprintf(out + n, cap - n, "%s%s", n ? ", " : "", name);
}

/* Keeps the three nearest distinct families, nearest first. */
static void insert_best(char best[3][32], int dist[3], const char *family, int d)
{
    int i;
    for (i = 0; i < 3; i++)
        if (strcmp(best[i], family) == 0)
            return;
    for (i = 0; i < 3 && dist[i] <= d; i++)
        ;
    if (i == 3)
        return;
    for (int k = 2; k > i; k--) {
        dist[k] = dist[k - 1];
        memcpy(best[k], best[k - 1], sizeof best[k]);
    }
    dist[i] = d;
    snprintf(best[i], sizeof best[i], "%s", family);
}

/* A miss: the variants of the family the name begins with ("H100-96GB" ->
 * the H100s), else the three nearest family names. */
static void suggest(const char *name, char *out, size_t cap)
{
    struct wp_csv h, r;
    char q[64], best[3][32] = {"", "", ""};
    int dist[3] = {99, 99, 99};
    size_t best_len = 0;

    squash(name, q, sizeof q);
    out[0] = '\0';
    wp_csv_init(&h, wp_data_accelerators, wp_data_accelerators_len);
    wp_csv_next(&h);
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) { /* the longest family that prefixes the name */
        char f[32];
        squash(wp_csv_get(&h, &r, "family"), f, sizeof f);
        if (strncmp(q, f, strlen(f)) == 0 && strlen(f) > best_len)
            best_len = strlen(f);
    }
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) {
        char f[32];
        int d;
        squash(wp_csv_get(&h, &r, "family"), f, sizeof f);
        if (best_len) {
            if (strlen(f) == best_len && strncmp(q, f, best_len) == 0)
                append(out, cap, wp_csv_get(&h, &r, "name"));
            continue;
        }
        d = wp_edit_distance(q, f);
        insert_best(best, dist, wp_csv_get(&h, &r, "family"), d);
    }
    for (int i = 0; !best_len && i < 3; i++)
        if (best[i][0])
            append(out, cap, best[i]);
}

/* Words publications put around a device's name that name no device. */
static bool noise_word(const char *w)
{
    static const char *const words[] = {
        "nvidia", "amd",  "google", "intel", "tesla", "instinct", "cloud", "habana",
        "hbm",    "hbm2", "hbm2e",  "hbm3",  "hbm3e", "gpu",      "gpus",  "accelerator"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcasecmp(w, words[i]) == 0)
            return true;
    return false;
}

/* "8x" or "8" before "x": a count of devices. Returns it, or 0. */
static double count_word(const char *w, const char *next)
{
    const char *end = w;
    double n = 0;

    while (isdigit((unsigned char)*end) && n < 1e6)
        n = n * 10 + (*end++ - '0');
    if (end == w || !(n >= 1) || n >= 1e6)
        return 0;
    if ((*end == 'x' || *end == 'X') && end[1] == '\0')
        return n;
    return *end == '\0' && next && strcasecmp(next, "x") == 0 ? n : 0;
}

double wp_hardware_normalise(const char *name, char *out, size_t cap)
{
    char buf[128], *words[16], *save = NULL;
    double per = 1;
    size_t o = 0;
    int n = 0;

    snprintf(buf, sizeof buf, "%s", name);
    for (char *w = strtok_r(buf, " -_/", &save); w && n < 16; w = strtok_r(NULL, " -_/", &save))
        words[n++] = w;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t len = strlen(words[i]);
        double k = count_word(words[i], i + 1 < n ? words[i + 1] : NULL);
        if (k > 0) { /* "8x H100", "8 x H100" */
            per *= k;
            i += strcasecmp(words[i] + len - 1, "x") != 0; /* skip a separate "x" */
            continue;
        }
        if (strcasecmp(words[i], "dgx") == 0 || strcasecmp(words[i], "hgx") == 0) {
            per *= 8; /* NVIDIA's DGX and HGX systems hold 8 GPUs */
            continue;
        }
        if (noise_word(words[i]))
            continue;
        if (o + len + 4 >= cap)
            break;
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "-" : "", words[i]);
        if (len >= 2 && isdigit((unsigned char)words[i][len - 2]) &&
            (words[i][len - 1] == 'G' || words[i][len - 1] == 'g'))
            o += (size_t)snprintf(out + o, cap - o, "B"); /* "80G" is 80 GB */
    }
    return per;
}

int wp_hardware_find(const char *name, struct wp_hardware *out, char *sug, size_t cap)
{
    char matched[128], norm[128];
    double tdp, per;

    if (find_accelerator(name, out) == 0) {
        out->per_unit = 1;
        return 0;
    }
    per = wp_hardware_normalise(name, norm, sizeof norm);
    if (norm[0] && find_accelerator(norm, out) == 0) {
        out->per_unit = per;
        if (per > 1)
            snprintf(out->unit, sizeof out->unit, "%s", name);
        return 0;
    }
    if (wp_cpu_tdp_lookup(name, &tdp, matched, sizeof matched) == 0) {
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", matched);
        snprintf(out->vendor, sizeof out->vendor, "cpu");
        snprintf(out->power_kind, sizeof out->power_kind, "TDP");
        snprintf(out->source, sizeof out->source,
                 "CPU vendor specifications (CodeCarbon's compilation)");
        out->tdp_w = tdp;
        out->per_unit = 1;
        return 0;
    }
    if (sug && cap)
        suggest(name, sug, cap);
    return -ENOENT;
}

void wp_hardware_each(void (*fn)(const struct wp_hardware *hw, void *arg), void *arg)
{
    struct wp_csv h, r;

    wp_csv_init(&h, wp_data_accelerators, wp_data_accelerators_len);
    if (wp_csv_next(&h) != 1)
        return;
    wp_csv_init(&r, h.p, (size_t)(h.end - h.p));
    while (wp_csv_next(&r) == 1) {
        struct wp_hardware hw;
        fill(&h, &r, &hw);
        fn(&hw, arg);
    }
}

static void print_row(const struct wp_hardware *hw, void *arg)
{
    FILE *f = arg;
    fprintf(f, "%-15s %-7s %6.0f %-22s %7.4g %7.4g %6.0f %6.0f\n", hw->name, hw->vendor, hw->tdp_w,
            hw->power_kind, hw->peak_flops / 1e12, hw->peak_fp8_flops / 1e12,
            hw->memory_bytes / 1e9, hw->memory_bw_bytes_s / 1e9);
}

void wp_hardware_print(FILE *f)
{
    fprintf(f, "%-15s %-7s %6s %-22s %7s %7s %6s %6s\n", "name", "vendor", "W", "power figure",
            "BF16 TF", "FP8 TF", "GB", "GB/s");
    wp_hardware_each(print_row, f);
    fprintf(f, "\nNames as papers write them resolve too: A100-80GB, H100-PCIe, TPUv5p, RTX 4090;\n"
               "a family names its common variant (H100 -> H100-SXM5-80GB). Peaks are dense\n"
               "(no sparsity). CPU models from the TDP table are accepted too (TDP only).\n"
               "Sources: data/accelerators.csv; method: docs/methodology.md.\n");
}
