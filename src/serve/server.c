/* The HTTP endpoint (libmicrohttpd) and the Unix socket of wattprint serve.
 * /metrics serves a text regenerated after each reading, so a scrape costs a
 * copy, not a formatting pass, however many scrapers there are.
 * libmicrohttpd is loaded with dlopen when serve starts: linked, it and the
 * TLS stack it depends on (ten libraries) added about 5 ms to every
 * `wattprint run`, which never serves HTTP. */
#define _GNU_SOURCE
#include "serve.h"

#include "../util/dl.h"
#include "../util/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static struct {
    struct MHD_Daemon *(*start)(unsigned, uint16_t, MHD_AcceptPolicyCallback, void *,
                                MHD_AccessHandlerCallback, void *, ...);
    void (*stop)(struct MHD_Daemon *);
    struct MHD_Response *(*create)(size_t, void *, enum MHD_ResponseMemoryMode);
    enum MHD_Result (*header)(struct MHD_Response *, const char *, const char *);
    enum MHD_Result (*queue)(struct MHD_Connection *, unsigned, struct MHD_Response *);
    void (*destroy)(struct MHD_Response *);
} mhd;

static int load_mhd(char *err, size_t cap)
{
    static void *lib;
    const struct wp_dl_sym syms[] = {
        {(void **)&mhd.start, "MHD_start_daemon"},
        {(void **)&mhd.stop, "MHD_stop_daemon"},
        {(void **)&mhd.create, "MHD_create_response_from_buffer"},
        {(void **)&mhd.header, "MHD_add_response_header"},
        {(void **)&mhd.queue, "MHD_queue_response"},
        {(void **)&mhd.destroy, "MHD_destroy_response"},
    };

    if (!lib)
        lib = wp_dl_load(NULL, "libmicrohttpd.so.12", syms, sizeof syms / sizeof *syms,
                         "libmicrohttpd", err, cap);
    return lib ? 0 : -ENOSYS;
}

struct wp_server {
    struct wp_serve_source src;
    const struct wp_assumptions *assume;
    struct wp_server_opts o;
    struct MHD_Daemon *http;
    pthread_mutex_t mu; /* guards text */
    char *text;
    size_t len;
    int sock, stop_pipe[2];
    pthread_t sock_thread;
    bool sock_running;
    char sock_path[108];
};

void wp_server_refresh(void *arg)
{
    struct wp_server *s = arg;
    struct wp_reading r;
    size_t len;
    char *text, *old;

    if (s->src.read(s->src.ctx, -1, &r) != 0)
        return;
    struct wp_serve_work work = {0};
    if (s->src.work)
        s->src.work(s->src.work_ctx, &work);
    text = wp_metrics_text(&r, s->assume, s->o.carbon, s->src.work ? &work : NULL, &len);
    wp_reading_free(&r);
    if (!text)
        return;
    pthread_mutex_lock(&s->mu);
    old = s->text;
    s->text = text;
    s->len = len;
    pthread_mutex_unlock(&s->mu);
    free(old);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *r = mhd.create(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    if (!r)
        return MHD_NO;
    mhd.header(r, "Content-Type", type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        mhd.header(r, "Allow", "GET, HEAD");
    rc = mhd.queue(c, status, r);
    mhd.destroy(r);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req)
{
    static const char text_type[] = "text/plain; charset=utf-8";
    struct wp_server *s = cls;

    (void)version;
    (void)upload;
    (void)req;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        *upload_size = 0; /* any body is ignored */
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text_type, "method not allowed\n", 19);
    }
    if (strcmp(url, "/metrics") == 0) {
        enum MHD_Result rc;
        pthread_mutex_lock(&s->mu);
        rc = reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", s->text, s->len);
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    if (strcmp(url, "/healthz") == 0)
        return reply(c, MHD_HTTP_OK, text_type, "ok\n", 3);
    if (strcmp(url, "/") == 0)
        return reply(c, MHD_HTTP_OK, text_type, "wattprint serve: see /metrics\n", 30);
    return reply(c, MHD_HTTP_NOT_FOUND, text_type, "not found\n", 10);
}

/* The socket: each connection gets one snapshot and is closed. */
static void *sock_loop(void *arg)
{
    struct wp_server *s = arg;
    struct pollfd p[2] = {{s->sock, POLLIN, 0}, {s->stop_pipe[0], POLLIN, 0}};

    for (;;) {
        struct wp_reading r;
        int fd;
        char *json;
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        fd = accept4(s->sock, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        {
            struct timeval tv = {1, 0}; /* a client that does not read is dropped */
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        }
        /* At most one fresh reading per resolution interval, whatever the rate of
         * requests: RAPL at high rates is a side channel (PLATYPUS). */
        json = NULL;
        if (s->src.read(s->src.ctx, s->o.socket_resolution_s, &r) == 0) {
            json = wp_snapshot_json(&r);
            wp_reading_free(&r);
        }
        if (json) {
            size_t n = strlen(json), off = 0;
            while (off < n) {
                /* a client that went away must not kill the daemon with SIGPIPE */
                ssize_t k = send(fd, json + off, n - off, MSG_NOSIGNAL);
                if (k <= 0)
                    break;
                off += (size_t)k;
            }
            free(json);
        }
        close(fd);
    }
    return NULL;
}

/* Binds with the socket file created in its final mode: the umask is set
 * around bind, so there is no chmod by path that a swapped link could
 * redirect. (No other thread creates files while the server starts.) */
static int bind_with_mode(int fd, const struct sockaddr_un *addr, unsigned mode)
{
    mode_t old = umask((mode_t)(~mode & 0777));
    int rc = bind(fd, (const struct sockaddr *)addr, sizeof *addr), e = errno;

    umask(old);
    errno = e;
    return rc;
}

/* Connections the descriptor limit leaves room for, at most 16,384. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    rlim_t n = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;

    n = n > 64 ? n - 64 : 16; /* the daemon's own files */
    return (unsigned)(n < 16384 ? n : 16384);
}

static int open_socket(struct wp_server *s, char *err, size_t cap)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct stat st;

    if (strlen(s->o.socket_path) >= sizeof addr.sun_path) {
        snprintf(err, cap, "socket %s: path too long", s->o.socket_path);
        return -ENAMETOOLONG;
    }
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", s->o.socket_path);
    snprintf(s->sock_path, sizeof s->sock_path, "%s", s->o.socket_path);
    /* replace a stale socket of a previous daemon, never any other file */
    if (lstat(addr.sun_path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, cap, "socket %s: exists and is not a socket", s->o.socket_path);
            return -EEXIST;
        }
        unlink(addr.sun_path);
    }
    s->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->sock < 0 || bind_with_mode(s->sock, &addr, s->o.socket_mode) != 0 ||
        listen(s->sock, 64) != 0 || pipe2(s->stop_pipe, O_CLOEXEC) != 0) {
        snprintf(err, cap, "socket %s: %s", s->o.socket_path, strerror(errno));
        return -EIO;
    }
    if (pthread_create(&s->sock_thread, NULL, sock_loop, s) != 0) {
        snprintf(err, cap, "socket: cannot start its thread");
        return -EIO;
    }
    s->sock_running = true;
    return 0;
}

static int open_http(struct wp_server *s, char *err, size_t cap)
{
    struct sockaddr_in in4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->o.port)};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)s->o.port)};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    const struct sockaddr *addr;

    if (inet_pton(AF_INET, s->o.listen_addr, &in4.sin_addr) == 1) {
        addr = (const struct sockaddr *)&in4;
    } else if (inet_pton(AF_INET6, s->o.listen_addr, &in6.sin6_addr) == 1) {
        addr = (const struct sockaddr *)&in6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, cap, "listen address '%s' is not an IPv4 or IPv6 address", s->o.listen_addr);
        return -EINVAL;
    }
    if (load_mhd(err, cap))
        return -EINVAL;
    /* Idle connections must not keep a scrape waiting: room for many (as
     * many as descriptors allow), and an idle one is closed after 3 s. */
    s->http = mhd.start(flags, (uint16_t)s->o.port, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR,
                        addr, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT,
                        connection_limit(), MHD_OPTION_CONNECTION_TIMEOUT, 3u, MHD_OPTION_END);
    if (!s->http) {
        snprintf(err, cap, "%s:%d: cannot listen (in use, or not allowed)", s->o.listen_addr,
                 s->o.port);
        return -EADDRINUSE;
    }
    return 0;
}

int wp_server_start(const struct wp_serve_source *src, const struct wp_assumptions *a,
                    const struct wp_server_opts *o, struct wp_server **out, char *err, size_t cap)
{
    struct wp_server *s = calloc(1, sizeof *s);

    if (!s) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    s->src = *src;
    s->assume = a;
    s->o = *o;
    s->sock = -1;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    pthread_mutex_init(&s->mu, NULL);
    wp_server_refresh(s);
    if ((o->port > 0 && open_http(s, err, cap)) || (o->socket_path && open_socket(s, err, cap))) {
        wp_server_stop(s);
        return -EIO;
    }
    *out = s;
    return 0;
}

void wp_server_stop(struct wp_server *s)
{
    if (!s)
        return;
    if (s->http)
        mhd.stop(s->http);
    if (s->sock_running) {
        (void)!write(s->stop_pipe[1], "x", 1);
        pthread_join(s->sock_thread, NULL);
    }
    if (s->sock >= 0) {
        close(s->sock);
        unlink(s->sock_path);
    }
    if (s->stop_pipe[0] >= 0) {
        close(s->stop_pipe[0]);
        close(s->stop_pipe[1]);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->text);
    free(s);
}
