/* archive_dl.h: libarchive, loaded with dlopen on first use.  libarchive
 * pulls in about 18 shared libraries (its compression and crypto
 * back-ends), so only ExtractArchive and `opentoe vm` load it; every other command and
 * action never pays for it.  <archive.h> and <archive_entry.h> are
 * included for their types, constants and declarations (whose types the
 * table's fields take) only; every call goes through struct archive_api. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "dlsyms.h"

/* Every function opentoe calls: FN(field, the library's name). */
#define ARCHIVE_API_FUNCTIONS(FN, FN_OPTIONAL) \
        FN(read_new, archive_read_new) \
        FN(read_support_format_tar, archive_read_support_format_tar) \
        FN(read_support_format_zip, archive_read_support_format_zip) \
        FN(read_support_filter_gzip, archive_read_support_filter_gzip) \
        FN(read_support_filter_bzip2, archive_read_support_filter_bzip2) \
        FN(read_support_filter_xz, archive_read_support_filter_xz) \
        /* NULL when libarchive is older than 3.3.3 (no zstd support). */ \
        FN_OPTIONAL(read_support_filter_zstd, archive_read_support_filter_zstd) \
        FN(read_open_fd, archive_read_open_fd) \
        FN(read_next_header, archive_read_next_header) \
        FN(read_data_block, archive_read_data_block) \
        FN(read_data_skip, archive_read_data_skip) \
        FN(read_free, archive_read_free) \
        FN(error_no, archive_errno) \
        FN(error_string, archive_error_string) \
        FN(format_name, archive_format_name) \
        /* Names in the locale's encoding; NULL when they cannot be \
         * converted to it (UTF-8 names in the C locale), and then the \
         * _utf8 forms give them. */ \
        FN(entry_pathname, archive_entry_pathname) \
        FN(entry_pathname_utf8, archive_entry_pathname_utf8) \
        FN(entry_symlink, archive_entry_symlink) \
        FN(entry_symlink_utf8, archive_entry_symlink_utf8) \
        FN(entry_hardlink, archive_entry_hardlink) \
        FN(entry_hardlink_utf8, archive_entry_hardlink_utf8) \
        FN(entry_filetype, archive_entry_filetype) \
        FN(entry_perm, archive_entry_perm) \
        FN(entry_size, archive_entry_size) \
        FN(entry_size_is_set, archive_entry_size_is_set) \
        FN(entry_mtime, archive_entry_mtime) \
        FN(entry_mtime_nsec, archive_entry_mtime_nsec) \
        FN(entry_mtime_is_set, archive_entry_mtime_is_set) \
        /* The write side (opentoe vm's in.tar): a plain tar to a file \
         * descriptor, entries built by hand. */ \
        FN(write_new, archive_write_new) \
        FN(write_set_format_pax_restricted, archive_write_set_format_pax_restricted) \
        FN(write_set_bytes_in_last_block, archive_write_set_bytes_in_last_block) \
        FN(write_open_fd, archive_write_open_fd) \
        FN(write_header, archive_write_header) \
        FN(write_data, archive_write_data) \
        FN(write_finish_entry, archive_write_finish_entry) \
        FN(write_close, archive_write_close) \
        FN(write_free, archive_write_free) \
        FN(entry_new, archive_entry_new) \
        FN(entry_free, archive_entry_free) \
        FN(entry_set_pathname, archive_entry_set_pathname) \
        FN(entry_set_filetype, archive_entry_set_filetype) \
        FN(entry_set_perm, archive_entry_set_perm) \
        FN(entry_set_size, archive_entry_set_size) \
        FN(entry_set_mtime, archive_entry_set_mtime)

struct archive_api {
        ARCHIVE_API_FUNCTIONS(DL_FIELD, DL_FIELD)
};

/* Loads libarchive once.  Returns NULL when it cannot be loaded, with
 * *reterr_msg (when reterr_msg is not NULL; allocated, the caller frees
 * it) naming the Debian package to install. */
const struct archive_api *archive_api_get(char **reterr_msg);
