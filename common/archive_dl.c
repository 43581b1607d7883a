/* archive_dl.c: resolves the libarchive functions opentoe uses, once.
 * Only ExtractArchive calls this; see archive_dl.h for why it is not
 * linked. */
#include "archive_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "errmsg.h"

static struct archive_api api;
static bool loaded;

#define RESOLVE(field, sym)                                                                \
        do {                                                                               \
                *(void **)&api.field = dlsym(h, sym);                                      \
                if (!api.field) {                                                          \
                        dlclose(h);                                                        \
                        return errmsg_set(reterr_msg, -ENOSYS,                             \
                                          "libarchive lacks %s; install a newer libarchive13", sym); \
                }                                                                          \
        } while (0)

static int load(char **reterr_msg)
{
        static const char *const names[] = { "libarchive.so.13", "libarchive.so" };
        void *h = NULL;

        for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++)
                h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return errmsg_set(reterr_msg, -ENOSYS,
                                  "cannot load libarchive (%s); install the Debian package libarchive13", dlerror());
        RESOLVE(read_new, "archive_read_new");
        RESOLVE(read_support_format_tar, "archive_read_support_format_tar");
        RESOLVE(read_support_format_zip, "archive_read_support_format_zip");
        RESOLVE(read_support_filter_gzip, "archive_read_support_filter_gzip");
        RESOLVE(read_support_filter_bzip2, "archive_read_support_filter_bzip2");
        RESOLVE(read_support_filter_xz, "archive_read_support_filter_xz");
        RESOLVE(read_open_fd, "archive_read_open_fd");
        RESOLVE(read_next_header, "archive_read_next_header");
        RESOLVE(read_data_block, "archive_read_data_block");
        RESOLVE(read_data_skip, "archive_read_data_skip");
        RESOLVE(read_free, "archive_read_free");
        RESOLVE(error_no, "archive_errno");
        RESOLVE(error_string, "archive_error_string");
        RESOLVE(format_name, "archive_format_name");
        RESOLVE(entry_pathname, "archive_entry_pathname");
        RESOLVE(entry_pathname_utf8, "archive_entry_pathname_utf8");
        RESOLVE(entry_symlink, "archive_entry_symlink");
        RESOLVE(entry_symlink_utf8, "archive_entry_symlink_utf8");
        RESOLVE(entry_hardlink, "archive_entry_hardlink");
        RESOLVE(entry_hardlink_utf8, "archive_entry_hardlink_utf8");
        RESOLVE(entry_filetype, "archive_entry_filetype");
        RESOLVE(entry_perm, "archive_entry_perm");
        RESOLVE(entry_size, "archive_entry_size");
        RESOLVE(entry_size_is_set, "archive_entry_size_is_set");
        RESOLVE(entry_mtime, "archive_entry_mtime");
        RESOLVE(entry_mtime_nsec, "archive_entry_mtime_nsec");
        RESOLVE(entry_mtime_is_set, "archive_entry_mtime_is_set");
        /* Optional: zstd arrived in libarchive 3.3.3. */
        *(void **)&api.read_support_filter_zstd = dlsym(h, "archive_read_support_filter_zstd");
        return 0;
}

const struct archive_api *archive_api_get(char **reterr_msg)
{
        /* A failure is not remembered: the next call tries again and
         * words it again, so no message outlives its call. */
        if (!loaded)
                loaded = load(reterr_msg) == 0;
        return loaded ? &api : NULL;
}
