/* The library inside a threaded host: readers, windows and work on one
 * handle from several threads while two threads stop it at once and another
 * closes it. Built with ThreadSanitizer by make check (build-tsan), and with
 * AddressSanitizer beside the other unit tests: a data race, a deadlock, a
 * double join or a use after free fails it. Threads meet at barriers and on
 * the handle's answers (states), never on timing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wattprint.h"

#define READERS 4
#define ROUNDS  3

struct shared {
    wattprint_meter *m;
    pthread_barrier_t started, stop_now;
    int stop_rc[2];
};

/* cmocka's asserts jump back to the test's own thread: in other threads a
 * failure aborts instead, with where and what. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s failed (%s)\n", __FILE__, __LINE__, #cond,                  \
                    wattprint_last_error());                                                       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Uses the handle every way a host does until it answers ESTATE (closed). */
static void *reader(void *arg)
{
    struct shared *s = arg;
    char name[32], *json;
    wattprint_result r = WATTPRINT_RESULT_INIT;
    long n = 0;

    snprintf(name, sizeof name, "w%p", (void *)&name);
    pthread_barrier_wait(&s->started);
    for (;; n++) {
        int rc = wattprint_read(s->m, &r);
        if (rc == WATTPRINT_ESTATE)
            break;
        CHECK(rc == WATTPRINT_OK);
        if (wattprint_json(s->m, &json) == WATTPRINT_OK)
            wattprint_free(json);
        wattprint_add_work(s->m, 1, "tokens"); /* ESTATE once stopped: fine */
        if (wattprint_window_begin(s->m, name) == WATTPRINT_OK)
            wattprint_window_end(s->m, name, &r);
        if (n == 50) /* enough calls in flight: let the stoppers go */
            pthread_barrier_wait(&s->stop_now);
    }
    if (n < 50) /* closed before this reader reached the meeting: still meet */
        pthread_barrier_wait(&s->stop_now);
    return NULL;
}

struct stopper {
    struct shared *s;
    int i;
};

static void *stopper(void *arg)
{
    struct stopper *st = arg;

    pthread_barrier_wait(&st->s->started);
    pthread_barrier_wait(&st->s->stop_now);
    st->s->stop_rc[st->i] = wattprint_stop(st->s->m);
    return NULL;
}

static void *closer(void *arg)
{
    struct shared *s = arg;

    pthread_barrier_wait(&s->started);
    pthread_barrier_wait(&s->stop_now);
    wattprint_close(s->m); /* while the readers and the stoppers are inside */
    return NULL;
}

static void one_round(const char *ledger)
{
    wattprint_options o = WATTPRINT_OPTIONS_INIT;
    struct shared s = {0};
    struct stopper st[2] = {{&s, 0}, {&s, 1}};
    pthread_t r[READERS], t[3];
    wattprint_result res = WATTPRINT_RESULT_INIT;

    o.ledger = ledger;
    o.interval_s = 0.002; /* the sampler (and the RAM model's ranges) busy beside the readers */
    o.intensity_g_per_kwh = 300;
    assert_int_equal(wattprint_open(&o, &s.m), WATTPRINT_OK);
    assert_int_equal(wattprint_start(s.m), WATTPRINT_OK);
    pthread_barrier_init(&s.started, NULL, READERS + 3);
    pthread_barrier_init(&s.stop_now, NULL, READERS + 3);
    for (int i = 0; i < READERS; i++)
        pthread_create(&r[i], NULL, reader, &s);
    pthread_create(&t[0], NULL, stopper, &st[0]);
    pthread_create(&t[1], NULL, stopper, &st[1]);
    pthread_create(&t[2], NULL, closer, &s);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    /* each stop either stopped it, or found it stopping, stopped or closed */
    for (int i = 0; i < 2; i++)
        assert_true(s.stop_rc[i] == WATTPRINT_OK || s.stop_rc[i] == WATTPRINT_ESTATE);
    /* closed: every call answers ESTATE, a second close does nothing */
    assert_int_equal(wattprint_read(s.m, &res), WATTPRINT_ESTATE);
    assert_int_equal(wattprint_stop(s.m), WATTPRINT_ESTATE);
    wattprint_close(s.m);
    pthread_barrier_destroy(&s.started);
    pthread_barrier_destroy(&s.stop_now);
}

static void readers_stoppers_and_a_closer(void **state)
{
    (void)state;
    for (int i = 0; i < ROUNDS; i++)
        one_round("");
}

/* The same with a ledger: the recorder's thread writes the first row and
 * the final result while everything else goes on. */
static void with_the_recorder(void **state)
{
    char dir[] = "/tmp/wattprint-threads-XXXXXX", path[64];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    for (int i = 0; i < ROUNDS; i++)
        one_round(path);
    unlink(path);
    snprintf(path, sizeof path, "%s/ledger.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/ledger.db-shm", dir);
    unlink(path);
    rmdir(dir);
}

/* Many handles opened and closed at once: the registry itself. */
static void *open_close(void *arg)
{
    wattprint_options o = WATTPRINT_OPTIONS_INIT;

    (void)arg;
    o.ledger = "";
    for (int i = 0; i < 20; i++) {
        wattprint_meter *m;
        CHECK(wattprint_open(&o, &m) == WATTPRINT_OK);
        CHECK(wattprint_start(m) == WATTPRINT_OK);
        wattprint_close(m);
    }
    return NULL;
}

static void many_handles(void **state)
{
    pthread_t t[4];

    (void)state;
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, open_close, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(readers_stoppers_and_a_closer),
        cmocka_unit_test(with_the_recorder),
        cmocka_unit_test(many_handles),
    };
    setenv("WATTPRINT_SOCKET", "/nonexistent/wattprint.sock", 1); /* no daemon's counters */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
