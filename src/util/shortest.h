/* The shortest "%.*g" text of a double that reads back exactly, as
 * CodeCarbon's files (pandas) carry every number. */
#ifndef WP_SHORTEST_H
#define WP_SHORTEST_H

#include <stddef.h>

/* Writes into out (cap >= 32) the text "%.*g" gives v with the fewest of 15,
 * 16 and 17 significant digits whose strtod is v (17 always are). v is
 * finite. */
void wp_shortest_g(char *out, size_t cap, double v);

/* v rounded to digits (<= 17) significant digits as strtod reads
 * "%.*g"'s text back: a number as a document written with that precision
 * holds it. */
double wp_round_g(double v, int digits);

#endif
