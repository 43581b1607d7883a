/* web_download_room.h: where a WebDownload body goes while it arrives:
 * its temporary file beside the destination (made, renamed into place,
 * or removed), written in WD_BUFFER_SIZE pieces, never cutting into the
 * reserve of free space kept on the file system (the rules are in
 * web_download_room.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "strbuf.h"

struct hash_ctx;

/* libcurl's receive buffer, and ours for writing: libcurl hands the body
 * over in pieces of at most 16 KiB, which are gathered into writes of this
 * size (a sixteenth of the system calls). */
#define WD_BUFFER_SIZE (256L * 1024)
/* The default reserve of free space is the larger of this and 1% of the
 * file system: room for the logs, package databases and journals of the
 * build that goes on after the download, also on a small root volume. */
#define WD_RESERVE_MIN (64ULL * 1024 * 1024)
#define WD_RESERVE_ENV "OPENTOE_HTTP_DISK_RESERVE_BYTES"
/* Bytes written at most between two measures of the free space: 256
 * fstatvfs calls per GiB, which cost nothing measurable. */
#define WD_SPACE_CHECK_BYTES (4ULL * 1024 * 1024)

/* Why the stream stopped a 200 body (beyond a failed write or hash). */
enum wd_room_stop {
        WD_ROOM_NONE,
        WD_ROOM_NO_ROOM,                /* the declared length does not fit */
        WD_ROOM_FULL,                   /* writing on would cut into the reserve */
        WD_ROOM_EXCESS,                 /* more bytes than Content-Length */
        WD_ROOM_STATVFS,                /* the free space cannot be measured */
};

struct wd_room {
        int fd;                         /* the temporary file */
        const char *dir;                /* the destination's folder, for messages */
        bool reserve_set;               /* WD_RESERVE_ENV holds a valid value */
        uint64_t reserve_value;         /* that value */
        char *buf;                      /* WD_BUFFER_SIZE bytes not yet written */
        size_t buf_len;
        uint64_t written;               /* bytes written to the temporary file */
        int64_t declared;               /* the body's Content-Length, -1 when none */
        uint64_t room;                  /* bytes that may be written before measuring again */
        uint64_t avail;                 /* free space at the last measure (f_bavail * f_frsize) */
        uint64_t reserve;               /* bytes kept free on that file system */
        int write_err;                  /* errno of a failed write */
        int statvfs_err;                /* errno of a failed fstatvfs */
        enum wd_room_stop stop;
};

/* Starts an attempt on fd (from its start; the buffer is kept). */
void wd_room_reset(struct wd_room *x, int fd);
/* The end of a 200 response's headers, or else the first piece of its
 * body: learns the declared length and refuses a body that would not fit
 * above the reserve, before any of it is read.  Returns 0 to go on. */
int wd_room_start(struct wd_room *x, int64_t declared);
/* Takes n bytes of the body: buffered, or written.  0, or -1 with
 * x->stop or x->write_err saying why. */
int wd_room_put(struct wd_room *x, const char *data, size_t n);
/* Writes what is buffered; the same answers. */
int wd_room_flush(struct wd_room *x);
/* Why the room stopped the body (x->stop), for the entry's message. */
void wd_room_stop_text(const struct wd_room *x, struct strbuf *why);

/* The temporary file of one entry; removed unless renamed into place. */
struct wd_tmp {
        char *path;
        int fd;
};

/* The folder part of a path ("." when there is none), without trailing
 * slashes except for "/" itself; allocated. */
char *wd_path_parent(const char *path);
/* Creates "<folder>/.<name>.opentoe-XXXXXX" beside dest: 0 or -errno. */
int wd_tmp_create(const char *dest, struct wd_tmp *t);
/* Closes and removes it (nothing when already renamed into place). */
void wd_tmp_remove(struct wd_tmp *t);
/* Flushes the temporary file and renames it to dest; with overwrite
 * false an existing destination is never replaced, even one that
 * appeared while downloading.  A file that is replaced passes its
 * permissions on; a new one gets `mode`.  Returns 0 or -errno (-EEXIST:
 * the destination exists). */
int wd_tmp_commit(struct wd_tmp *t, const char *dest, bool overwrite, mode_t mode);
/* 0666 less the umask, as curl -o gives a new file. */
mode_t wd_file_mode(void);

/* A body on its way: the room it is written in, and the digest of what
 * it took. */
struct wd_body {
        struct wd_room room;
        struct hash_ctx *hash;          /* NULL: no checksum to verify */
        bool hash_failed;
};

/* The transport's stream callbacks (struct aws_http_stream), userdata a
 * struct wd_body.  At the end of each response's headers: only a 200
 * body is taken (1), through wd_room_start(); the body of any other
 * response ends the transfer (0), which is then reported by its status. */
int wd_body_accept(void *userdata, long status, int64_t declared);
/* A piece of the 200 body, within its declared length: written, and
 * hashed; -1 stops the transfer (room.stop, room.write_err, hash_failed). */
int wd_body_data(void *userdata, const char *data, size_t n);
