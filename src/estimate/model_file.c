/* Parameter counts from safetensors and GGUF headers. Every length read from
 * the file is checked before it is used: these parsers see hostile input. */
#include "model_file.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADER   (100u * 1024 * 1024) /* the safetensors format's own limit */
#define MAX_STRING   (1u << 20)
#define MAX_TENSORS  (1u << 24)
#define MAX_KV       (1u << 20)
#define MAX_DIMS     8
#define MAX_ELEMENTS 1e15 /* per tensor: far above any model, below double's exact range */

static int fail(char *err, size_t cap, const char *why)
{
    snprintf(err, cap, "%s", why);
    return -EINVAL;
}

/* Counts types to name the most common one. */
struct tally {
    char name[8][16];
    long count[8];
};

static void tally_add(struct tally *t, const char *name)
{
    for (int i = 0; i < 8; i++) {
        if (t->count[i] && strcmp(t->name[i], name) == 0) {
            t->count[i]++;
            return;
        }
        if (!t->count[i]) {
            snprintf(t->name[i], sizeof t->name[i], "%s", name);
            t->count[i] = 1;
            return;
        }
    }
}

static void tally_best(const struct tally *t, char *out, size_t cap)
{
    int best = 0;
    for (int i = 1; i < 8; i++)
        if (t->count[i] > t->count[best])
            best = i;
    snprintf(out, cap, "%s", t->count[best] ? t->name[best] : "unknown");
}

/* The number after "prefix" in a tensor name ("layers.12." -> 12), or -1. */
static long index_after(const char *name, const char *prefix)
{
    const char *p = strstr(name, prefix);
    char *end;
    long v;
    if (!p)
        return -EINVAL;
    p += strlen(prefix);
    v = strtol(p, &end, 10);
    return end != p && *end == '.' && v >= 0 && v < 1000000 ? v : -1;
}

/* What a tensor's name says of the shape: its layer, whether it belongs to
 * an expert, and (a K projection) the KV width. */
static void safetensors_shape(const char *key, json_t *shape, double n, struct wp_model_info *out)
{
    long layer = index_after(key, "layers.");
    long expert = index_after(key, "experts.");
    if (layer < 0)
        layer = index_after(key, "h.");
    if (layer >= out->layers)
        out->layers = layer + 1;
    if (expert >= 0) {
        out->expert_params += n;
        if (expert >= out->experts)
            out->experts = expert + 1;
    }
    if (strstr(key, "k_proj.weight") && json_array_size(shape) == 2) {
        out->kv_dim = (long)json_integer_value(json_array_get(shape, 0));
        out->hidden = (long)json_integer_value(json_array_get(shape, 1));
    }
}

static int read_safetensors(FILE *f, uint64_t hlen, struct wp_model_info *out, char *err,
                            size_t cap)
{
    struct tally types = {0};
    json_error_t je;
    json_t *root, *t;
    const char *key;
    char *buf;
    int rc = 0;

    long here = ftell(f), end;
    if (hlen < 2 || hlen > MAX_HEADER)
        return fail(err, cap, "safetensors: header length out of range (2 bytes to 100 MB)");
    /* Never allocate for a header the file does not hold. */
    if (here < 0 || fseek(f, 0, SEEK_END) || (end = ftell(f)) < 0 || fseek(f, here, SEEK_SET))
        return fail(err, cap, "safetensors: cannot tell the file's size");
    if ((uint64_t)(end - here) < hlen)
        return fail(err, cap, "safetensors: the header is longer than the file");
    if (!(buf = malloc((size_t)hlen)))
        return fail(err, cap, "safetensors: out of memory for the header");
    if (fread(buf, 1, (size_t)hlen, f) != (size_t)hlen) {
        free(buf);
        return fail(err, cap, "safetensors: the file ends inside its header");
    }
    root = json_loadb(buf, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, cap, "safetensors: the header is not a JSON object (%s)", je.text);
        return -EINVAL;
    }
    snprintf(out->format, sizeof out->format, "safetensors");
    json_object_foreach(root, key, t)
    {
        json_t *shape = json_object_get(t, "shape"), *dim;
        json_t *dtype = json_object_get(t, "dtype");
        double n = 1;
        size_t i;
        if (strcmp(key, "__metadata__") == 0)
            continue;
        if (!json_is_array(shape) || !json_is_string(dtype) || json_array_size(shape) > MAX_DIMS) {
            rc = fail(err, cap, "safetensors: a tensor without a valid shape and dtype");
            break;
        }
        json_array_foreach(shape, i, dim)
        {
            if (!json_is_integer(dim) || json_integer_value(dim) < 0) {
                rc = fail(err, cap, "safetensors: a negative or non-integer dimension");
                break;
            }
            n *= (double)json_integer_value(dim);
        }
        if (rc || n > MAX_ELEMENTS) {
            rc = rc ? rc : fail(err, cap, "safetensors: an absurdly large tensor");
            break;
        }
        out->params += n;
        out->tensors++;
        tally_add(&types, json_string_value(dtype));
        safetensors_shape(key, shape, n, out);
    }
    json_decref(root);
    if (rc == 0 && out->tensors == 0)
        rc = fail(err, cap, "safetensors: no tensors in the header");
    tally_best(&types, out->dtype, sizeof out->dtype);
    return rc;
}

/* GGUF: little-endian reads with bounds. */
static int rd(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n ? 0 : -EIO;
}

static int rd_u32(FILE *f, uint32_t *v)
{
    unsigned char b[4];
    if (rd(f, b, 4))
        return -EINVAL;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

static int rd_u64(FILE *f, uint64_t *v)
{
    uint32_t lo, hi;
    if (rd_u32(f, &lo) || rd_u32(f, &hi))
        return -EINVAL;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

static int skip(FILE *f, uint64_t n)
{
    char buf[4096];
    while (n > 0) {
        size_t k = n > sizeof buf ? sizeof buf : (size_t)n;
        if (rd(f, buf, k))
            return -EINVAL;
        n -= k;
    }
    return 0;
}

static int skip_string(FILE *f)
{
    uint64_t len;
    return (rd_u64(f, &len) || len > MAX_STRING || skip(f, len)) ? -EINVAL : 0;
}

static const int scalar_size[13] = {1, 1, 2, 2, 4, 4, 4, 1, -1, -1, 8, 8, 8};

static int skip_value(FILE *f, uint32_t type, int depth)
{
    if (type > 12 || depth > 2)
        return -EINVAL;
    if (type == 8)
        return skip_string(f);
    if (type == 9) {
        uint32_t inner;
        uint64_t count;
        if (rd_u32(f, &inner) || rd_u64(f, &count) || inner > 12 || count > MAX_TENSORS * 16ULL)
            return -EINVAL;
        if (inner != 8 && inner != 9)
            return count > UINT64_MAX / 8 ? -EINVAL : skip(f, count * (uint64_t)scalar_size[inner]);
        for (uint64_t i = 0; i < count; i++)
            if (skip_value(f, inner, depth + 1))
                return -EINVAL;
        return 0;
    }
    return skip(f, (uint64_t)scalar_size[type]);
}

static const char *ggml_type_name(uint32_t t)
{
    static const char *const names[] = {"F32",  "F16",  "Q4_0", "Q4_1", "Q4_2", "Q4_3",
                                        "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K",
                                        "Q4_K", "Q5_K", "Q6_K", "Q8_K"};
    if (t < sizeof names / sizeof *names)
        return names[t];
    return t == 30 ? "BF16" : "other";
}

/* An integer scalar of any GGUF integer type; -1 if the type is not one. */
static int rd_gguf_int(FILE *f, uint32_t type, long *v)
{
    unsigned char b[8] = {0};
    static const int size[13] = {1, 1, 2, 2, 4, 4, 0, 0, 0, 0, 8, 8, 0};
    uint64_t u = 0;
    if (type > 12 || size[type] == 0 || rd(f, b, (size_t)size[type]))
        return -EINVAL;
    for (int i = size[type] - 1; i >= 0; i--)
        u = u << 8 | b[i];
    *v = u > 1000000000ULL ? -EINVAL : (long)u; /* signed types: a negative is absurd here */
    return 0;
}

/* Keeps the metadata that sizes the model: "<arch>.block_count" and so on. */
static void gguf_keep(const char *key, long v, struct wp_model_info *out, long *heads,
                      long *heads_kv, long *key_len)
{
    static const char *const names[] = {".block_count",          ".embedding_length",
                                        ".expert_count",         ".expert_used_count",
                                        ".attention.head_count", ".attention.head_count_kv",
                                        ".attention.key_length"};
    long *slot[] = {&out->layers, &out->hidden, &out->experts, &out->experts_used,
                    heads,        heads_kv,     key_len};
    size_t kl = strlen(key);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t nl = strlen(names[i]);
        if (kl > nl && strcmp(key + kl - nl, names[i]) == 0 && strchr(key, '.') == key + kl - nl)
            *slot[i] = v;
    }
}

/* One metadata pair: its key kept if short, its value read or skipped. */
static int gguf_kv(FILE *f, struct wp_model_info *out, long *heads, long *heads_kv, long *key_len)
{
    char key[128];
    uint64_t len;
    uint32_t type;
    long v;

    if (rd_u64(f, &len) || len > MAX_STRING)
        return -EINVAL;
    if (len < sizeof key) {
        if (rd(f, key, (size_t)len))
            return -EINVAL;
        key[len] = '\0';
    } else {
        key[0] = '\0';
        if (skip(f, len))
            return -EINVAL;
    }
    if (rd_u32(f, &type))
        return -EINVAL;
    if (!key[0] || !(type <= 5 || type == 10 || type == 11)) /* not an integer we keep */
        return skip_value(f, type, 0);
    if (rd_gguf_int(f, type, &v))
        return -EINVAL;
    gguf_keep(key, v, out, heads, heads_kv, key_len);
    return 0;
}

/* A tensor's name; llama.cpp names the stacked experts "..._exps.". */
static int gguf_tensor_name(FILE *f, bool *is_expert)
{
    char name[128];
    uint64_t len;
    *is_expert = false;
    if (rd_u64(f, &len) || len > MAX_STRING)
        return -EINVAL;
    if (len >= sizeof name)
        return skip(f, len);
    if (rd(f, name, (size_t)len))
        return -EINVAL;
    name[len] = '\0';
    *is_expert = strstr(name, "_exps.") != NULL;
    return 0;
}

static int read_gguf(FILE *f, struct wp_model_info *out, char *err, size_t cap)
{
    struct tally types = {0};
    uint32_t version;
    uint64_t n_tensors, n_kv;
    long heads = 0, heads_kv = 0, key_len = 0;

    if (rd_u32(f, &version) || (version != 2 && version != 3))
        return fail(err, cap, "gguf: unsupported version (2 and 3 are known)");
    if (rd_u64(f, &n_tensors) || rd_u64(f, &n_kv) || n_tensors > MAX_TENSORS || n_kv > MAX_KV)
        return fail(err, cap, "gguf: tensor or metadata count out of range");
    snprintf(out->format, sizeof out->format, "gguf");
    for (uint64_t i = 0; i < n_kv; i++)
        if (gguf_kv(f, out, &heads, &heads_kv, &key_len))
            return fail(err, cap, "gguf: malformed or truncated metadata");
    if (heads > 0 && out->hidden > 0) /* KV width: KV heads x head size */
        out->kv_dim =
            (heads_kv > 0 ? heads_kv : heads) * (key_len > 0 ? key_len : out->hidden / heads);
    for (uint64_t i = 0; i < n_tensors; i++) {
        uint32_t n_dims, type;
        uint64_t offset;
        double n = 1;
        bool is_expert;
        if (gguf_tensor_name(f, &is_expert) || rd_u32(f, &n_dims) || n_dims == 0 ||
            n_dims > MAX_DIMS)
            return fail(err, cap, "gguf: malformed tensor name or dimension count");
        for (uint32_t d = 0; d < n_dims; d++) {
            uint64_t dim;
            if (rd_u64(f, &dim))
                return fail(err, cap, "gguf: truncated tensor dimensions");
            n *= (double)dim;
        }
        if (rd_u32(f, &type) || rd_u64(f, &offset))
            return fail(err, cap, "gguf: truncated tensor information");
        if (is_expert)
            out->expert_params += n;
        if (n > MAX_ELEMENTS)
            return fail(err, cap, "gguf: an absurdly large tensor");
        out->params += n;
        out->tensors++;
        tally_add(&types, ggml_type_name(type));
    }
    if (out->tensors == 0)
        return fail(err, cap, "gguf: no tensors");
    tally_best(&types, out->dtype, sizeof out->dtype);
    return 0;
}

int wp_model_read(FILE *f, struct wp_model_info *out, char *err, size_t cap)
{
    unsigned char magic[8];

    memset(out, 0, sizeof *out);
    if (rd(f, magic, 4))
        return fail(err, cap, "the file is too short to be a model");
    if (memcmp(magic, "GGUF", 4) == 0)
        return read_gguf(f, out, err, cap);
    /* safetensors: an 8-byte little-endian header length, then JSON */
    if (rd(f, magic + 4, 4))
        return fail(err, cap, "the file is too short to be a model");
    {
        uint64_t hlen = 0;
        for (int i = 7; i >= 0; i--)
            hlen = hlen << 8 | magic[i];
        return read_safetensors(f, hlen, out, err, cap);
    }
}

double wp_model_active_params(const struct wp_model_info *m)
{
    if (m->experts <= 0 || m->expert_params <= 0)
        return m->params;
    if (m->experts_used <= 0 || m->experts_used > m->experts)
        return 0;
    return m->params - m->expert_params * (1.0 - (double)m->experts_used / (double)m->experts);
}
