/* Small helpers shared by every module: parsing, files, time, messages. */
#ifndef WP_UTIL_H
#define WP_UTIL_H

#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <stddef.h>
#include <stdint.h>

/* Parses a sysfs-style unsigned decimal ("123\n"): optional surrounding
 * whitespace, no sign, no overflow. Returns 0, or -EINVAL. */
int wp_parse_u64(const char *text, size_t len, uint64_t *out);

/* Parses a whole string as a finite double. Returns 0, or -EINVAL. */
int wp_parse_double(const char *s, double *out);

/* Reads an open file from offset 0 into buf (NUL-terminated, at most cap-1
 * bytes). Returns the length, or a negative errno. */
long wp_pread_text(int fd, char *buf, size_t cap);

/* Reads a small text file at root/rel into buf. Returns length or -errno. */
long wp_read_text(const char *root, const char *rel, char *buf, size_t cap);

/* Joins root and rel into out; returns 0 or -ENAMETOOLONG. */
int wp_path(char *out, size_t cap, const char *root, const char *rel);

/* Root of the sysfs and procfs trees: $WATTPRINT_SYSFS / $WATTPRINT_PROCFS,
 * else /sys and /proc. The strings are static or from the environment. */
const char *wp_sysfs_root(void);
const char *wp_procfs_root(void);

/* Starts a thread with every signal blocked in it: signals belong to the
 * main thread, which forwards them to the measured command. Returns 0 or an
 * errno value (pthread_create's). */
int wp_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* The C locale, made once; uselocale(wp_c_locale()) puts a thread in it. */
locale_t wp_c_locale(void);

/* Advances t by s seconds (the next deadline of a periodic thread). */
void wp_timespec_add(struct timespec *t, double s);

/* Seconds on the monotonic clock. */
double wp_mono_s(void);

/* Formats a wall-clock time (seconds since the epoch) as ISO 8601 UTC,
 * "2026-11-22T10:00:00Z", into out (at least 21 bytes). */
void wp_iso8601(double epoch_s, char *out, size_t cap);

/* Wall-clock seconds since the epoch. */
double wp_wall_s(void);

/* Writes a UUIDv7 (time-ordered) string, 36 chars + NUL, into out. */
void wp_uuid7(char out[37]);

/* Formats an energy in joules for people: "133 µJ", "12 mJ", "512 J",
 * "3.41 kJ", "1.23 Wh", "4.56 kWh", "7.8 MWh". */
void wp_fmt_energy(double joules, char *out, size_t cap);

/* Levenshtein distance between two strings of at most 64 characters,
 * ignoring case (99 for longer ones): for "did you mean" suggestions. */
int wp_edit_distance(const char *a, const char *b);

/* Formats a mass of CO2e in grams for people: "17.6 ng", "3 µg", "12 mg",
 * "3.4 g", "1.2 kg", "5.6 t". */
void wp_fmt_mass(double grams, char *out, size_t cap);

/* Formats a volume of water in litres for people: "35 nL", "3.5 µL",
 * "12 mL", "3.4 L", "1.2 m³". */
void wp_fmt_volume(double litres, char *out, size_t cap);

/* Formats a duration for people: "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min",
 * "3 d 04 h". */
void wp_fmt_duration(double seconds, char *out, size_t cap);

/* Formats a count for people: "950", "12,000", "4.2 million", "300 billion";
 * a fraction keeps four significant digits ("0.5", "12.25"). */
void wp_fmt_count(double n, char *out, size_t cap);

/* Copies in to out (NUL-terminated, truncated to cap) as valid UTF-8: each
 * byte that is not part of a valid sequence becomes the four characters
 * "\xNN". Returns the number of bytes so escaped. */
size_t wp_utf8_clean(const char *in, char *out, size_t cap);

/* Copies in to out with control characters (C0, DEL, C1) written "\xNN", so
 * that text from a file cannot drive the terminal it is printed on. */
void wp_term_safe(const char *in, char *out, size_t cap);

/* The singular of a unit of work, for "per ...": "tokens" -> "token",
 * "queries" -> "query", "batches" -> "batch"; other names unchanged. */
void wp_unit_singular(const char *unit, char *out, size_t cap);

/* Energy added to a counter that went from prev to cur, where it wraps modulo
 * range (0: a 64-bit counter that never wraps). A counter that went backwards
 * without a range was reset: 0 is returned and the caller rebases. */
uint64_t wp_counter_delta(uint64_t prev, uint64_t cur, uint64_t range);

/* Makes the directories above file (not file itself) with mode, those that
 * exist left as they are. Returns 0, or a negative errno. */
int wp_mkdir_parents(const char *file, unsigned mode);

/* "2026-12-01T12:00", "...T12:00:00", "...12:00:00.000Z", "... 12:00:00" (a
 * space for the T) as seconds since the epoch, read as UTC. Returns 0 or a negative errno. */
int wp_parse_utc(const char *text, double *out);

/* "90m", "8h", "2d", "30s" or plain seconds as seconds. Returns 0 or a negative errno. */
int wp_parse_span(const char *text, double *out);

#endif
