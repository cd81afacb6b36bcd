/* Loading a shared library at run time with every symbol checked: vendor GPU
 * libraries (never linked) and libcurl (loaded only when needed). */
#ifndef WP_DL_H
#define WP_DL_H

#include <stddef.h>

struct wp_dl_sym {
    void **fn;
    const char *name;
};

/* dlopens path (or, when env_var names a non-empty variable, its value) and
 * resolves every symbol into *syms[i].fn. Returns the handle (dlclose it), or
 * NULL with "WHAT: why" in why when the library or a symbol is missing. */
void *wp_dl_load(const char *env_var, const char *path, const struct wp_dl_sym *syms, size_t n,
                 const char *what, char *why, size_t cap);

#endif
