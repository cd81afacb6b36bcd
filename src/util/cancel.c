/* One flag a signal handler may set and any thread may read. */
#include "cancel.h"

#include <signal.h>

static volatile sig_atomic_t requested;

void wp_cancel_request(void)
{
    requested = 1;
}

bool wp_cancelled(void)
{
    return requested != 0;
}
