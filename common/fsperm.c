/* fsperm.c: users, groups, modes and the umask (fsperm.h). */
#include "fsperm.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"

mode_t fs_umask(void)
{
        static mode_t mask;
        static bool known;

        if (!known) {
                mask = umask(022);
                umask(mask);
                known = true;
        }
        return mask;
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static size_t pw_bufsize(int which)
{
        long n = sysconf(which);

        return n > 0 ? (size_t)n : 16384;
}

/* After a lookup that said ERANGE, doubles *size up to `limit` and says
 * to try again. */
static bool grow_buffer(int e, size_t *size, size_t limit)
{
        if (e != ERANGE || *size >= limit)
                return false;
        *size *= 2;
        return true;
}

/* A name that is no user's or group's (`what`): a numeric id, which must
 * be below `limit`. */
static int numeric_id(const char *name, const char *what, unsigned long limit,
                      unsigned long *ret, char **reterr_msg)
{
        if (!all_digits(name))
                return fs_fail(reterr_msg, -ENOENT, "unknown %s '%s'", what, name);
        unsigned long id = strtoul(name, NULL, 10);

        if (id >= limit || strlen(name) > 10)
                return fs_fail(reterr_msg, -ERANGE, "%s id %s is out of range", what, name);
        *ret = id;
        return 0;
}

/* What a lookup by name keeps of the entry (its strings die with the
 * buffer). */
struct owner_ids {
        uid_t uid;
        gid_t gid;
};

/* One getpwnam_r or getgrnam_r: its errno in *ret_errno, true when found. */
typedef bool (*by_name_fn)(const char *name, char *buf, size_t size, int *ret_errno, struct owner_ids *out);

static bool user_by_name(const char *name, char *buf, size_t size, int *ret_errno, struct owner_ids *out)
{
        struct passwd pw, *res = NULL;

        *ret_errno = getpwnam_r(name, &pw, buf, size, &res);
        if (res)
                *out = (struct owner_ids){ .uid = pw.pw_uid, .gid = pw.pw_gid };
        return res;
}

static bool group_by_name(const char *name, char *buf, size_t size, int *ret_errno, struct owner_ids *out)
{
        struct group gr, *res = NULL;

        *ret_errno = getgrnam_r(name, &gr, buf, size, &res);
        if (res)
                out->gid = gr.gr_gid;
        return res;
}

/* Looks name up with a buffer of *size bytes, doubled up to `limit` while
 * the lookup says ERANGE (*size is left at the last one tried). */
static bool lookup_name(by_name_fn get, const char *name, size_t *size, size_t limit, struct owner_ids *out)
{
        for (;;) {
                _cleanup_free_ char *buf = xmalloc(*size);
                int e = 0;

                if (get(name, buf, *size, &e, out))
                        return true;
                if (!grow_buffer(e, size, limit))
                        return false;
        }
}

int fs_lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid, char **reterr_msg)
{
        size_t size = pw_bufsize(_SC_GETPW_R_SIZE_MAX);
        struct owner_ids ids = { 0 };

        if (lookup_name(user_by_name, name, &size, 1u << 20, &ids)) {
                *ret_uid = ids.uid;
                *ret_gid = ids.gid;
                return 0;
        }
        {
                unsigned long id = 0;
                _cleanup_free_ char *buf = NULL;
                struct passwd pw, *res = NULL;
                int r = numeric_id(name, "user", (unsigned long)(uid_t)-1, &id, reterr_msg);

                if (r < 0)
                        return r;
                *ret_uid = (uid_t)id;
                *ret_gid = (gid_t)-1;
                buf = xmalloc(size);
                if (getpwuid_r((uid_t)id, &pw, buf, size, &res) == 0 && res)
                        *ret_gid = pw.pw_gid;
        }
        return 0;
}

int fs_lookup_group(const char *name, gid_t *ret_gid, char **reterr_msg)
{
        size_t size = pw_bufsize(_SC_GETGR_R_SIZE_MAX);
        struct owner_ids ids = { 0 };
        unsigned long id = 0;
        int r;

        if (lookup_name(group_by_name, name, &size, 1u << 24, &ids)) {
                *ret_gid = ids.gid;
                return 0;
        }
        r = numeric_id(name, "group", (unsigned long)(gid_t)-1, &id, reterr_msg);
        if (r < 0)
                return r;
        *ret_gid = (gid_t)id;
        return 0;
}

int fs_parse_mode(const char *s, mode_t *ret, char **reterr_msg)
{
        size_t n = strlen(s);
        mode_t m = 0;

        if (n == 0 || n > 5 || (n == 5 && s[0] != '0'))
                goto bad;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '7')
                        goto bad;
                m = m * 8 + (mode_t)(*p - '0');
        }
        if (m > 07777)
                goto bad;
        *ret = m;
        return 0;
bad:
        return fs_fail(reterr_msg, -EINVAL, "permissions '%s' are not an octal mode such as 0644 or 755", s);
}
