/* Run documents packed for the SQLite ledger: raw deflate with a preset
 * dictionary of typical run documents, so a short run's 1.7 kB of JSON is
 * stored in about 200 bytes. A packed document is one byte naming its
 * dictionary, then the stream. A dictionary, once used, never changes: a
 * better one is added under the next number and the old one kept. */
#ifndef WP_LEDGER_PACK_H
#define WP_LEDGER_PACK_H

#include <sqlite3.h>
#include <stddef.h>

/* Packed documents larger than this once unpacked are refused (a run's
 * document is kilobytes; a damaged or hostile file must not exhaust memory). */
#define WP_PACK_MAX_TEXT (64u << 20)

/* text[0..len) packed into a malloc'd *out of *out_len bytes. Returns 0, or
 * -ENOMEM, or -EIO if zlib fails. */
int wp_ledger_pack(const char *text, size_t len, unsigned char **out, size_t *out_len);
/* The same for a run's document whose id is given: its leading
 * {"run_id":"ID" is left out (the ledger's row holds the id). */
int wp_ledger_pack_run(const char *text, size_t len, const char *id, unsigned char **out,
                       size_t *out_len);

/* A packed document back to NUL-terminated text (malloc'd, *text_len without
 * the NUL). Returns 0, or -EPROTO (an unknown dictionary, a damaged stream,
 * trailing bytes, or text over WP_PACK_MAX_TEXT) or -ENOMEM, with err. */
int wp_ledger_unpack(const unsigned char *in, size_t len, char **text, size_t *text_len, char *err,
                     size_t cap);
/* The same for a run's document, its id given: one packed without it gets
 * it back (one read without an id is -EPROTO). */
int wp_ledger_unpack_run(const unsigned char *in, size_t len, const char *id, char **text,
                         size_t *text_len, char *err, size_t cap);

/* Registers on db the SQL functions the ledger's statements use:
 * wp_doc(result, doc[, id]), the run's JSON text from whichever column holds
 * it (doc packed, else result as it is; a damaged one is an error naming id),
 * and wp_pack(text[, id]), the packed blob.
 * Returns SQLITE_OK or SQLite's error. */
int wp_ledger_pack_functions(sqlite3 *db);

#endif
