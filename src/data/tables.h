/* Lookups in the bundled data tables (the CSV files in data/, compiled in). */
#ifndef WP_TABLES_H
#define WP_TABLES_H

#include <stddef.h>

/* Reduces a /proc/cpuinfo "model name" to the words that name the part:
 * drops (R), (TM), "CPU", "Processor", "N-Core", "@ 2.50GHz". */
void wp_cpu_normalize(const char *model, char *out, size_t cap);

/* Finds the TDP of a CPU model name in the bundled table. On success returns
 * 0 and fills *tdp_w and matched (the table's name). Returns -ENOENT when no
 * row matches. A row matches when each of its words is a word of the
 * normalized name; the longest such row wins. */
int wp_cpu_tdp_lookup(const char *model, double *tdp_w, char *matched, size_t cap);

#endif
