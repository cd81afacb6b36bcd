/* tinylm: a small, real next-character language model for wattprint's demo,
 * trained on text it generates from a small grammar of its own (so no corpus
 * is shipped or fetched). A context of 4 characters goes
 * through embeddings, one tanh layer and a softmax, trained by plain SGD.
 * It reports the tokens it has trained on through WATTPRINT_PROGRESS.
 *
 * Usage: tinylm [--tokens N] [--seed S]
 * Prints the held-out loss before and after training, and a sample. */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTX    4
#define EMB    16
#define HID    128
#define MAXV   64
#define CORPUS (256 * 1024)

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double frand(void)
{
    return (double)(rng() >> 11) / 9007199254740992.0;
}

static const char *pick(const char *const *list, int n)
{
    return list[rng() % (uint64_t)n];
}

/* Sentences from a small grammar: enough structure for a model to learn. */
static size_t make_corpus(char *out, size_t cap)
{
    static const char *const subj[] = {"the cat",    "a dog",        "the old man", "my sister",
                                       "the farmer", "a small bird", "the teacher", "our friend"};
    static const char *const verb[] = {"sees",   "likes", "finds",   "follows",
                                       "paints", "calls", "watches", "helps"};
    static const char *const obj[] = {"the river",     "a red house",  "the green field",
                                      "the tall tree", "a quiet road", "the morning sun",
                                      "the market",    "a wooden boat"};
    static const char *const tail[] = {"today",       "at night", "in the rain", "every day",
                                       "before noon", "with joy", "again",       "slowly"};
    size_t o = 0;

    while (o + 128 < cap) {
        int k = snprintf(out + o, cap - o, "%s %s %s %s.\n", pick(subj, 8), pick(verb, 8),
                         pick(obj, 8), pick(tail, 8));
        o += (size_t)k;
    }
    return o;
}

struct model {
    int v;
    float emb[MAXV][EMB];
    float w1[HID][CTX * EMB], b1[HID];
    float w2[MAXV][HID], b2[MAXV];
};

static void init(struct model *m, int v)
{
    m->v = v;
    for (int i = 0; i < v; i++)
        for (int j = 0; j < EMB; j++)
            m->emb[i][j] = (float)(frand() * 2 - 1);
    for (int i = 0; i < HID; i++) {
        for (int j = 0; j < CTX * EMB; j++)
            m->w1[i][j] = (float)((frand() * 2 - 1) / sqrt(CTX * EMB));
        m->b1[i] = 0;
    }
    for (int i = 0; i < v; i++) {
        for (int j = 0; j < HID; j++)
            m->w2[i][j] = (float)((frand() * 2 - 1) / sqrt(HID) * 0.1);
        m->b2[i] = 0;
    }
}

/* Forward pass for one position; returns -log p(target). */
static double forward(const struct model *m, const int *ctx, int target, float *x, float *h,
                      float *p)
{
    double max = -1e30, sum = 0;

    for (int c = 0; c < CTX; c++)
        memcpy(x + c * EMB, m->emb[ctx[c]], sizeof(float) * EMB);
    for (int i = 0; i < HID; i++) {
        float a = m->b1[i];
        for (int j = 0; j < CTX * EMB; j++)
            a += m->w1[i][j] * x[j];
        h[i] = tanhf(a);
    }
    for (int k = 0; k < m->v; k++) {
        float a = m->b2[k];
        for (int i = 0; i < HID; i++)
            a += m->w2[k][i] * h[i];
        p[k] = a;
        if (a > max)
            max = a;
    }
    for (int k = 0; k < m->v; k++) {
        p[k] = (float)exp(p[k] - max);
        sum += p[k];
    }
    for (int k = 0; k < m->v; k++)
        p[k] = (float)(p[k] / sum);
    return -log(p[target] + 1e-12);
}

static void step(struct model *m, const int *ctx, int target, float lr)
{
    float x[CTX * EMB], h[HID], p[MAXV], dh[HID] = {0}, dx[CTX * EMB] = {0};

    forward(m, ctx, target, x, h, p);
    p[target] -= 1.0f; /* d loss / d logits */
    for (int k = 0; k < m->v; k++) {
        for (int i = 0; i < HID; i++) {
            dh[i] += m->w2[k][i] * p[k];
            m->w2[k][i] -= lr * p[k] * h[i];
        }
        m->b2[k] -= lr * p[k];
    }
    for (int i = 0; i < HID; i++) {
        float da = dh[i] * (1 - h[i] * h[i]);
        for (int j = 0; j < CTX * EMB; j++) {
            dx[j] += m->w1[i][j] * da;
            m->w1[i][j] -= lr * da * x[j];
        }
        m->b1[i] -= lr * da;
    }
    for (int c = 0; c < CTX; c++)
        for (int j = 0; j < EMB; j++)
            m->emb[ctx[c]][j] -= lr * dx[c * EMB + j];
}

static double eval(const struct model *m, const int *ids, size_t from, size_t n)
{
    float x[CTX * EMB], h[HID], p[MAXV];
    double loss = 0;

    for (size_t t = from; t < from + n; t++)
        loss += forward(m, ids + t - CTX, ids[t], x, h, p);
    return loss / (double)n;
}

/* One line appended per report; a failed write is ignored: progress is
 * optional and must never stop training. */
static void report(int fd, long done, long total)
{
    char line[96];
    int n = snprintf(line, sizeof line, "done=%ld total=%ld unit=tokens\n", done, total);
    if (fd >= 0 && write(fd, line, (size_t)n) < 0)
        return;
}

int main(int argc, char **argv)
{
    static char text[CORPUS];
    static int ids[CORPUS];
    static struct model m;
    char vocab[MAXV];
    int v = 0, map[256];
    long tokens = 300000;
    size_t n, train_end, held = 4000;
    const char *progress = getenv("WATTPRINT_PROGRESS");
    int fd = progress && *progress ? open(progress, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
    double before, after;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tokens") == 0 && i + 1 < argc)
            tokens = atol(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            rng_state = strtoull(argv[++i], NULL, 10) | 1;
        else {
            fprintf(stderr, "usage: tinylm [--tokens N] [--seed S]\n");
            return 2;
        }
    }
    if (tokens < 1000 || tokens > 1000000000L) {
        fprintf(stderr, "tinylm: --tokens must be from 1000 to 1e9\n");
        return 2;
    }
    n = make_corpus(text, sizeof text);
    memset(map, -1, sizeof map);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (map[c] < 0) {
            map[c] = v;
            vocab[v++] = (char)c;
        }
        ids[i] = map[c];
    }
    train_end = n - held;
    init(&m, v);
    before = eval(&m, ids, train_end, held - 1);
    printf("tinylm: %zu characters, vocabulary %d, %d-character context, %ld tokens to train\n", n,
           v, CTX, tokens);
    for (long t = 0; t < tokens; t++) {
        size_t pos = CTX + (size_t)(rng() % (uint64_t)(train_end - CTX));
        float lr = 0.05f * (1.0f - 0.9f * (float)t / (float)tokens);
        step(&m, ids + pos - CTX, ids[pos], lr);
        if ((t + 1) % 10000 == 0 || t + 1 == tokens)
            report(fd, t + 1, tokens);
    }
    after = eval(&m, ids, train_end, held - 1);
    printf("tinylm: held-out loss %.4f before training, %.4f after (nats per character)\n", before,
           after);
    {
        int ctx[CTX];
        float x[CTX * EMB], h[HID], p[MAXV];
        for (int c = 0; c < CTX; c++)
            ctx[c] = ids[c];
        printf("tinylm: sample: ");
        for (int k = 0; k < 60; k++) {
            double r = frand(), acc = 0;
            int next = 0;
            forward(&m, ctx, 0, x, h, p);
            for (next = 0; next < v - 1; next++)
                if ((acc += p[next]) >= r)
                    break;
            putchar(vocab[next] == '\n' ? '|' : vocab[next]);
            memmove(ctx, ctx + 1, sizeof(int) * (CTX - 1));
            ctx[CTX - 1] = next;
        }
        putchar('\n');
    }
    if (fd >= 0)
        close(fd);
    return after < before ? 0 : 1;
}
