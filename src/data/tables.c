/* Lookups in the bundled data tables (the CSV files in data/, compiled in). */
#include "tables.h"

#include "../util/util.h"
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

extern const char wp_data_cpu_tdp[];
extern const size_t wp_data_cpu_tdp_len;

#define MAX_WORDS 24

static int split_words(char *s, char **w)
{
    char *save = NULL;
    int n = 0;

    for (char *tok = strtok_r(s, " \t", &save); tok && n < MAX_WORDS;
         tok = strtok_r(NULL, " \t", &save))
        w[n++] = tok;
    return n;
}

static int is_noise(const char *w)
{
    static const char *const noise[] = {"CPU", "Processor", "@", "with", "Radeon", "Graphics"};
    size_t n = strlen(w);

    for (size_t i = 0; i < sizeof noise / sizeof *noise; i++)
        if (strcasecmp(w, noise[i]) == 0)
            return 1;
    if (n > 5 && strcasecmp(w + n - 5, "-Core") == 0)
        return 1; /* "64-Core" */
    if (n > 3 && strcasecmp(w + n - 3, "GHz") == 0)
        return 1;
    return 0;
}

void wp_cpu_normalize(const char *model, char *out, size_t cap)
{
    char buf[256], *w[MAX_WORDS];
    size_t o = 0;
    int n;

    if (cap == 0)
        return;
    snprintf(buf, sizeof buf, "%s", model);
    /* Remove trademark marks wherever they stand: "Xeon(R)" -> "Xeon". */
    for (const char *mark = NULL;;) {
        char *p = NULL;
        static const char *const marks[] = {"(R)", "(r)", "(TM)", "(tm)"};
        for (size_t i = 0; i < 4 && !p; i++)
            if ((p = strstr(buf, marks[i])))
                mark = marks[i];
        if (!p)
            break;
        memmove(p, p + strlen(mark), strlen(p + strlen(mark)) + 1);
    }
    n = split_words(buf, w);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(w[i], "@") == 0)
            break; /* the clock speed follows */
        if (is_noise(w[i]))
            continue;
        int k = snprintf(out + o, cap - o, "%s%s", o ? " " : "", w[i]);
        if (k < 0 || (size_t)k >= cap - o)
            break;
        o += (size_t)k;
    }
}

static int all_words_in(char *const *need, int nn, char *const *have, int nh)
{
    for (int i = 0; i < nn; i++) {
        int found = 0;
        for (int j = 0; j < nh && !found; j++)
            found = strcasecmp(need[i], have[j]) == 0;
        if (!found)
            return 0;
    }
    return 1;
}

int wp_cpu_tdp_lookup(const char *model, double *tdp_w, char *matched, size_t cap)
{
    struct wp_csv c;
    char norm[256], *have[MAX_WORDS];
    int nh, name_col, tdp_col, best_words = 0;
    size_t best_len = 0;

    wp_cpu_normalize(model, norm, sizeof norm);
    nh = split_words(norm, have);
    if (nh == 0)
        return -ENOENT;

    wp_csv_init(&c, wp_data_cpu_tdp, wp_data_cpu_tdp_len);
    if (wp_csv_next(&c) != 1)
        return -ENOENT;
    name_col = wp_csv_column(&c, "name");
    tdp_col = wp_csv_column(&c, "tdp_w");
    if (name_col < 0 || tdp_col < 0)
        return -ENOENT;

    for (int rc; (rc = wp_csv_next(&c)) != 0;) {
        char row[256], *need[MAX_WORDS];
        double tdp;
        int nn;
        size_t len;

        if (rc < 0 || c.nfields <= name_col || c.nfields <= tdp_col)
            continue;
        if (wp_parse_double(c.field[tdp_col], &tdp) || tdp <= 0)
            continue;
        len = strlen(c.field[name_col]);
        snprintf(row, sizeof row, "%s", c.field[name_col]);
        nn = split_words(row, need);
        if (nn == 0 || nn < best_words || (nn == best_words && len <= best_len))
            continue;
        if (!all_words_in(need, nn, have, nh))
            continue;
        /* A row must name a model number, not only the vendor and family. */
        if (!strpbrk(c.field[name_col], "0123456789"))
            continue;
        best_words = nn;
        best_len = len;
        *tdp_w = tdp;
        snprintf(matched, cap, "%s", c.field[name_col]);
    }
    return best_words ? 0 : -ENOENT;
}
