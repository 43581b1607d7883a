/* archive_dl.c: resolves the libarchive functions opentoe uses, once,
 * through the one loader (dlsyms.h).  Only ExtractArchive and `opentoe vm`
 * call this; see archive_dl.h for why it is not linked. */
#include "archive_dl.h"

#include <stdbool.h>

#include "dlsyms.h"

#define SYM(field, name) DL_SYM(struct archive_api, field, name)

static const struct dl_sym syms[] = {
        SYM(read_new, "archive_read_new"),
        SYM(read_support_format_tar, "archive_read_support_format_tar"),
        SYM(read_support_format_zip, "archive_read_support_format_zip"),
        SYM(read_support_filter_gzip, "archive_read_support_filter_gzip"),
        SYM(read_support_filter_bzip2, "archive_read_support_filter_bzip2"),
        SYM(read_support_filter_xz, "archive_read_support_filter_xz"),
        /* Optional: zstd arrived in libarchive 3.3.3. */
        DL_SYM_OPTIONAL(struct archive_api, read_support_filter_zstd, "archive_read_support_filter_zstd"),
        SYM(read_open_fd, "archive_read_open_fd"),
        SYM(read_next_header, "archive_read_next_header"),
        SYM(read_data_block, "archive_read_data_block"),
        SYM(read_data_skip, "archive_read_data_skip"),
        SYM(read_free, "archive_read_free"),
        SYM(error_no, "archive_errno"),
        SYM(error_string, "archive_error_string"),
        SYM(format_name, "archive_format_name"),
        SYM(entry_pathname, "archive_entry_pathname"),
        SYM(entry_pathname_utf8, "archive_entry_pathname_utf8"),
        SYM(entry_symlink, "archive_entry_symlink"),
        SYM(entry_symlink_utf8, "archive_entry_symlink_utf8"),
        SYM(entry_hardlink, "archive_entry_hardlink"),
        SYM(entry_hardlink_utf8, "archive_entry_hardlink_utf8"),
        SYM(entry_filetype, "archive_entry_filetype"),
        SYM(entry_perm, "archive_entry_perm"),
        SYM(entry_size, "archive_entry_size"),
        SYM(entry_size_is_set, "archive_entry_size_is_set"),
        SYM(entry_mtime, "archive_entry_mtime"),
        SYM(entry_mtime_nsec, "archive_entry_mtime_nsec"),
        SYM(entry_mtime_is_set, "archive_entry_mtime_is_set"),
        SYM(write_new, "archive_write_new"),
        SYM(write_set_format_pax_restricted, "archive_write_set_format_pax_restricted"),
        SYM(write_set_bytes_in_last_block, "archive_write_set_bytes_in_last_block"),
        SYM(write_open_fd, "archive_write_open_fd"),
        SYM(write_header, "archive_write_header"),
        SYM(write_data, "archive_write_data"),
        SYM(write_finish_entry, "archive_write_finish_entry"),
        SYM(write_close, "archive_write_close"),
        SYM(write_free, "archive_write_free"),
        SYM(entry_new, "archive_entry_new"),
        SYM(entry_free, "archive_entry_free"),
        SYM(entry_set_pathname, "archive_entry_set_pathname"),
        SYM(entry_set_filetype, "archive_entry_set_filetype"),
        SYM(entry_set_perm, "archive_entry_set_perm"),
        SYM(entry_set_size, "archive_entry_set_size"),
        SYM(entry_set_mtime, "archive_entry_set_mtime"),
};

static struct archive_api api;
static bool loaded;

const struct archive_api *archive_api_get(char **reterr_msg)
{
        static const char *const names[] = { "libarchive.so.13", "libarchive.so" };
        struct archive_api a;
        void *h;

        /* A failure is not remembered: the next call tries again and
         * words it again, so no message outlives its call. */
        if (!loaded && dl_load(names, sizeof names / sizeof names[0], syms, sizeof syms / sizeof syms[0], &a,
                               "libarchive", "libarchive13", &h, reterr_msg) == 0) {
                api = a; /* the library stays loaded for the life of the process */
                loaded = true;
        }
        return loaded ? &api : NULL;
}
