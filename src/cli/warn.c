/* The CLI's one voice on stderr. */
#include "cli.h"

#include "../tune/power_limit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void wp_cli_restore_power_limits(const char *prog)
{
    char said[4096], *save = NULL;

    if (!wp_gpu_limit_restore_left(said, sizeof said))
        return;
    for (char *line = strtok_r(said, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        fprintf(stderr, "%s: %s\n", prog, line);
}

static void out_of_memory(void)
{
    wp_warn("out of memory building the output");
    exit(1);
}

void wp_cli_put(json_t *o, const char *key, json_t *v)
{
    if (json_object_set_new(o, key, v) != 0)
        out_of_memory();
}

void wp_cli_push(json_t *a, json_t *v)
{
    if (json_array_append_new(a, v) != 0)
        out_of_memory();
}

int wp_cli_json_element(FILE *f, json_t *v, bool first)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(10));

    if (!text)
        return -ENOMEM;
    fputs(first ? "\n  " : ",\n  ", f);
    /* line by line, each line after the first indented once more */
    for (const char *p = text, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
        nl = strchr(p, '\n');
        fwrite(p, 1, nl ? (size_t)(nl - p) + 1 : strlen(p), f);
        if (nl)
            fputs("  ", f);
    }
    free(text);
    return 0;
}
