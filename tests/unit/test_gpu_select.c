/* Which GPUs belong to a run: --gpus and CUDA_VISIBLE_DEVICES. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sensors/gpu_select.h"

static const struct wp_gpu_id gpus[3] = {
    {0, "GPU-aaaa1111-0000"},
    {1, "GPU-bbbb2222-0000"},
    {2, "GPU-bbbb3333-0000"},
};

static int kept(const char *spec, const char *visible, char *out)
{
    bool keep[3];
    char err[256];
    int rc = wp_gpu_select(spec, visible, gpus, 3, keep, err, sizeof err);
    for (int i = 0; i < 3; i++)
        out[i] = keep[i] ? '1' : '0';
    out[3] = '\0';
    return rc;
}

static void visible_rules(void **state)
{
    char k[4];
    (void)state;
    assert_int_equal(kept(NULL, NULL, k), 0);
    assert_string_equal(k, "111");
    assert_int_equal(kept("visible", "2,0", k), 0);
    assert_string_equal(k, "101");
    assert_int_equal(kept(NULL, "", k), 0);
    assert_string_equal(k, "000");
    assert_int_equal(kept(NULL, "GPU-bbbb3", k), 0);
    assert_string_equal(k, "001");
    /* CUDA reads up to the first invalid entry */
    assert_int_equal(kept(NULL, "1,7,0", k), 0);
    assert_string_equal(k, "010");
    /* an ambiguous UUID prefix names nothing */
    assert_int_equal(kept(NULL, "GPU-bbbb", k), 0);
    assert_string_equal(k, "000");
    assert_int_equal(kept(NULL, " 0 , 1 ", k), 0);
    assert_string_equal(k, "110");
}

static void explicit_lists(void **state)
{
    char k[4];
    bool keep[3];
    char err[256];
    (void)state;
    assert_int_equal(kept("all", "0", k), 0);
    assert_string_equal(k, "111");
    assert_int_equal(kept("none", NULL, k), 0);
    assert_string_equal(k, "000");
    assert_int_equal(kept("0,GPU-bbbb2222", "2", k), 0);
    assert_string_equal(k, "110");
    assert_int_equal(wp_gpu_select("0,5", NULL, gpus, 3, keep, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "'5' names no GPU"));
    assert_non_null(strstr(err, "GPU-aaaa1111-0000"));
    assert_int_equal(wp_gpu_select("0", NULL, gpus, 0, keep, err, sizeof err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(visible_rules),
        cmocka_unit_test(explicit_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
