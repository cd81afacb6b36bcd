/* Anchors libwattprint.so: the API itself lives in api.c, linked whole. */
#include "wattprint.h"

const char *(*const wp_export_anchor)(void) = wattprint_version;
