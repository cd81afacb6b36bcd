/* A small RFC 4180 reader over an in-memory buffer (bundled data tables). */
#ifndef WP_CSV_H
#define WP_CSV_H

#include <stdbool.h>
#include <stddef.h>

#define WP_CSV_MAX_FIELDS 64
#define WP_CSV_MAX_LINE   4096

struct wp_csv {
    const char *p, *end;
    char scratch[WP_CSV_MAX_LINE];
    char *field[WP_CSV_MAX_FIELDS];
    int nfields;
};

/* Starts reading buf[0..len). */
void wp_csv_init(struct wp_csv *c, const char *buf, size_t len);

/* Reads the next record into c->field[0..c->nfields). Fields point into
 * c->scratch and live until the next call. Returns 1 for a record, 0 at the
 * end, -EINVAL for a malformed record (which is skipped). */
int wp_csv_next(struct wp_csv *c);

/* Index of the header field called name in the current record, or -1. */
int wp_csv_column(const struct wp_csv *c, const char *name);

/* The field of row under the header hdr's column called name; "" where the
 * column or the field is missing. */
const char *wp_csv_get(const struct wp_csv *hdr, const struct wp_csv *row, const char *name);

/* That field as a positive finite number; dflt where it is empty, not a
 * number, or not positive. */
double wp_csv_positive(const struct wp_csv *hdr, const struct wp_csv *row, const char *name,
                       double dflt);

/* Whether a cell written for a spreadsheet must be guarded against being
 * evaluated as a formula (OWASP, CSV injection): it begins with = + - @, a
 * tab or a carriage return and is not simply a number ("-3.5" stays as it
 * is). A guarded cell is written quoted, with a ' before its text. */
bool wp_csv_formula_risk(const char *cell);

#endif
