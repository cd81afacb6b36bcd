/* libwattprint.so's one source of its own: the API lives in api.c and
 * support.c, linked whole from the core; libwattprint.map exports only
 * wattprint_* from it. */
#include "wattprint.h"

const char *(*const wp_export_anchor)(void) = wattprint_version;
