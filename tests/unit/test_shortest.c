/* wp_shortest_g gives the text that trying "%.*g" at 15, 16 and 17 digits
 * in turn gives (the first that strtod reads back), and wp_round_g the
 * double strtod reads from "%.*g": on random bit patterns, on quotients like
 * a CodeCarbon row's, on exact halves (where the digits dropped decide
 * nothing), powers of two and ten, and the edges of the integer path. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/shortest.h"

/* The definition: each precision in turn. */
static void by_trying(char *out, size_t cap, double v)
{
    for (int digits = 15; digits <= 17; digits++)
        if (snprintf(out, cap, "%.*g", digits, v) > 0 && (digits == 17 || strtod(out, NULL) == v))
            return;
}

static int same_as_trying(double v)
{
    char want[64], got[64];
    int digits[] = {10, 6, 15};

    for (size_t i = 0; i < sizeof digits / sizeof digits[0]; i++) {
        double r = wp_round_g(v, digits[i]);
        snprintf(want, sizeof want, "%.*g", digits[i], v);
        if (memcmp(&r, &(double){strtod(want, NULL)}, sizeof r) != 0) {
            print_error("%a to %d digits: want %s, got %.17g\n", v, digits[i], want, r);
            return 0;
        }
    }

    by_trying(want, sizeof want, v);
    wp_shortest_g(got, sizeof got, v);
    if (strcmp(want, got) != 0) {
        print_error("%a: want %s, got %s\n", v, want, got);
        return 0;
    }
    return 1;
}

/* xorshift64*: the same values each run */
static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static void random_bit_patterns(void **state)
{
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    int bad = 0;
    (void)state;

    for (int i = 0; i < 300000; i++) {
        uint64_t bits = next(&s);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v))
            bad += !same_as_trying(v);
    }
    assert_int_equal(bad, 0);
}

/* Any mantissa, at the exponents a row's numbers have (1e-17 to 1e16). */
static void random_mantissas(void **state)
{
    uint64_t s = 7;
    int bad = 0;
    (void)state;

    for (int i = 0; i < 300000; i++) {
        uint64_t r = next(&s);
        double v = ldexp((double)((r >> 11) | (1ULL << 52)), (int)(r % 113) - 110);
        bad += !same_as_trying(v);
    }
    assert_int_equal(bad, 0);
}

/* Energy over time, kilowatt-hours, rates: what a row divides. */
static void quotients(void **state)
{
    uint64_t s = 42;
    int bad = 0;
    (void)state;

    for (int i = 0; i < 300000; i++) {
        double a = (double)(next(&s) % 100000000) / 1000, b = (double)(next(&s) % 1000000 + 1) / 7;
        bad += !same_as_trying(a / b) + !same_as_trying(a / 3.6e6) + !same_as_trying(-a * b);
    }
    assert_int_equal(bad, 0);
}

/* Values whose decimal expansion is exact and short: their 17 (or 16)
 * digits can end in exactly 5 or 50, where the exact value decides. */
static void exact_halves_and_edges(void **state)
{
    static const double edges[] = {0.0,
                                   -0.0,
                                   0.1,
                                   0.5,
                                   1e-5,
                                   1e-4,
                                   9.99995e-5,
                                   1e15,
                                   1e16,
                                   1e17,
                                   1e21,
                                   1e22,
                                   1e23,
                                   DBL_MAX,
                                   DBL_MIN,
                                   4.9406564584124654e-324,
                                   2.2250738585072009e-308,
                                   1e15 + 0.5,
                                   1e15 + 0.25,
                                   9007199254740993.0,
                                   0.3,
                                   123456789012345.5,
                                   99999999999999.95,
                                   9.9999999999999995};
    int bad = 0;
    (void)state;

    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        bad += !same_as_trying(edges[i]) + !same_as_trying(-edges[i]);
    /* k / 2^m: exact expansions ending in 5, at every scale */
    for (int m = 1; m <= 60; m++)
        for (long long k = 1; k < 4000; k += 2)
            bad += !same_as_trying(ldexp((double)k, -m)) +
                   !same_as_trying(ldexp((double)k, -m) * 1e15) +
                   !same_as_trying(ldexp((double)(k + (1LL << 50)), -m));
    /* powers of two and their neighbours, and powers of ten */
    for (int e = -1074; e <= 1023; e++) {
        double p = ldexp(1.0, e);
        bad += !same_as_trying(p) + !same_as_trying(nextafter(p, 0)) +
               !same_as_trying(nextafter(p, INFINITY));
    }
    for (int e = -320; e <= 307; e++) {
        double p = pow(10, e), below = p, above = p;
        bad += !same_as_trying(p) + !same_as_trying(9.5 * p);
        for (int i = 0; i < 40; i++) { /* where log10's floor may be one off */
            below = nextafter(below, 0);
            above = nextafter(above, INFINITY);
            bad += !same_as_trying(below) + !same_as_trying(above);
        }
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_bit_patterns),
        cmocka_unit_test(random_mantissas),
        cmocka_unit_test(quotients),
        cmocka_unit_test(exact_halves_and_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
