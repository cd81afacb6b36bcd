/* The CLI's one voice on stderr. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

void wp_warn(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* One write, so lines from wattprint and the command do not interleave mid-line. */
    fprintf(stderr, "wattprint: %s\n", buf);
}
