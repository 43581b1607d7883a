/* fs_entries.c: the file-system actions' entry driver (fs_entries.h). */
#include "fs_entries.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsencoding.h"
#include "fsperm.h"
#include "strbuf.h"

/* The fs_job stop question, answered by the runner. */
static int entry_stop(struct fs_job *j, char **reterr_msg)
{
        switch (action_stop_reason(fs_entry_ctx(j))) {
        case ACTION_CANCEL_DEADLINE:
                j->timed_out = true;
                return fs_fail(reterr_msg, -ETIME, "the step timed out before the entry was done");
        case ACTION_CANCEL_INTERRUPT:
                return fs_fail(reterr_msg, -EINTR, "the run was interrupted before the entry was done");
        default:
                return 0;
        }
}

const struct action_ctx *fs_entry_ctx(const struct fs_job *j)
{
        return j->userdata;
}

const char *fs_entry_str(const json_t *entry, const char *name)
{
        const char *s = json_string_value(json_object_get(entry, name));

        return s ? s : "";
}

int fs_entry_flag(const json_t *entry, const char *name, bool dflt, bool *ret, char **reterr_msg)
{
        if (action_input_bool(entry, name, dflt, ret) < 0)
                return fs_fail(reterr_msg, -EINVAL, "%s must be true or false", name);
        return 0;
}

int fs_entry_path(const json_t *entry, const char **ret, char **reterr_msg)
{
        *ret = fs_entry_str(entry, "path");
        if (!**ret)
                return fs_fail(reterr_msg, -EINVAL, "path is empty");
        return 0;
}

int fs_entry_encoding(const json_t *entry, const char **ret_name, const char **ret_enc, char **reterr_msg)
{
        *ret_name = fs_entry_str(entry, "encoding");
        *ret_enc = fs_encoding(*ret_name);
        if (!*ret_enc)
                return fs_fail(reterr_msg, -EINVAL, "unknown encoding '%s'", *ret_name);
        return 0;
}

int fs_entry_content(const json_t *entry, const char *enc, char **ret_data, size_t *ret_len, char **reterr_msg)
{
        const json_t *content = json_object_get(entry, "content");
        const char *s = json_string_value(content);

        return fs_encode(enc, s ? s : "", json_string_length(content), ret_data, ret_len, reterr_msg);
}

int fs_entry_owner(const json_t *entry, uid_t *ret_uid, gid_t *ret_gid, char **reterr_msg)
{
        const char *owner = fs_entry_str(entry, "owner");
        const char *group = fs_entry_str(entry, "group");
        int r;

        if (!*owner)
                return fs_fail(reterr_msg, -EINVAL, "owner is empty");
        r = fs_lookup_user(owner, ret_uid, ret_gid, reterr_msg);
        if (r >= 0 && *group)
                r = fs_lookup_group(group, ret_gid, reterr_msg);
        return r;
}

int fs_entry_access(const json_t *entry, mode_t *ret_mode, uid_t *ret_uid, gid_t *ret_gid, char **reterr_msg)
{
        const char *owner = fs_entry_str(entry, "owner");
        const char *group = fs_entry_str(entry, "group");
        const char *permissions = fs_entry_str(entry, "permissions");
        gid_t owner_gid;
        int r;

        *ret_uid = (uid_t)-1;
        *ret_gid = (gid_t)-1;
        if (*permissions && (r = fs_parse_mode(permissions, ret_mode, reterr_msg)) < 0)
                return r;
        if (*owner && (r = fs_lookup_user(owner, ret_uid, &owner_gid, reterr_msg)) < 0)
                return r;
        if (*group && (r = fs_lookup_group(group, ret_gid, reterr_msg)) < 0)
                return r;
        return 0;
}

int fs_apply_access(int fd, uid_t uid, gid_t gid, mode_t mode, char **reterr_msg)
{
        if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the owner or group");
        if (fchmod(fd, mode & ~fs_umask()) < 0)
                return fs_fail_errno(reterr_msg, -errno, "cannot set the mode");
        return 0;
}

int fs_open_file(const char *path, int flags, struct stat *ret_st, char **reterr_msg)
{
        int fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

        if (fd < 0) {
                if (errno == ENOENT)
                        return fs_fail(reterr_msg, -ENOENT, "the file does not exist");
                if (errno == EISDIR)
                        return fs_fail(reterr_msg, -EISDIR, "the path is a folder, not a file");
                return fs_fail_errno(reterr_msg, -errno, "cannot open the file");
        }
        if (fstat(fd, ret_st) < 0) {
                int r = fs_fail_errno(reterr_msg, -errno, "cannot examine the file");

                close(fd);
                return r;
        }
        if (!S_ISREG(ret_st->st_mode)) {
                int r = S_ISDIR(ret_st->st_mode) ? fs_fail(reterr_msg, -EISDIR, "the path is a folder, not a file")
                                                 : fs_fail(reterr_msg, -EINVAL, "the path is not a regular file");

                close(fd);
                return r;
        }
        return fd;
}

int fs_stat_file(const char *path, struct stat *ret_st, const char *folder_action, char **reterr_msg)
{
        if (stat(path, ret_st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fs_fail(reterr_msg, -ENOENT, "the file does not exist");
                return fs_fail_errno(reterr_msg, -errno, "cannot examine the file");
        }
        if (S_ISDIR(ret_st->st_mode))
                return fs_fail(reterr_msg, -EISDIR, "the path is a folder; use %s for folders", folder_action);
        return 0;
}

int fs_open_folder(const char *path, bool readable, const char *file_action, char **reterr_msg)
{
        int fd = open(path, (readable ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0)
                return fd;
        if (errno == ENOENT)
                return fs_fail(reterr_msg, -ENOENT, "the folder does not exist");
        if (errno == ENOTDIR && file_action)
                return fs_fail(reterr_msg, -ENOTDIR, "the path is not a folder; use %s for files", file_action);
        if (errno == ENOTDIR)
                return fs_fail(reterr_msg, -ENOTDIR, "the path is not a folder");
        return fs_fail_errno(reterr_msg, -errno, "cannot open the folder");
}

int fs_run_entries(const struct action_ctx *ctx, const json_t *inputs, const char *key, fs_entry_fn fn,
                   struct action_result *ret)
{
        json_t *outputs = json_array();
        const json_t *entry;
        size_t i;

        *ret = (struct action_result){ .status = ACTION_SUCCESS, .exit_code = -1 };
        if (!json_is_array(inputs)) {
                ret->status = ACTION_FAILED;
                ret->message = xstrdup("inputs must be a list of entries");
                ret->outputs = outputs;
                return 0;
        }
        json_array_foreach(inputs, i, entry) {
                struct fs_job j = { .stop = entry_stop, .userdata = ctx };
                _cleanup_free_ char *err = NULL;
                json_t *out;
                int r;

                if (!json_is_object(entry)) {
                        ret->status = ACTION_FAILED;
                        ret->message = xasprintf("entry %zu: is not a map of inputs", i + 1);
                        break;
                }
                out = json_object();
                r = fn(&j, entry, out, &err);
                if (r < 0) {
                        const char *what = fs_entry_str(entry, key);
                        const char *why = err ? err : "failed";

                        ret->status = j.timed_out ? ACTION_TIMED_OUT : ACTION_FAILED;
                        ret->message = *what ? xasprintf("entry %zu (%s): %s", i + 1, what, why)
                                             : xasprintf("entry %zu: %s", i + 1, why);
                        json_decref(out);
                        break;
                }
                json_array_append_new(outputs, out);
        }
        ret->outputs = outputs;
        return 0;
}

int fs_walk_folder(struct fs_job *j, const char *path, bool recursive, const char *file_action, fs_visit_fn visit,
                   void *userdata, char **reterr_msg)
{
        _cleanup_close_ int fd = fs_open_folder(path, recursive, file_action, reterr_msg);

        if (fd < 0)
                return fd;
        return recursive ? fs_walk_tree(j, fd, path, visit, userdata, reterr_msg) : 0;
}
