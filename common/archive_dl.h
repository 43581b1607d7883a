/* archive_dl.h: libarchive, loaded with dlopen on first use.  libarchive
 * pulls in about 18 shared libraries (its compression and crypto
 * back-ends), so only ExtractArchive and `opentoe vm` load it; every other command and
 * action never pays for it.  <archive.h> and <archive_entry.h> are
 * included for their types and constants only; every call goes through
 * struct archive_api. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct archive_api {
        struct archive *(*read_new)(void);
        int (*read_support_format_tar)(struct archive *a);
        int (*read_support_format_zip)(struct archive *a);
        int (*read_support_filter_gzip)(struct archive *a);
        int (*read_support_filter_bzip2)(struct archive *a);
        int (*read_support_filter_xz)(struct archive *a);
        /* NULL when libarchive is older than 3.3.3 (no zstd support). */
        int (*read_support_filter_zstd)(struct archive *a);
        int (*read_open_fd)(struct archive *a, int fd, size_t block_size);
        int (*read_next_header)(struct archive *a, struct archive_entry **ret_entry);
        int (*read_data_block)(struct archive *a, const void **ret_buf, size_t *ret_size,
                               la_int64_t *ret_offset);
        int (*read_data_skip)(struct archive *a);
        int (*read_free)(struct archive *a);
        int (*error_no)(struct archive *a);
        const char *(*error_string)(struct archive *a);
        const char *(*format_name)(struct archive *a);

        /* Names in the locale's encoding; NULL when they cannot be
         * converted to it (UTF-8 names in the C locale), and then the
         * _utf8 forms give them. */
        const char *(*entry_pathname)(struct archive_entry *e);
        const char *(*entry_pathname_utf8)(struct archive_entry *e);
        const char *(*entry_symlink)(struct archive_entry *e);
        const char *(*entry_symlink_utf8)(struct archive_entry *e);
        const char *(*entry_hardlink)(struct archive_entry *e);
        const char *(*entry_hardlink_utf8)(struct archive_entry *e);
        mode_t (*entry_filetype)(struct archive_entry *e);
        mode_t (*entry_perm)(struct archive_entry *e);
        la_int64_t (*entry_size)(struct archive_entry *e);
        int (*entry_size_is_set)(struct archive_entry *e);
        time_t (*entry_mtime)(struct archive_entry *e);
        long (*entry_mtime_nsec)(struct archive_entry *e);
        int (*entry_mtime_is_set)(struct archive_entry *e);

        /* The write side (opentoe vm's in.tar): a plain tar to a file
         * descriptor, entries built by hand. */
        struct archive *(*write_new)(void);
        int (*write_set_format_pax_restricted)(struct archive *a);
        int (*write_set_bytes_in_last_block)(struct archive *a, int bytes);
        int (*write_open_fd)(struct archive *a, int fd);
        int (*write_header)(struct archive *a, struct archive_entry *e);
        la_ssize_t (*write_data)(struct archive *a, const void *buf, size_t size);
        int (*write_finish_entry)(struct archive *a);
        int (*write_close)(struct archive *a);
        int (*write_free)(struct archive *a);
        struct archive_entry *(*entry_new)(void);
        void (*entry_free)(struct archive_entry *e);
        void (*entry_set_pathname)(struct archive_entry *e, const char *name);
        void (*entry_set_filetype)(struct archive_entry *e, unsigned int type);
        void (*entry_set_perm)(struct archive_entry *e, mode_t perm);
        void (*entry_set_size)(struct archive_entry *e, la_int64_t size);
        void (*entry_set_mtime)(struct archive_entry *e, time_t sec, long nsec);
};

/* Loads libarchive once.  Returns NULL when it cannot be loaded, with
 * *reterr_msg (when reterr_msg is not NULL; allocated, the caller frees
 * it) naming the Debian package to install. */
const struct archive_api *archive_api_get(char **reterr_msg);
