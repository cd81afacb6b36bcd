/* Starting the measured command without a shell, forwarding signals to it,
 * and turning how it ended into wattprint's exit status. */
#define _GNU_SOURCE
#include "spawn.h"

#include "../util/cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t g_child;
static volatile sig_atomic_t g_forwarded, g_ended;

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
    int saved = errno;

    (void)uctx;
    g_forwarded = sig;
    /* after the command: what wattprint still waits for (a FIFO's reader, a
     * locked ledger) gives up, and the result is kept without waiting */
    if (g_ended)
        wp_cancel_request();
    /* A signal from the terminal (SI_KERNEL) already reached the command, which
     * shares our process group; sending it again would deliver it twice. */
    if (g_child > 0 && info->si_code != SI_KERNEL)
        kill((pid_t)g_child, sig);
    errno = saved;
}

void wp_spawn_install_handlers(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof *forwarded_signals; i++)
        sigaction(forwarded_signals[i], &sa, NULL);
}

static void restore_default_handlers(void)
{
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof *forwarded_signals; i++)
        signal(forwarded_signals[i], SIG_DFL);
}

int wp_spawn_run(char *const argv[], const struct wp_spawn_hooks *hooks, struct wp_child_end *end)
{
    int pipefd[2], err = 0, status;
    ssize_t n;
    pid_t pid;

    memset(end, 0, sizeof *end);
    end->exit_code = -1;
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    pid = fork();
    if (pid < 0) {
        err = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return -err;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        sigset_t none;
        close(pipefd[0]);
        restore_default_handlers();
        signal(SIGPIPE, SIG_DFL); /* wattprint ignores it; the command must not inherit that */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], argv);
        err = errno;
        (void)!write(pipefd[1], &err, sizeof err);
        _exit(127);
    }
    g_child = pid;
    if (hooks->started)
        hooks->started(hooks->ctx, pid);
    /* A signal that arrived before the child existed is passed on now. */
    if (g_forwarded)
        kill(pid, g_forwarded);
    close(pipefd[1]);
    do
        n = read(pipefd[0], &err, sizeof err);
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);

    if (hooks->exited) {
        siginfo_t info;
        int w;
        while ((w = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT)) < 0 && errno == EINTR)
            ;
        if (w == 0)
            hooks->exited(hooks->ctx);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = 0;
            break;
        }
    }
    /* The handlers stay: a late signal must not stop wattprint before it has
     * written the result. */
    g_child = 0;
    g_ended = 1;
    end->forwarded = g_forwarded;

    if (n == (ssize_t)sizeof err) {
        end->exec_errno = err;
        end->exit_status = (err == ENOENT || err == ENOTDIR) ? 127 : 126;
    } else if (WIFEXITED(status)) {
        end->exit_code = WEXITSTATUS(status);
        end->exit_status = end->exit_code;
    } else if (WIFSIGNALED(status)) {
        end->signal = WTERMSIG(status);
        end->exit_status = 128 + end->signal;
    }
    return 0;
}
