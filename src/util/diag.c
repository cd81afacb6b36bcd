/* Diagnostics: formatted once, handed to the front end's sink. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>

void wp_diag(const struct wp_diag *d, enum wp_hint hint, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!d || !d->fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->fn(d->ctx, hint, msg);
}
