/* Decimal texts of doubles as "%.*g" and strtod make them (shortest.h),
 * without their multiple-precision arithmetic where 128 bits suffice.
 *
 * A finite v is m × 2^e exactly (m < 2^53). Its first 17 digits are
 * m × 10^k / 2^-e, k = 16 - (v's decimal exponent), and with 10^k =
 * 5^k × 2^k that is m × 5^k shifted, the bits shifted out kept: exact
 * while m × 5^k fits 128 bits (k <= 31: down to about 1e-15), and every
 * rounding to fewer digits follows from it. Whether a decimal reads back as
 * v is the same kind of comparison. A tie (the digits dropped exactly a
 * half), a power of two (whose lower neighbour is nearer), a subnormal and
 * a value out of that range go to snprintf and strtod: the same results,
 * by the definition. A CodeCarbon row prints a dozen such numbers; the C
 * library's conversions were a third of its export. */
#include "shortest.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;
#define HAVE_U128 1
#else /* a 32-bit target: the C library's conversion for every number */
typedef unsigned long long u128;
#define HAVE_U128 0
#endif

/* A decimal of n significant digits: q × 10^(x - n + 1), with
 * 10^(n-1) <= q < 10^n. */
struct dec {
    bool neg;
    int n, x;
    uint64_t q;
};

/* v = m × 2^e, m with its top bit (2^52) set; x about v's decimal
 * exponent (log10's floor, which may be one off). */
struct bin {
    bool neg;
    uint64_t m;
    int e, x;
};

/* v's first 17 digits exactly: q (truncated, 10^16 <= q < 10^17) and the
 * part dropped, r / 2^s of a unit of q's last digit. */
struct exact {
    bool neg;
    uint64_t q;
    int x, s;
    u128 r;
};

/* 10^n, n <= 19. */
static uint64_t p10(int n)
{
    uint64_t p = 1;

    while (n-- > 0)
        p *= 10;
    return p;
}

/* 5^k (k <= 31, below 2^73), by squaring. */
static u128 pow5(int k)
{
    u128 r = 1, b = 5;

    for (; k > 0; k >>= 1, b *= b)
        if (k & 1)
            r *= b;
    return r;
}

/* v's m and e where the integer path can take it: normal, not a power of
 * two, and between about 1e-15 and 2^53. */
static bool bin_of(double v, struct bin *b)
{
    double a = fabs(v);
    int ex;

    if (!HAVE_U128 || !(a >= DBL_MIN && a < 9007199254740992.0))
        return false;
    b->neg = v < 0;
    b->m = (uint64_t)ldexp(frexp(a, &ex), 53);
    b->e = ex - 53;
    b->x = (int)floor(log10(a));
    return b->m != (1ULL << 52) && b->e > -160;
}

/* b's first 17 digits, exactly (m × 5^k shifted: k = 16 - x); false where
 * 128 bits cannot hold them. */
static bool exact_of(const struct bin *b, struct exact *t)
{
    int x = b->x;

    for (int tries = 0; tries < 3; tries++) {
        int k = 16 - x, s = -b->e - k;
        if (k < 0 || k > 31 || s <= 0 || s >= 128)
            return false;
        u128 p = b->m * pow5(k);
        uint64_t q = (uint64_t)(p >> s);
        if (q >= p10(17) || q < p10(16)) { /* log10 put the point one digit off */
            x += q >= p10(17) ? 1 : -1;
            continue;
        }
        *t = (struct exact){b->neg, q, x, s, p & (((u128)1 << s) - 1)};
        return true;
    }
    return false;
}

/* t rounded to n digits (n <= 17) as "%.*e" rounds them, into o; false
 * where the digits dropped are exactly a half (the rounding mode's). */
static bool round_to(const struct exact *t, int n, struct dec *o)
{
    uint64_t div = p10(17 - n), q = t->q / div, c = t->q % div;
    u128 half = (u128)1 << (t->s - 1);
    bool up, tie;

    if (n == 17) { /* the part dropped is r alone */
        up = t->r > half;
        tie = t->r == half;
    } else {
        up = c > div / 2 || (c == div / 2 && t->r != 0);
        tie = c == div / 2 && t->r == 0;
    }
    if (tie)
        return false;
    *o = (struct dec){t->neg, n, t->x, q + up};
    if (o->q == p10(n)) { /* 9.99...95 up to 10.00...0 */
        o->q = p10(n - 1);
        o->x++;
    }
    return true;
}

/* 1 where a (q × 10^-j) reads back as v (strtod's nearest), 0 where not,
 * -1 where 128 bits cannot tell. */
static int reads_back(const struct bin *b, const struct dec *a)
{
    int j = a->n - 1 - a->x, s = -b->e - j;

    if (j < 0 || j > 31 || s < 0 || s > 69)
        return -1;
    /* |a - v| < 2^(e-1) (half v's unit in the last place), times
     * 2^(1-e) × 10^j / 2^j = 2^(1-e) × 5^j: |q × 2^(s+1) - 2m × 5^j| < 5^j */
    u128 p5 = pow5(j), lhs = (u128)a->q << (s + 1), rhs = (u128)(2 * b->m) * p5;
    u128 diff = lhs > rhs ? lhs - rhs : rhs - lhs;
    /* exactly half (a midpoint between doubles below 2^53 has more than 17
     * digits: not seen here) is strtod's to settle */
    return diff == p5 ? -1 : diff < p5;
}

/* a as "%.*g" (precision a->n) writes it: fixed where the exponent is
 * from -4 to below the precision, and without trailing zeros. */
static void dec_g(const struct dec *a, char *out, size_t cap)
{
    char d[20], *p = out;
    int n = a->n;
    uint64_t q = a->q;

    for (int i = n - 1; i >= 0; i--, q /= 10)
        d[i] = (char)('0' + q % 10);
    while (n > 1 && d[n - 1] == '0')
        n--;
    if (a->neg)
        *p++ = '-';
    if (a->x < -4 || a->x >= a->n) {
        *p++ = d[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, d + 1, (size_t)n - 1);
            p += n - 1;
        }
        snprintf(p, cap - (size_t)(p - out), "e%c%02d", a->x < 0 ? '-' : '+', abs(a->x));
        return;
    }
    if (a->x < 0) {
        *p++ = '0';
        *p++ = '.';
        memset(p, '0', (size_t)(-a->x - 1));
        p += -a->x - 1;
        memcpy(p, d, (size_t)n);
        p += n;
    } else {
        int whole = a->x + 1; /* at most a->n */
        memcpy(p, d, (size_t)whole);
        p += whole;
        if (n > whole) {
            *p++ = '.';
            memcpy(p, d + whole, (size_t)(n - whole));
            p += n - whole;
        }
    }
    *p = '\0';
}

/* The integer path: false where it cannot settle every precision. */
static bool shortest_exact(char *out, size_t cap, double v)
{
    struct bin b;
    struct exact t;
    struct dec d;

    if (!bin_of(v, &b) || !exact_of(&b, &t))
        return false;
    for (int n = 15; n <= 16; n++) {
        int back = round_to(&t, n, &d) ? reads_back(&b, &d) : -1;
        if (back < 0)
            return false;
        if (back) {
            dec_g(&d, out, cap);
            return true;
        }
    }
    if (!round_to(&t, 17, &d))
        return false;
    dec_g(&d, out, cap);
    return true;
}

void wp_shortest_g(char *out, size_t cap, double v)
{
    if (shortest_exact(out, cap, v))
        return;
    for (int digits = 15; digits <= 17; digits++)
        if (snprintf(out, cap, "%.*g", digits, v) > 0 && (digits == 17 || strtod(out, NULL) == v))
            return;
}

double wp_round_g(double v, int digits)
{
    static const double tens[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    struct bin b;
    struct exact t;
    struct dec d;
    char text[40];
    int j;

    /* q / 10^j, both exact doubles (q < 10^15 < 2^53): one division
     * rounds as strtod does (Clinger's fast path) */
    if (digits <= 15 && bin_of(v, &b) && exact_of(&b, &t) && round_to(&t, digits, &d) &&
        (j = d.n - 1 - d.x) >= 0 && j <= 22)
        return (d.neg ? -(double)d.q : (double)d.q) / tens[j];
    snprintf(text, sizeof text, "%.*g", digits, v);
    return strtod(text, NULL);
}
