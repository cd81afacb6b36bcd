/* The bundled tables: CSV reading, CPU name normalisation and TDP lookup. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "data/csv.h"
#include "data/tables.h"

static void csv_quotes_and_fields(void **state)
{
    const char *text = "a,b,c\n\"x, y\",\"he said \"\"hi\"\"\",3\r\nlast,,\n";
    struct wp_csv c;
    (void)state;
    wp_csv_init(&c, text, strlen(text));
    assert_int_equal(wp_csv_next(&c), 1);
    assert_int_equal(wp_csv_column(&c, "c"), 2);
    assert_int_equal(wp_csv_column(&c, "d"), -1);
    assert_int_equal(wp_csv_next(&c), 1);
    assert_int_equal(c.nfields, 3);
    assert_string_equal(c.field[0], "x, y");
    assert_string_equal(c.field[1], "he said \"hi\"");
    assert_string_equal(c.field[2], "3");
    assert_int_equal(wp_csv_next(&c), 1);
    assert_string_equal(c.field[0], "last");
    assert_string_equal(c.field[2], "");
    assert_int_equal(wp_csv_next(&c), 0);
}

static void csv_unterminated_quote(void **state)
{
    const char *text = "\"never closed,1\n";
    struct wp_csv c;
    (void)state;
    wp_csv_init(&c, text, strlen(text));
    assert_int_equal(wp_csv_next(&c), -EINVAL);
}

static void normalize(void **state)
{
    char out[128];
    (void)state;
    wp_cpu_normalize("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", out, sizeof out);
    assert_string_equal(out, "Intel Xeon Gold 6248");
    wp_cpu_normalize("AMD EPYC 7763 64-Core Processor", out, sizeof out);
    assert_string_equal(out, "AMD EPYC 7763");
    wp_cpu_normalize("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", out, sizeof out);
    assert_string_equal(out, "Intel Core i7-8700K");
}

static void tdp_lookup(void **state)
{
    double tdp = 0;
    char name[128];
    (void)state;
    assert_int_equal(
        wp_cpu_tdp_lookup("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", &tdp, name, sizeof name), 0);
    assert_float_equal(tdp, 150, 0);
    assert_string_equal(name, "Intel Xeon Gold 6248");
    /* the K part, not the plain one */
    assert_int_equal(
        wp_cpu_tdp_lookup("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", &tdp, name, sizeof name), 0);
    assert_float_equal(tdp, 95, 0);
    assert_int_equal(wp_cpu_tdp_lookup("AMD EPYC", &tdp, name, sizeof name), -ENOENT);
    assert_int_equal(wp_cpu_tdp_lookup("", &tdp, name, sizeof name), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_quotes_and_fields),
        cmocka_unit_test(csv_unterminated_quote),
        cmocka_unit_test(normalize),
        cmocka_unit_test(tdp_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
