/* Work and progress through a file the measured program appends to. A regular
 * file, not a pipe: appending never blocks the program, and still works if
 * wattprint is gone. Bounded on both sides: when more than WP_PROGRESS_TAIL
 * bytes arrived since the last poll, only the last complete line is read
 * (work is cumulative: the last line is what counts), so a poll costs the
 * same whatever the writer's speed; the part read is given back to the
 * filesystem (a hole punched), and the watcher polls again at once while the
 * flood lasts (wp_progress_poll's answer), so a program that writes a line
 * per token cannot fill the disk. */
#define _GNU_SOURCE
#include "progress.h"

#include "../util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

struct wp_progress {
    char dir[64], path[96];
    int fd, notify; /* notify: inotify on the file, -1 without */
    off_t offset;
    char line[WP_PROGRESS_MAX_LINE];
    size_t len;
    bool overflow, warned, skipping; /* skipping: discarding up to the next newline */
    struct wp_diag diag;
};

static int parse_count(const char *v, size_t n, double *out)
{
    char buf[64], *end;
    double d;

    if (n == 0 || n >= sizeof buf)
        return -EINVAL;
    memcpy(buf, v, n);
    buf[n] = '\0';
    d = strtod(buf, &end);
    if (*end || !isfinite(d) || d < 0 || d > 1e30)
        return -EINVAL;
    *out = d;
    return 0;
}

/* A quality key: loss, accuracy, or metric.NAME with NAME of letters, digits,
 * '_' and '-'. Writes the name it is kept under. */
static bool quality_key(const char *k, size_t kl, char *name, size_t cap)
{
    if ((kl == 4 && memcmp(k, "loss", 4) == 0) || (kl == 8 && memcmp(k, "accuracy", 8) == 0)) {
        snprintf(name, cap, "%.*s", (int)kl, k);
        return true;
    }
    if (kl <= 7 || kl - 7 >= cap || memcmp(k, "metric.", 7) != 0)
        return false;
    for (size_t c = 7; c < kl; c++)
        if (!isalnum((unsigned char)k[c]) && k[c] != '_' && k[c] != '-')
            return false;
    snprintf(name, cap, "%.*s", (int)(kl - 7), k + 7);
    return true;
}

static void keep_quality(struct wp_work *w, const char *name, double v)
{
    int i = 0;

    while (i < w->n_quality && strcmp(w->quality[i].name, name) != 0)
        i++;
    if (i == WP_WORK_MAX_QUALITY)
        return; /* more than the run keeps: the first ones stay */
    if (i == w->n_quality)
        snprintf(w->quality[w->n_quality++].name, sizeof w->quality[0].name, "%s", name);
    w->quality[i].value = v;
}

bool wp_work_unit_valid(const char *v, size_t n)
{
    if (n == 0 || n >= sizeof((struct wp_work *)0)->unit)
        return false;
    for (size_t c = 0; c < n; c++)
        if (!isalnum((unsigned char)v[c]) && v[c] != '_' && v[c] != '-')
            return false;
    return true;
}

int wp_progress_line(struct wp_work *w, const char *line, size_t len, double t_s)
{
    double done = -1, total = -1, qv[WP_WORK_MAX_QUALITY];
    char unit[sizeof w->unit] = "", qn[WP_WORK_MAX_QUALITY][32];
    size_t i = 0;
    int nq = 0;

    while (i < len) {
        const char *k, *v;
        size_t kl, vl;
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        if (i >= len)
            break;
        k = line + i;
        while (i < len && line[i] != '=' && !isspace((unsigned char)line[i]))
            i++;
        if (i >= len || line[i] != '=')
            return -EINVAL;
        kl = (size_t)(line + i - k);
        v = line + ++i;
        while (i < len && !isspace((unsigned char)line[i]))
            i++;
        vl = (size_t)(line + i - v);
        if (kl == 4 && memcmp(k, "done", 4) == 0) {
            if (parse_count(v, vl, &done))
                return -EINVAL;
        } else if (kl == 5 && memcmp(k, "total", 5) == 0) {
            if (parse_count(v, vl, &total) || total == 0)
                return -EINVAL;
        } else if (kl == 4 && memcmp(k, "unit", 4) == 0) {
            if (!wp_work_unit_valid(v, vl))
                return -EINVAL;
            memcpy(unit, v, vl);
            unit[vl] = '\0';
        } else if (quality_key(k, kl, qn[nq < WP_WORK_MAX_QUALITY ? nq : 0], sizeof qn[0])) {
            char num[64];
            if (vl == 0 || vl >= sizeof num)
                return -EINVAL;
            memcpy(num, v, vl);
            num[vl] = '\0';
            if (nq == WP_WORK_MAX_QUALITY || wp_parse_double(num, &qv[nq]) != 0 ||
                !isfinite(qv[nq]))
                return -EINVAL;
            nq++;
        }
        /* other keys are the program's own: ignored, so formats can grow */
    }
    if (done < 0 && total < 0 && !unit[0] && nq == 0)
        return -EINVAL;
    for (int q = 0; q < nq; q++)
        keep_quality(w, qn[q], qv[q]);
    if (done >= 0) {
        if (!w->reported)
            w->first_done_s = t_s;
        w->done = done;
        w->last_done_s = t_s;
        w->reported = true;
    }
    if (total > 0 && !w->total_from_cli)
        w->total = total;
    if (unit[0] && !w->unit_from_cli)
        snprintf(w->unit, sizeof w->unit, "%s", unit);
    return 0;
}

/* Whether the command a dead wattprint started still runs (its pid in the
 * directory's "command" file): it may still append to the file. */
static bool command_alive(const char *dir)
{
    char file[600];
    long pid = 0;
    FILE *f;

    snprintf(file, sizeof file, "%s/command", dir);
    if (!(f = fopen(file, "r")))
        return false;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH);
}

/* Removes the progress directories of wattprint processes that died
 * (killed, so never cleaned up): this user's, named after a dead pid, whose
 * command has ended too (a command that outlived its wattprint keeps
 * appending to the file, and must not find it gone). */
static void clean_stale(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        char dir[512], file[600];
        struct stat st;
        long pid;
        if (sscanf(de->d_name, "wattprint-%ld-", &pid) != 1 || pid <= 0)
            continue;
        snprintf(dir, sizeof dir, "%s/%s", tmp, de->d_name);
        if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (command_alive(dir))
            continue;
        snprintf(file, sizeof file, "%s/progress", dir);
        unlink(file);
        snprintf(file, sizeof file, "%s/command", dir);
        unlink(file);
        rmdir(dir);
    }
    closedir(d);
}

int wp_progress_open(struct wp_progress **out, const struct wp_diag *diag)
{
    struct wp_progress *p = calloc(1, sizeof *p);
    const char *tmp = getenv("TMPDIR");

    if (!p)
        return -ENOMEM;
    if (diag)
        p->diag = *diag;
    if (!tmp || !*tmp || strlen(tmp) > 40)
        tmp = "/tmp";
    clean_stale(tmp);
    snprintf(p->dir, sizeof p->dir, "%s/wattprint-%ld-XXXXXX", tmp, (long)getpid());
    if (!mkdtemp(p->dir)) {
        int err = errno;
        free(p);
        return -err;
    }
    snprintf(p->path, sizeof p->path, "%s/progress", p->dir);
    /* read and write: the part read is punched out */
    p->fd = open(p->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (p->fd < 0) {
        int err = errno;
        rmdir(p->dir);
        free(p);
        return -err;
    }
    p->notify = -1; /* wp_progress_watch */
    *out = p;
    return 0;
}

int wp_progress_watch(struct wp_progress *p)
{
    if (!p)
        return -1;
    if (p->notify < 0 && (p->notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0 &&
        inotify_add_watch(p->notify, p->path, IN_MODIFY) < 0) {
        close(p->notify);
        p->notify = -1;
    }
    return p->notify;
}

void wp_progress_notify_drain(struct wp_progress *p)
{
    char events[4096];

    while (p->notify >= 0 && read(p->notify, events, sizeof events) > 0)
        ;
}

void wp_progress_command(const struct wp_progress *p, long pid)
{
    char file[160];
    FILE *f;

    if (!p)
        return;
    snprintf(file, sizeof file, "%s/command", p->dir);
    if ((f = fopen(file, "w"))) {
        fprintf(f, "%ld\n", pid);
        fclose(f);
    }
}

const char *wp_progress_path(const struct wp_progress *p)
{
    return p->path;
}

static void bad_line(struct wp_progress *p, struct wp_work *w, const char *why)
{
    w->malformed++;
    if (!p->warned)
        wp_diag(&p->diag, WP_HINT_NONE,
                "ignoring %s in WATTPRINT_PROGRESS (expected lines like "
                "\"done=1000 total=50000 unit=tokens\"); further ones are ignored silently",
                why);
    p->warned = true;
}

static void take(struct wp_progress *p, struct wp_work *w, const char *buf, ssize_t n, double t_s)
{
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\n') {
            if (p->skipping)
                continue;
            if (p->len < sizeof p->line)
                p->line[p->len++] = buf[i];
            else
                p->overflow = true;
            continue;
        }
        if (p->skipping)
            p->skipping = false; /* a whole line starts after this one */
        else if (p->overflow)
            bad_line(p, w, "a line over 4096 bytes");
        else if (p->len > 0 && wp_progress_line(w, p->line, p->len, t_s) != 0)
            bad_line(p, w, "a malformed line");
        p->len = 0;
        p->overflow = false;
    }
}

/* A flood: the last complete line before end is read alone, and reading
 * resumes after it (a line being written is read whole by the next poll).
 * A tail with no complete line (one over 4 KiB) is skipped to end. */
static void take_last_line(struct wp_progress *p, struct wp_work *w, off_t end, double t_s)
{
    char buf[2 * WP_PROGRESS_MAX_LINE + 2];
    off_t from = end - (off_t)sizeof buf > p->offset ? end - (off_t)sizeof buf : p->offset;
    ssize_t n = pread(p->fd, buf, (size_t)(end - from), from), last, first;

    p->len = 0;
    p->overflow = p->skipping = false;
    for (last = n - 1; last >= 0 && buf[last] != '\n'; last--)
        ;
    for (first = last - 1; first >= 0 && buf[first] != '\n'; first--)
        ;
    if (last < 0 || first < 0) { /* no whole line in the tail */
        p->offset = end;
        p->skipping = true;
        return;
    }
    take(p, w, buf + first + 1, last - first, t_s);
    p->offset = from + last + 1;
}

long wp_progress_poll(struct wp_progress *p, struct wp_work *w, double t_s)
{
    char buf[8192];
    struct stat st;
    off_t end, hole, start = p->offset;
    ssize_t n;

    if (fstat(p->fd, &st) != 0 || st.st_size <= p->offset)
        return 0;
    end = st.st_size; /* what is there now: a writer that goes on is not chased */
    if (end - p->offset > WP_PROGRESS_TAIL)
        take_last_line(p, w, end, t_s);
    while (p->offset < end &&
           (n = pread(
                p->fd, buf,
                (size_t)(end - p->offset < (off_t)sizeof buf ? end - p->offset : (off_t)sizeof buf),
                p->offset)) > 0) {
        p->offset += n;
        take(p, w, buf, n, t_s);
    }
    /* give the part read back to the filesystem; offsets stay valid */
    hole = p->offset & ~(off_t)4095;
    if (hole > 0)
        fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, hole);
    return (long)(end - start);
}

void wp_progress_close(struct wp_progress *p)
{
    if (!p)
        return;
    if (p->notify >= 0)
        close(p->notify);
    close(p->fd);
    unlink(p->path);
    {
        char file[160];
        snprintf(file, sizeof file, "%s/command", p->dir);
        unlink(file);
    }
    rmdir(p->dir);
    free(p);
}

bool wp_work_predict(const struct wp_work *w, double energy_j, double elapsed_s,
                     double *energy_total_j, double *duration_total_s)
{
    if (!(w->total > 0) || !(w->done > 0))
        return false;
    *energy_total_j = energy_j / w->done * w->total;
    *duration_total_s = elapsed_s / w->done * w->total;
    return true;
}
