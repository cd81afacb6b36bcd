/* Packing run documents: zlib's raw deflate with the preset dictionary
 * data/ledger_dict_1.json (three run documents of this version: a measured
 * GPU with work and labels, a measured RAPL package, core and DRAM, a
 * virtual machine's estimate). A dictionary primes the window with the keys,
 * sources and details every run repeats. */
#include "pack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

extern const char wp_data_ledger_dict_1[];
extern const size_t wp_data_ledger_dict_1_len;

#define DICT_1 1 /* the first byte of a packed document: its dictionary */
/* ... with this bit: the document's leading {"run_id":"ID" was left out
 * (the row holds the id; wp_doc puts it back): 36 random characters that
 * no dictionary compresses, a tenth of a short run's packed document */
#define WITHOUT_ID 0x80
#define ID_HEAD    "{\"run_id\":\""

/* A deflate stream kept for many documents: its state is set up once, not
 * for each run written (that cost more in page faults than the compression
 * itself), and its hash table is a 6th of zlib's default (memLevel 6: what a
 * reset clears each time; documents of a few kB pack to the same bytes'
 * length, checked on a real run's). */
struct packer {
    z_stream z;
    bool ready;
};

/* How much of text is its leading {"run_id":"ID" (0: none, or not id). */
static size_t id_head(const char *text, size_t len, const char *id)
{
    size_t head = strlen(ID_HEAD), n = id ? strlen(id) : 0;

    if (!n || len < head + n + 2 || memcmp(text, ID_HEAD, head) != 0 ||
        memcmp(text + head, id, n) != 0 || text[head + n] != '"' ||
        (text[head + n + 1] != ',' && text[head + n + 1] != '}'))
        return 0;
    return head + n + 1;
}

static int pack_with(struct packer *p, const char *text, size_t len, const char *id,
                     unsigned char **out, size_t *out_len)
{
    z_stream *z = &p->z;
    size_t skip = id_head(text, len, id);
    uLong bound;
    unsigned char *buf;
    int rc;

    if (!p->ready &&
        deflateInit2(z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 6, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    p->ready = true;
    /* reset: the same bytes as a new stream's */
    if (deflateReset(z) != Z_OK || deflateSetDictionary(z, (const Bytef *)wp_data_ledger_dict_1,
                                                        (uInt)wp_data_ledger_dict_1_len) != Z_OK)
        return -EIO;
    bound = deflateBound(z, (uLong)len);
    if (!(buf = malloc(bound + 1)))
        return -ENOMEM;
    buf[0] = skip ? DICT_1 | WITHOUT_ID : DICT_1;
    z->next_in = (Bytef *)(uintptr_t)(text + skip);
    z->avail_in = (uInt)(len - skip);
    z->next_out = buf + 1;
    z->avail_out = (uInt)bound;
    rc = deflate(z, Z_FINISH);
    *out_len = 1 + z->total_out;
    if (rc != Z_STREAM_END) {
        free(buf);
        return -EIO;
    }
    *out = buf;
    return 0;
}

static void packer_free(void *arg)
{
    struct packer *p = arg;

    if (p && p->ready)
        deflateEnd(&p->z);
    free(p);
}

int wp_ledger_pack(const char *text, size_t len, unsigned char **out, size_t *out_len)
{
    return wp_ledger_pack_run(text, len, NULL, out, out_len);
}

int wp_ledger_pack_run(const char *text, size_t len, const char *id, unsigned char **out,
                       size_t *out_len)
{
    struct packer p = {.ready = false};
    int rc = pack_with(&p, text, len, id, out, out_len);

    if (p.ready)
        deflateEnd(&p.z);
    return rc;
}

/* Inflates after head (the text left out: "" or {"run_id":"ID") into a
 * buffer that grows, never past WP_PACK_MAX_TEXT. */
static int inflate_all(z_stream *z, const char *head, char **text, size_t *text_len, char *err,
                       size_t cap)
{
    size_t size = 4096, start = strlen(head), used = start;
    char *buf = start < size ? malloc(size) : NULL, *grown;
    int rc = Z_OK;

    if (buf)
        memcpy(buf, head, start);
    while (buf && rc != Z_STREAM_END) {
        if (used + 1 >= size) {
            if (size >= WP_PACK_MAX_TEXT || !(grown = realloc(buf, size * 2))) {
                free(buf);
                snprintf(err, cap,
                         size >= WP_PACK_MAX_TEXT ? "a packed run over %u bytes" : "out of memory",
                         WP_PACK_MAX_TEXT);
                return size >= WP_PACK_MAX_TEXT ? -EPROTO : -ENOMEM;
            }
            buf = grown;
            size *= 2;
        }
        z->next_out = (Bytef *)buf + used;
        z->avail_out = (uInt)(size - used - 1);
        rc = inflate(z, Z_NO_FLUSH);
        used = start + z->total_out;
        if (rc == Z_NEED_DICT)
            rc = inflateSetDictionary(z, (const Bytef *)wp_data_ledger_dict_1,
                                      (uInt)wp_data_ledger_dict_1_len);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            break;
        if (rc == Z_BUF_ERROR && z->avail_in == 0) /* the stream ends early */
            break;
    }
    if (!buf) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    if (rc != Z_STREAM_END || z->avail_in != 0) {
        free(buf);
        snprintf(err, cap, "a damaged packed run (%s)",
                 rc == Z_STREAM_END ? "bytes after its end"
                 : z->msg           ? z->msg
                                    : "cut short");
        return -EPROTO;
    }
    buf[used] = '\0';
    *text = buf;
    *text_len = used;
    return 0;
}

int wp_ledger_unpack(const unsigned char *in, size_t len, char **text, size_t *text_len, char *err,
                     size_t cap)
{
    return wp_ledger_unpack_run(in, len, NULL, text, text_len, err, cap);
}

int wp_ledger_unpack_run(const unsigned char *in, size_t len, const char *id, char **text,
                         size_t *text_len, char *err, size_t cap)
{
    z_stream z = {0};
    char head[128] = "";
    int rc;

    if (len < 2 || (in[0] & ~WITHOUT_ID) != DICT_1) {
        snprintf(err, cap, "a packed run of an unknown kind (%d): written by a newer wattprint?",
                 len ? in[0] : -1);
        return -EPROTO;
    }
    if ((in[0] & WITHOUT_ID) &&
        (!id || snprintf(head, sizeof head, ID_HEAD "%s\"", id) >= (int)sizeof head)) {
        snprintf(err, cap, "a packed run kept without its id, read without one");
        return -EPROTO;
    }
    if (len - 1 > UINT32_MAX || inflateInit2(&z, -15) != Z_OK) {
        snprintf(err, cap, "cannot unpack a run");
        return -ENOMEM;
    }
    /* raw deflate has no header to ask for the dictionary: set it first */
    if (inflateSetDictionary(&z, (const Bytef *)wp_data_ledger_dict_1,
                             (uInt)wp_data_ledger_dict_1_len) != Z_OK) {
        inflateEnd(&z);
        snprintf(err, cap, "cannot unpack a run");
        return -EIO;
    }
    z.next_in = (Bytef *)(uintptr_t)(in + 1);
    z.avail_in = (uInt)(len - 1);
    rc = inflate_all(&z, head, text, text_len, err, cap);
    inflateEnd(&z);
    return rc;
}

/* The last document wp_doc unpacked on a connection: a statement that
 * takes several members out of one run's document (columns.c) calls it once
 * for each, with the same blob. */
struct doc_cache {
    unsigned char *blob;
    size_t blob_len;
    char *id, *text;
    size_t len;
};

static void doc_cache_free(void *arg)
{
    struct doc_cache *c = arg;

    free(c->blob);
    free(c->id);
    free(c->text);
    free(c);
}

static bool doc_cache_holds(const struct doc_cache *c, const void *blob, size_t len, const char *id)
{
    return c->text && c->blob_len == len && memcmp(c->blob, blob, len) == 0 &&
           (id && c->id ? strcmp(id, c->id) == 0 : !id && !c->id);
}

/* Keeps text (taken) as the blob's; the cache is left empty when out of
 * memory. */
static void doc_cache_keep(struct doc_cache *c, const void *blob, size_t len, const char *id,
                           char *text, size_t text_len)
{
    free(c->blob);
    free(c->id);
    free(c->text);
    *c = (struct doc_cache){.blob = malloc(len ? len : 1),
                            .blob_len = len,
                            .id = id ? strdup(id) : NULL,
                            .text = text,
                            .len = text_len};
    if (!c->blob || (id && !c->id)) {
        free(c->blob);
        free(c->id);
        free(c->text);
        *c = (struct doc_cache){0};
        return;
    }
    memcpy(c->blob, blob, len);
}

static void doc_of(sqlite3_context *ctx, int argc, sqlite3_value **argv, bool quiet)
{
    struct doc_cache *c = sqlite3_user_data(ctx);
    char *text, err[256], msg[384];
    size_t len;
    int rc;

    if (sqlite3_value_type(argv[1]) != SQLITE_BLOB) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    const char *id = argc > 2 ? (const char *)sqlite3_value_text(argv[2]) : NULL;
    const void *blob = sqlite3_value_blob(argv[1]);
    size_t blob_len = (size_t)sqlite3_value_bytes(argv[1]);
    if (doc_cache_holds(c, blob, blob_len, id)) {
        sqlite3_result_text64(ctx, c->text, c->len, SQLITE_TRANSIENT, SQLITE_UTF8);
        return;
    }
    rc = wp_ledger_unpack_run(blob, blob_len, id, &text, &len, err, sizeof err);
    if (rc == -ENOMEM) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (rc && quiet) {
        sqlite3_result_null(ctx);
        return;
    }
    if (rc) {
        snprintf(msg, sizeof msg, "run %.64s: %s", id ? id : "?", err);
        sqlite3_result_error(ctx, msg, -1);
        return;
    }
    sqlite3_result_text64(ctx, text, len, SQLITE_TRANSIENT, SQLITE_UTF8);
    doc_cache_keep(c, blob, blob_len, id, text, len);
}

/* wp_doc(result, doc[, id]): the JSON text; an error names the run and what
 * is damaged. */
static void sql_doc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    doc_of(ctx, argc, argv, false);
}

/* wp_doc_or_null(result, doc, id): the same, NULL for a damaged one (a
 * migration's fill leaves that run's columns NULL: its readers name it). */
static void sql_doc_or_null(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    doc_of(ctx, argc, argv, true);
}

/* wp_pack(text[, id]): the packed blob (NULL stays NULL); with the run's
 * id, its leading {"run_id":"ID" left out. */
static void sql_pack(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    unsigned char *blob;
    size_t len;
    const char *text = (const char *)sqlite3_value_text(argv[0]),
               *id = argc > 1 ? (const char *)sqlite3_value_text(argv[1]) : NULL;
    int rc;

    if (!text) {
        sqlite3_result_null(ctx);
        return;
    }
    /* the connection's packer: SQLite calls a function of one connection
     * from one thread at a time */
    rc = pack_with(sqlite3_user_data(ctx), text, (size_t)sqlite3_value_bytes(argv[0]), id, &blob,
                   &len);
    if (rc == -ENOMEM) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (rc) {
        sqlite3_result_error(ctx, "cannot pack a run", -1);
        return;
    }
    sqlite3_result_blob64(ctx, blob, len, free);
}

int wp_ledger_pack_functions(sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    struct doc_cache *c = calloc(1, sizeof *c);
    struct packer *p;
    int rc;

    if (!c)
        return SQLITE_NOMEM;
    /* the cache is freed with the connection (or here, if registering fails)
     * by the two-argument form: both share it */
    rc = sqlite3_create_function_v2(db, "wp_doc", 2, flags, c, sql_doc, NULL, NULL, doc_cache_free);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "wp_doc", 3, flags, c, sql_doc, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "wp_doc_or_null", 3, flags, c, sql_doc_or_null, NULL,
                                        NULL, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (!(p = calloc(1, sizeof *p)))
        return SQLITE_NOMEM;
    /* freed with the connection (or here, if registering fails), by the
     * one-argument form: both share it */
    rc = sqlite3_create_function_v2(db, "wp_pack", 1, flags, p, sql_pack, NULL, NULL, packer_free);
    return rc == SQLITE_OK
               ? sqlite3_create_function_v2(db, "wp_pack", 2, flags, p, sql_pack, NULL, NULL, NULL)
               : rc;
}
