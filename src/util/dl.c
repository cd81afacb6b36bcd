/* Loading a shared library at run time with every symbol checked. */
#include "dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void *wp_dl_load(const char *env_var, const char *path, const struct wp_dl_sym *syms, size_t n,
                 const char *what, char *why, size_t cap)
{
    const char *env = env_var ? getenv(env_var) : NULL;
    void *lib;

    if (env && *env)
        path = env;
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(why, cap, "%s: cannot load %s (%s)", what, path, dlerror());
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(*syms[i].fn = dlsym(lib, syms[i].name))) {
            snprintf(why, cap, "%s: %s lacks %s", what, path, syms[i].name);
            dlclose(lib);
            return NULL;
        }
    }
    return lib;
}
