/* Shared by the fake vendor libraries: their state lives in files under a
 * directory that the test's child process changes (atomically, by rename). */
#ifndef FAKE_STATE_H
#define FAKE_STATE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads dir/gpuN/name (or dir/name when gpu < 0) into buf. Returns 0 or -1. */
static inline int fake_read(const char *env, int gpu, const char *name, char *buf, size_t cap)
{
    const char *dir = getenv(env);
    char path[1024];
    FILE *f;
    size_t n;

    if (!dir)
        return -1;
    if (gpu < 0)
        snprintf(path, sizeof path, "%s/%s", dir, name);
    else
        snprintf(path, sizeof path, "%s/gpu%d/%s", dir, gpu, name);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static inline int fake_exists(const char *env, int gpu, const char *name)
{
    char buf[8];
    return fake_read(env, gpu, name, buf, sizeof buf) == 0;
}

static inline int fake_u64(const char *env, int gpu, const char *name, unsigned long long *v)
{
    char buf[64], *end;
    if (fake_read(env, gpu, name, buf, sizeof buf) != 0)
        return -1;
    *v = strtoull(buf, &end, 10);
    return (end == buf || *end) ? -1 : 0;
}

/* Writes text to dir/gpuN/name atomically (a new file renamed over it), as
 * the test's own writers do. Returns 0 or -1. */
static inline int fake_write(const char *env, int gpu, const char *name, const char *text)
{
    const char *dir = getenv(env);
    char path[1024], tmp[1100];
    FILE *f;

    if (!dir)
        return -1;
    snprintf(path, sizeof path, "%s/gpu%d/%s", dir, gpu, name);
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    if (!(f = fopen(tmp, "w")))
        return -1;
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

#endif
