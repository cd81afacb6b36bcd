/* Starting the measured command without a shell, forwarding signals to it,
 * and turning how it ended into wattprint's exit status. */
#ifndef WP_SPAWN_H
#define WP_SPAWN_H

#include <sys/types.h>

struct wp_child_end {
    int exit_status; /* what wattprint exits with: code, 128+signal, 126, 127 */
    int exit_code;   /* the command's exit code, -1 if it did not exit normally */
    int signal;      /* the signal that ended it, 0 if none */
    int exec_errno;  /* why it could not be started, 0 if it was */
    int forwarded;   /* the last signal wattprint received and forwarded, 0 if none */
};

/* Installs the forwarding handlers for SIGINT, SIGTERM, SIGHUP and SIGQUIT.
 * Call before wp_spawn_run. */
void wp_spawn_install_handlers(void);

/* What wp_spawn_run calls: started(ctx, pid) once the command is forked,
 * exited(ctx) once it has ended but before it is reaped, while its /proc
 * entry still holds its CPU time (either NULL: no call). */
struct wp_spawn_hooks {
    void (*started)(void *ctx, pid_t pid);
    void (*exited)(void *ctx);
    void *ctx;
};

/* Runs argv[0] (searched in PATH, never through a shell) with wattprint's own
 * stdin/stdout/stderr, calls the hooks, waits for it, and fills *end.
 * Returns 0, or a negative errno when it could not fork. */
int wp_spawn_run(char *const argv[], const struct wp_spawn_hooks *hooks, struct wp_child_end *end);

#endif
