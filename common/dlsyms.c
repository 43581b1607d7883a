/* dlsyms.c: dlopen and a table of resolved functions (dlsyms.h). */
#include "dlsyms.h"

#include <dlfcn.h>
#include <errno.h>

#include "errmsg.h"

int dl_load(const char *const *names, size_t n_names, const struct dl_sym *syms, size_t n_syms, void *api,
            const char *what, const char *package, void **ret_handle, char **reterr_msg)
{
        void *h = NULL;

        for (size_t i = 0; i < n_names && !h; i++)
                h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return errmsg_set(reterr_msg, -ENOSYS, "cannot load %s (%s); install the Debian package %s", what,
                                  dlerror(), package);
        for (size_t i = 0; i < n_syms; i++) {
                void *f = dlsym(h, syms[i].name);

                if (!f && !syms[i].optional) {
                        dlclose(h);
                        return errmsg_set(reterr_msg, -ENOSYS, "%s lacks %s; install a newer %s", what, syms[i].name,
                                          package);
                }
                *(void **)((char *)api + syms[i].offset) = f;
        }
        *ret_handle = h;
        return 0;
}
