/* Packed run documents: a round trip gives the text back byte for byte and
 * small; what is not a whole packed document of a known dictionary is
 * refused with words, and nothing unpacks past the size bound. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/pack.h"

static const char doc[] =
    "{\"run_id\":\"01a23af1-5157-7378-b6f2-2fc5a6b15171\",\"status\":\"completed\",\"exit_code\":0,"
    "\"signal\":null,\"start\":\"2026-12-03T08:07:03Z\",\"end\":\"2026-12-03T08:07:04Z\","
    "\"duration_s\":1.004,\"interval_s\":1.0,\"energy\":{\"total_j\":1.92,\"cpu_j\":1.6,"
    "\"dram_j\":0.32,\"gpu_j\":0.0,\"psys_j\":null},\"method\":\"estimated\",\"channels\":[]}";

static void round_trip(void **state)
{
    unsigned char *packed;
    size_t n, len;
    char *text, err[256];
    (void)state;

    assert_int_equal(wp_ledger_pack(doc, strlen(doc), &packed, &n), 0);
    assert_int_equal(packed[0], 1);
    assert_true(n < strlen(doc) / 2); /* the dictionary knows the keys */
    assert_int_equal(wp_ledger_unpack(packed, n, &text, &len, err, sizeof err), 0);
    assert_int_equal(len, strlen(doc));
    assert_string_equal(text, doc);
    free(text);
    free(packed);
}

/* A run's document packed with its id leaves the id out and gets it back
 * from the id given; one whose first member is not that id is packed whole. */
static void the_id_is_left_to_the_row(void **state)
{
    const char *id = "01a23af1-5157-7378-b6f2-2fc5a6b15171";
    unsigned char *packed, *whole;
    size_t n, n_whole, len;
    char *text = NULL, err[256];
    (void)state;

    assert_int_equal(wp_ledger_pack_run(doc, strlen(doc), id, &packed, &n), 0);
    assert_int_equal(packed[0], 0x81);
    assert_int_equal(wp_ledger_pack(doc, strlen(doc), &whole, &n_whole), 0);
    assert_true(n + 16 < n_whole); /* 36 random characters no dictionary compresses */
    assert_int_equal(wp_ledger_unpack_run(packed, n, id, &text, &len, err, sizeof err), 0);
    assert_int_equal(len, strlen(doc));
    assert_string_equal(text, doc);
    free(text);
    text = NULL;
    assert_int_equal(wp_ledger_unpack(packed, n, &text, &len, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "without its id"));
    assert_null(text);
    free(packed);
    /* another id, or one that only begins the same: the document packed whole */
    assert_int_equal(wp_ledger_pack_run(doc, strlen(doc), "01a23af1", &packed, &n), 0);
    assert_int_equal(packed[0], 1);
    assert_int_equal(n, n_whole);
    free(packed);
    free(whole);
}

static void damage_is_refused(void **state)
{
    unsigned char *packed, *bad;
    size_t n, len;
    char *text = NULL, err[256];
    (void)state;

    assert_int_equal(wp_ledger_pack(doc, strlen(doc), &packed, &n), 0);
    bad = malloc(n + 1);
    memcpy(bad, packed, n);
    bad[0] = 2; /* a dictionary this version does not know */
    assert_int_equal(wp_ledger_unpack(bad, n, &text, &len, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "unknown kind"));
    bad[0] = 1; /* cut short */
    assert_int_equal(wp_ledger_unpack(bad, n / 2, &text, &len, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "damaged"));
    bad[n] = 'x'; /* a byte after the stream's end */
    assert_int_equal(wp_ledger_unpack(bad, n + 1, &text, &len, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "after its end"));
    assert_int_equal(wp_ledger_unpack(bad, 1, &text, &len, err, sizeof err), -EPROTO);
    assert_null(text);
    free(bad);
    free(packed);
}

static void nothing_unpacks_past_the_bound(void **state)
{
    size_t big = WP_PACK_MAX_TEXT + 1, n, len;
    char *text = malloc(big), *out = NULL, err[256];
    unsigned char *packed;
    (void)state;

    memset(text, ' ', big); /* packs to a few tens of kB */
    assert_int_equal(wp_ledger_pack(text, big, &packed, &n), 0);
    assert_true(n < big / 100);
    assert_int_equal(wp_ledger_unpack(packed, n, &out, &len, err, sizeof err), -EPROTO);
    assert_null(out);
    free(packed);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(the_id_is_left_to_the_row),
        cmocka_unit_test(damage_is_refused),
        cmocka_unit_test(nothing_unpacks_past_the_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
