/* The meter: per-channel energy over a window, wrap-corrected, sampled by a
 * thread. Every reading takes the lock, so the thread and the caller's
 * start/stop readings never interleave. */
#define _GNU_SOURCE
#include "meter.h"

#include "../util/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct wp_meter {
    struct wp_sensor **sensors;
    struct wp_diag diag; /* warnings while sampling */
    bool reset_said;     /* a counter reset was reported */
    int n_sensors, n_ch;
    const struct wp_channel **ch;
    int *first; /* index of each sensor's first channel */
    uint64_t *raw, *energy_uj, *scratch, *prev_uj;
    double *power_w;
    unsigned *wraps, *resets;
    double *uncounted_s;
    bool *lost, *ok, *seen;
    double interval_s, t_start, t_last;
    double prev_t, prev_counted_j, recent_power_w;
    bool started, stopped, thread_running, stop_flag;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct {
        void (*fn)(void *);
        void *arg;
        double every_s, last;
    } ticks[WP_METER_MAX_TICKS];
    int n_ticks;
    /* samples */
    double *s_t;
    uint64_t *s_e;
    int s_n, s_stride, s_skip;
};

double wp_meter_max_interval(struct wp_sensor *const *sensors, int n)
{
    double best = 0;

    for (int i = 0; i < n; i++)
        for (int c = 0; c < sensors[i]->n_channels; c++) {
            const struct wp_channel *ch = &sensors[i]->channels[c];
            double p = ch->max_power_w > 0 ? ch->max_power_w : 1000.0;
            double t;
            if (ch->range_uj == 0)
                continue;
            t = (double)ch->range_uj / 1e6 / p / 2.0;
            if (best == 0 || t < best)
                best = t;
        }
    return best;
}

int wp_meter_create(struct wp_sensor **sensors, int n, double interval_s,
                    const struct wp_diag *diag, struct wp_meter **out)
{
    struct wp_meter *m = calloc(1, sizeof *m);
    double max_iv = wp_meter_max_interval(sensors, n);
    int k = 0;

    if (!m)
        goto nomem;
    m->sensors = sensors;
    m->n_sensors = n;
    if (diag)
        m->diag = *diag;
    for (int i = 0; i < n; i++)
        m->n_ch += sensors[i]->n_channels;
    size_t c = (size_t)(m->n_ch > 0 ? m->n_ch : 1);
    m->ch = calloc(c, sizeof *m->ch);
    m->first = calloc((size_t)(n > 0 ? n : 1), sizeof *m->first);
    m->raw = calloc(c, sizeof *m->raw);
    m->energy_uj = calloc(c, sizeof *m->energy_uj);
    m->scratch = calloc(c, sizeof *m->scratch);
    m->wraps = calloc(c, sizeof *m->wraps);
    m->resets = calloc(c, sizeof *m->resets);
    m->uncounted_s = calloc(c, sizeof *m->uncounted_s);
    m->lost = calloc(c, sizeof *m->lost);
    m->ok = calloc(c, sizeof *m->ok);
    m->seen = calloc(c, sizeof *m->seen);
    m->prev_uj = calloc(c, sizeof *m->prev_uj);
    m->power_w = calloc(c, sizeof *m->power_w);
    m->s_t = calloc(WP_METER_MAX_SAMPLES, sizeof *m->s_t);
    m->s_e = calloc(WP_METER_MAX_SAMPLES * c, sizeof *m->s_e);
    if (!m->ch || !m->first || !m->raw || !m->energy_uj || !m->scratch || !m->wraps || !m->resets ||
        !m->uncounted_s || !m->lost || !m->ok || !m->seen || !m->prev_uj || !m->power_w ||
        !m->s_t || !m->s_e)
        goto nomem;
    for (int i = 0; i < n; i++) {
        m->first[i] = k;
        for (int j = 0; j < sensors[i]->n_channels; j++)
            m->ch[k++] = &sensors[i]->channels[j];
    }
    if (max_iv > 0 && interval_s > max_iv) {
        wp_diag(&m->diag, WP_HINT_NONE,
                "sampling every %.3g s instead of %.3g s, so that no energy counter can wrap "
                "twice between two readings",
                max_iv, interval_s);
        interval_s = max_iv;
    }
    m->interval_s = interval_s;
    m->s_stride = 1;
    pthread_mutex_init(&m->mu, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&m->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    *out = m;
    return 0;

nomem:
    if (m) {
        m->sensors = NULL; /* closed below, once */
        wp_meter_free(m);
    }
    wp_sensors_close(sensors, n);
    return -ENOMEM;
}

/* Halves the stored samples (keeping the first) when the store is full. */
static void compact_samples(struct wp_meter *m)
{
    int j = 0;

    for (int i = 0; i < m->s_n; i += 2, j++) {
        m->s_t[j] = m->s_t[i];
        memmove(&m->s_e[(size_t)j * m->n_ch], &m->s_e[(size_t)i * m->n_ch],
                (size_t)m->n_ch * sizeof *m->s_e);
    }
    m->s_n = j;
    m->s_stride *= 2;
}

static void store_sample(struct wp_meter *m, double t, bool force)
{
    if (!force && ++m->s_skip < m->s_stride)
        return;
    m->s_skip = 0;
    if (m->s_n == WP_METER_MAX_SAMPLES)
        compact_samples(m);
    m->s_t[m->s_n] = t - m->t_start;
    memcpy(&m->s_e[(size_t)m->s_n * m->n_ch], m->energy_uj, (size_t)m->n_ch * sizeof *m->s_e);
    m->s_n++;
}

/* A counter below its last reading wrapped only if it has a range to wrap
 * at and the energy the wrap implies fits the interval: at most twice the
 * channel's rated power (RAPL's PL2 bursts stay under 2x PL1; 1000 W where
 * no rating is known). A reset or a firmware quirk read as a wrap would add
 * nearly the whole range: 262 kJ in a second for a package. */
static bool plausible_wrap(const struct wp_meter *m, int c, uint64_t cur, double now)
{
    const struct wp_channel *ch = m->ch[c];
    double dt = now - m->t_last, ceiling_w = 2.0 * (ch->max_power_w > 0 ? ch->max_power_w : 1000.0);
    double wrapped_j;

    if (ch->range_uj <= m->raw[c])
        return false;
    wrapped_j = (double)wp_counter_delta(m->raw[c], cur, ch->range_uj) / 1e6;
    return dt > 0 && wrapped_j <= ceiling_w * dt;
}

/* A counter that went backwards with no plausible wrap: the energy between
 * the two readings is unknown, so that interval is not counted, and said
 * (the first time for the run; every one is in the channel's resets). */
static void backwards(struct wp_meter *m, int c, uint64_t cur, double now)
{
    m->resets[c]++;
    m->uncounted_s[c] += now - m->t_last;
    if (m->reset_said)
        return;
    m->reset_said = true;
    wp_diag(&m->diag, WP_HINT_NONE,
            "the %s counter for %s went backwards (from %llu to %llu uJ in %.3g s), which no "
            "wrap of its range explains at its rated power; a reset: its energy over those %.3g "
            "s is not counted, and counting resumes from there",
            m->ch[c]->sensor, m->ch[c]->device, (unsigned long long)m->raw[c],
            (unsigned long long)cur, now - m->t_last, now - m->t_last);
}

/* One reading of every channel. Caller holds m->mu. */
static void read_locked(struct wp_meter *m, double now)
{
    for (int i = 0; i < m->n_sensors; i++) {
        struct wp_sensor *s = m->sensors[i];
        s->ops->read(s, now, &m->scratch[m->first[i]], &m->ok[m->first[i]]);
    }
    for (int c = 0; c < m->n_ch; c++) {
        uint64_t cur = m->scratch[c];
        if (m->lost[c])
            continue;
        if (!m->ok[c]) {
            /* A counter that vanishes or fails keeps the energy it counted so far. */
            m->lost[c] = true;
            wp_diag(&m->diag, WP_HINT_NONE,
                    "the %s counter for %s stopped reading; its energy up to now is kept",
                    m->ch[c]->sensor, m->ch[c]->device);
            continue;
        }
        if (m->seen[c] && cur < m->raw[c] && !plausible_wrap(m, c, cur, now))
            backwards(m, c, cur, now); /* the interval is not counted */
        else if (m->seen[c]) {
            m->wraps[c] += cur < m->raw[c];
            m->energy_uj[c] += wp_counter_delta(m->raw[c], cur, m->ch[c]->range_uj);
        }
        m->raw[c] = cur;
        m->seen[c] = true;
    }
    m->t_last = now;
    {
        double counted = 0;
        for (int c = 0; c < m->n_ch; c++)
            if (m->ch[c]->counted && m->ch[c]->component != WP_PSYS)
                counted += (double)m->energy_uj[c] / 1e6;
        if (now > m->prev_t && m->prev_t > 0) {
            m->recent_power_w = (counted - m->prev_counted_j) / (now - m->prev_t);
            for (int c = 0; c < m->n_ch; c++)
                m->power_w[c] = (double)(m->energy_uj[c] - m->prev_uj[c]) / 1e6 / (now - m->prev_t);
        }
        memcpy(m->prev_uj, m->energy_uj, (size_t)m->n_ch * sizeof *m->prev_uj);
        m->prev_t = now;
        m->prev_counted_j = counted;
    }
}

void wp_meter_sample(struct wp_meter *m)
{
    pthread_mutex_lock(&m->mu);
    if (m->started && !m->stopped) {
        read_locked(m, wp_mono_s());
        store_sample(m, m->t_last, false);
    }
    pthread_mutex_unlock(&m->mu);
}

static void *sampler(void *arg)
{
    struct wp_meter *m = arg;
    struct timespec next;

    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&m->mu);
    while (!m->stop_flag) {
        wp_timespec_add(&next, m->interval_s);
        while (!m->stop_flag && pthread_cond_timedwait(&m->cv, &m->mu, &next) != ETIMEDOUT)
            ;
        if (m->stop_flag)
            break;
        read_locked(m, wp_mono_s());
        store_sample(m, m->t_last, false);
        for (int i = 0; i < m->n_ticks; i++)
            if (m->t_last - m->ticks[i].last >= m->ticks[i].every_s) {
                m->ticks[i].last = m->t_last;
                pthread_mutex_unlock(&m->mu);
                m->ticks[i].fn(m->ticks[i].arg);
                pthread_mutex_lock(&m->mu);
            }
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

int wp_meter_on_tick(struct wp_meter *m, double every_s, void (*fn)(void *), void *arg)
{
    if (m->n_ticks == WP_METER_MAX_TICKS)
        return -ENOSPC;
    m->ticks[m->n_ticks].fn = fn;
    m->ticks[m->n_ticks].arg = arg;
    m->ticks[m->n_ticks++].every_s = every_s;
    return 0;
}

int wp_meter_start(struct wp_meter *m)
{
    int rc;

    pthread_mutex_lock(&m->mu);
    m->t_start = wp_mono_s();
    for (int i = 0; i < m->n_ticks; i++)
        m->ticks[i].last = m->t_start;
    read_locked(m, m->t_start);
    m->started = true;
    store_sample(m, m->t_start, true);
    pthread_mutex_unlock(&m->mu);
    if (m->n_ch == 0 || m->interval_s <= 0)
        return 0;
    pthread_mutex_lock(&m->mu); /* the sampler waits for this lock before it reads */
    rc = wp_thread_start(&m->thread, sampler, m);
    m->thread_running = rc == 0;
    pthread_mutex_unlock(&m->mu);
    return rc ? -rc : 0;
}

void wp_meter_stop(struct wp_meter *m)
{
    bool join;

    /* one stopper joins the thread: a second one (another thread) finds the
     * stop taken and leaves; stop_flag, set once, decides under the lock */
    pthread_mutex_lock(&m->mu);
    if (!m->started || m->stopped || m->stop_flag) {
        pthread_mutex_unlock(&m->mu);
        return;
    }
    m->stop_flag = true;
    join = m->thread_running;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    if (join)
        pthread_join(m->thread, NULL);
    pthread_mutex_lock(&m->mu);
    m->thread_running = false;
    read_locked(m, wp_mono_s());
    store_sample(m, m->t_last, true);
    m->stopped = true;
    pthread_mutex_unlock(&m->mu);
}

void wp_meter_free(struct wp_meter *m)
{
    if (!m)
        return;
    wp_meter_stop(m);
    wp_sensors_close(m->sensors, m->n_sensors);
    if (m->s_stride) {
        pthread_mutex_destroy(&m->mu);
        pthread_cond_destroy(&m->cv);
    }
    free(m->ch);
    free(m->first);
    free(m->raw);
    free(m->energy_uj);
    free(m->scratch);
    free(m->wraps);
    free(m->resets);
    free(m->uncounted_s);
    free(m->lost);
    free(m->ok);
    free(m->seen);
    free(m->prev_uj);
    free(m->power_w);
    free(m->s_t);
    free(m->s_e);
    free(m);
}

double wp_meter_duration_s(struct wp_meter *m)
{
    double d;
    pthread_mutex_lock(&m->mu);
    d = m->started ? m->t_last - m->t_start : 0.0;
    pthread_mutex_unlock(&m->mu);
    return d;
}

double wp_meter_elapsed_s(struct wp_meter *m)
{
    double d;
    pthread_mutex_lock(&m->mu);
    d = !m->started ? 0.0 : m->stopped ? m->t_last - m->t_start : wp_mono_s() - m->t_start;
    pthread_mutex_unlock(&m->mu);
    return d;
}

double wp_meter_energy_j(struct wp_meter *m, int i)
{
    double e;
    pthread_mutex_lock(&m->mu);
    e = (double)m->energy_uj[i] / 1e6;
    pthread_mutex_unlock(&m->mu);
    return e;
}

bool wp_meter_lost(struct wp_meter *m, int i)
{
    bool l;
    pthread_mutex_lock(&m->mu);
    l = m->lost[i];
    pthread_mutex_unlock(&m->mu);
    return l;
}

unsigned wp_meter_wraps(struct wp_meter *m, int i)
{
    unsigned w;
    pthread_mutex_lock(&m->mu);
    w = m->wraps[i];
    pthread_mutex_unlock(&m->mu);
    return w;
}

/* Adds one channel's joules to the totals: each joule once, psys apart. */
static void add_to_totals(const struct wp_channel *ch, double e, struct wp_energy_totals *out)
{
    if (ch->component == WP_PSYS) {
        out->psys_j += e;
        out->has_psys = true;
        return;
    }
    if (!ch->counted)
        return;
    if (ch->method == WP_ESTIMATED)
        out->any_estimated = true;
    /* estimated channels at the ends of their ranges (errors taken as
     * correlated, so the widest), measured ones as read */
    out->low_j += ch->range_lo > 0 ? e * ch->range_lo : e;
    out->high_j += ch->range_lo > 0 ? e * ch->range_hi : e;
    if (ch->component == WP_CPU)
        out->cpu_j += e;
    else if (ch->component == WP_DRAM)
        out->dram_j += e;
    else if (ch->component == WP_GPU)
        out->gpu_j += e;
}

/* Caller holds m->mu (the channels change on the sampling thread). */
static void totals_of(const struct wp_meter *m, const double *e, struct wp_energy_totals *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < m->n_ch; i++)
        add_to_totals(m->ch[i], e[i], out);
    out->total_j = out->cpu_j + out->dram_j + out->gpu_j;
}

void wp_reading_totals_of(const struct wp_reading *r, const double *e, struct wp_energy_totals *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < r->n_channels; i++)
        add_to_totals(&r->channels[i].ch, e[i], out);
    out->total_j = out->cpu_j + out->dram_j + out->gpu_j;
}

void wp_meter_totals(struct wp_meter *m, struct wp_energy_totals *out)
{
    double stack[64] = {0}, *e = m->n_ch <= 64 ? stack : calloc((size_t)m->n_ch, sizeof *e);

    if (!e) {
        memset(out, 0, sizeof *out);
        return;
    }
    pthread_mutex_lock(&m->mu); /* the channels change on the sampling thread */
    for (int i = 0; i < m->n_ch; i++)
        e[i] = (double)m->energy_uj[i] / 1e6;
    totals_of(m, e, out);
    pthread_mutex_unlock(&m->mu);
    if (e != stack)
        free(e);
}

double wp_meter_age_s(struct wp_meter *m)
{
    double a;
    pthread_mutex_lock(&m->mu);
    a = m->started ? wp_mono_s() - m->t_last : 1e9;
    pthread_mutex_unlock(&m->mu);
    return a;
}

int wp_meter_n_samples(struct wp_meter *m)
{
    int n;
    pthread_mutex_lock(&m->mu);
    n = m->s_n;
    pthread_mutex_unlock(&m->mu);
    return n;
}

void wp_meter_get_sample(struct wp_meter *m, int k, double *t_s, double *energy_j)
{
    pthread_mutex_lock(&m->mu);
    if (k >= 0 && k < m->s_n) {
        *t_s = m->s_t[k];
        for (int c = 0; c < m->n_ch; c++)
            energy_j[c] = (double)m->s_e[(size_t)k * m->n_ch + c] / 1e6;
    }
    pthread_mutex_unlock(&m->mu);
}

/* Copies the stored samples; called with the lock held. */
static int copy_samples(struct wp_meter *m, struct wp_reading *out)
{
    size_t n = (size_t)m->s_n, c = (size_t)m->n_ch;

    out->sample_t = malloc((n ? n : 1) * sizeof *out->sample_t);
    out->sample_e = malloc((n * c > 0 ? n * c : 1) * sizeof *out->sample_e);
    if (!out->sample_t || !out->sample_e)
        return -ENOMEM;
    out->n_samples = m->s_n;
    memcpy(out->sample_t, m->s_t, n * sizeof *out->sample_t);
    for (size_t k = 0; k < n * c; k++)
        out->sample_e[k] = (double)m->s_e[k] / 1e6;
    return 0;
}

int wp_meter_read(struct wp_meter *m, bool with_samples, struct wp_reading *out)
{
    double stack[64], *e;
    int rc = 0;

    memset(out, 0, sizeof *out);
    out->channels = calloc((size_t)(m->n_ch > 0 ? m->n_ch : 1), sizeof *out->channels);
    if (!out->channels)
        return -ENOMEM;
    e = m->n_ch <= 64 ? stack : malloc((size_t)m->n_ch * sizeof *e);
    if (!e) {
        wp_reading_free(out);
        return -ENOMEM;
    }
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->n_ch; i++) {
        struct wp_reading_channel *c = &out->channels[i];
        c->ch = *m->ch[i];
        c->energy_j = e[i] = (double)m->energy_uj[i] / 1e6;
        c->power_w = m->power_w[i];
        c->lost = m->lost[i];
        c->wraps = m->wraps[i];
        c->resets = m->resets[i];
        c->uncounted_s = m->uncounted_s[i];
    }
    out->n_channels = m->n_ch;
    out->duration_s = m->started ? m->t_last - m->t_start : 0;
    out->elapsed_s = !m->started ? 0 : m->stopped ? out->duration_s : wp_mono_s() - m->t_start;
    out->age_s = m->started ? wp_mono_s() - m->t_last : 1e9;
    out->interval_s = m->interval_s;
    out->recent_power_w = m->recent_power_w;
    if (with_samples)
        rc = copy_samples(m, out);
    pthread_mutex_unlock(&m->mu);
    /* from the copies: the sampling thread updates the channels themselves
     * (the RAM model's ranges) under the lock just released */
    wp_reading_totals_of(out, e, &out->totals);
    if (e != stack)
        free(e);
    if (rc)
        wp_reading_free(out);
    return rc;
}

void wp_reading_free(struct wp_reading *r)
{
    free(r->channels);
    free(r->sample_t);
    free(r->sample_e);
    memset(r, 0, sizeof *r);
}
