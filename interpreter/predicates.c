/* predicates.c: the operator table of conditions and assertions, and
 * their evaluation (string, number, regular expression, file and hash
 * comparisons). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "predicates.h"

#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "pathsearch.h"
#include "strbuf.h"

const struct predicate predicates[] = {
        { "and", PF_AND, PO_LOGIC, 0, NULL },
        { "binaryExists", PF_UNARY, PO_PATH, 0, NULL },
        { "fileExists", PF_UNARY, PO_PATH, 0, NULL },
        { "fileMD5Equals", PF_PATH, PO_HASH, 32, NULL },
        { "fileSHA1Equals", PF_PATH, PO_HASH, 40, NULL },
        { "fileSHA256Equals", PF_PATH, PO_HASH, 64, NULL },
        { "fileSHA512Equals", PF_PATH, PO_HASH, 128, NULL },
        { "folderExists", PF_UNARY, PO_PATH, 0, NULL },
        { "not", PF_NOT, PO_LOGIC, 0, NULL },
        { "numberEquals", PF_VALUE, PO_NUMBER, 0, NULL },
        { "numberGreaterThan", PF_VALUE, PO_NUMBER, 0, NULL },
        { "numberGreaterThanEquals", PF_VALUE, PO_NUMBER, 0, NULL },
        { "numberLessThan", PF_VALUE, PO_NUMBER, 0, NULL },
        { "numberLessThanEquals", PF_VALUE, PO_NUMBER, 0, NULL },
        { "or", PF_OR, PO_LOGIC, 0, NULL },
        { "patternMatches", PF_VALUE, PO_REGEX, 0, NULL },
        { "stringEquals", PF_VALUE, PO_STRING, 0, NULL },
        { "stringGreaterThan", PF_VALUE, PO_STRING, 0, NULL },
        { "stringGreaterThanEquals", PF_VALUE, PO_STRING, 0, NULL },
        { "stringIsEmpty", PF_UNARY, PO_STRING, 0, NULL },
        { "stringIsWhitespace", PF_UNARY, PO_STRING, 0, NULL },
        { "stringLessThan", PF_VALUE, PO_STRING, 0, NULL },
        { "stringLessThanEquals", PF_VALUE, PO_STRING, 0, NULL },
        /* AWS's own examples spell it so; accepted with a warning. */
        { "stringlessThan", PF_VALUE, PO_STRING, 0, "stringLessThan" },
};

const size_t n_predicates = sizeof predicates / sizeof predicates[0];

const struct predicate *pred_find(const char *name)
{
        for (size_t i = 0; i < n_predicates; i++)
                if (strcmp(predicates[i].name, name) == 0)
                        return &predicates[i];
        return NULL;
}

const char *const *pred_names(void)
{
        static const char *names[sizeof predicates / sizeof predicates[0] + 1];
        if (!names[0])
                for (size_t i = 0; i < n_predicates; i++)
                        names[i] = predicates[i].name;
        return names;
}

bool pred_is_number(const char *s)
{
        const char *p = s;
        if (*p == '-' || *p == '+')
                p++;
        const char *d = p;
        while (*p >= '0' && *p <= '9')
                p++;
        if (*p == '.') {
                if (p == d)
                        return false;
                d = ++p;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        return p > d && !*p;
}

/* A number as pred_is_number reads it; false otherwise. */
static bool to_number(const char *s, long double *ret)
{
        if (!pred_is_number(s))
                return false;
        *ret = strtold(s, NULL);
        return true;
}

static bool is_whitespace_only(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
                        return false;
        return true;
}

/* binaryExists: what ExecuteBinary would run (Go's rules), or a path. */
static bool executable_on_path(const char *name)
{
        if (!*name)
                return false;
        if (strchr(name, '/'))
                return path_is_executable(name);
        char *found = NULL;
        int r = path_search(name, &found);
        free(found);
        return r == 0;
}

static int regex_match(const char *re_text, const char *subject, bool *ret, char **err)
{
        int code;
        PCRE2_SIZE off;
        /* AWS's own example only holds if matching ignores case. */
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)re_text, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_CASELESS, &code,
                                       &off, NULL);
        if (!re) {
                PCRE2_UCHAR msg[128];
                pcre2_get_error_message(code, msg, sizeof msg);
                *err = xasprintf("invalid regular expression '%s': %s", re_text, (const char *)msg);
                return -EINVAL;
        }
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        int rc = pcre2_match(re, (PCRE2_SPTR)subject, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
                *err = xasprintf("matching '%s' failed (PCRE2 error %d)", re_text, rc);
                return -EINVAL;
        }
        *ret = rc >= 0;
        return 0;
}

static int file_hash_equals(const struct predicate *p, const char *want, const char *path, bool *ret, char **err)
{
        enum hash_algo algo = p->hash_hex_len == 32 ? HASH_MD5 : p->hash_hex_len == 40 ? HASH_SHA1
                            : p->hash_hex_len == 64 ? HASH_SHA256 : HASH_SHA512;
        unsigned char d[HASH_MAX_LEN];
        size_t n;
        char *why = NULL;
        int r = hash_file(algo, path, d, &n, &why);
        if (r == -ENOSYS) {
                *err = why;
                return r;
        }
        free(why);
        if (r < 0) {
                /* A file that cannot be read has no matching hash. */
                *ret = false;
                return 0;
        }
        char hex[2 * HASH_MAX_LEN + 1];
        hash_hex(d, n, hex);
        *ret = strcasecmp(hex, want) == 0;
        return 0;
}

int pred_eval(const struct predicate *p, const char *operand, const char *value, bool *ret, char **err)
{
        const char *name = p->alias_of ? p->alias_of : p->name;
        long double x, y;
        struct stat st;
        *err = NULL;
        if (!strcmp(name, "stringIsEmpty"))
                *ret = !*operand;
        else if (!strcmp(name, "stringIsWhitespace"))
                *ret = is_whitespace_only(operand);
        else if (!strcmp(name, "stringEquals"))
                *ret = strcasecmp(value, operand) == 0;
        else if (!strcmp(name, "stringLessThan"))
                *ret = strcasecmp(value, operand) < 0;
        else if (!strcmp(name, "stringLessThanEquals"))
                *ret = strcasecmp(value, operand) <= 0;
        else if (!strcmp(name, "stringGreaterThan"))
                *ret = strcasecmp(value, operand) > 0;
        else if (!strcmp(name, "stringGreaterThanEquals"))
                *ret = strcasecmp(value, operand) >= 0;
        else if (!strcmp(name, "patternMatches"))
                return regex_match(operand, value, ret, err);
        else if (p->operand == PO_NUMBER) {
                if (!to_number(operand, &x) || !to_number(value, &y)) {
                        *ret = false;
                        return 0;
                }
                if (!strcmp(name, "numberEquals"))
                        *ret = y == x;
                else if (!strcmp(name, "numberLessThan"))
                        *ret = y < x;
                else if (!strcmp(name, "numberLessThanEquals"))
                        *ret = y <= x;
                else if (!strcmp(name, "numberGreaterThan"))
                        *ret = y > x;
                else
                        *ret = y >= x;
        } else if (!strcmp(name, "binaryExists"))
                *ret = executable_on_path(operand);
        else if (!strcmp(name, "fileExists"))
                *ret = stat(operand, &st) == 0 && S_ISREG(st.st_mode);
        else if (!strcmp(name, "folderExists"))
                *ret = stat(operand, &st) == 0 && S_ISDIR(st.st_mode);
        else if (p->operand == PO_HASH)
                return file_hash_equals(p, operand, value, ret, err);
        else {
                *err = xasprintf("operator %s cannot be evaluated here", p->name);
                return -EINVAL;
        }
        return 0;
}

/* The text of a JSON scalar; NULL for collections. */
static char *scalar_text(const json_t *v)
{
        if (json_is_string(v))
                return xstrdup(json_string_value(v));
        if (json_is_integer(v))
                return xasprintf("%lld", (long long)json_integer_value(v));
        if (json_is_real(v))
                return xasprintf("%.17g", json_real_value(v));
        if (json_is_boolean(v))
                return xstrdup(json_is_true(v) ? "true" : "false");
        if (json_is_null(v))
                return xstrdup("");
        return NULL;
}

static int eval_level(const json_t *e, unsigned depth, bool *ret, char **err)
{
        if (!json_is_object(e) || depth > PRED_MAX_LOGIC_DEPTH + 1) {
                *err = xstrdup("an expression must be a mapping with one operator");
                return -EINVAL;
        }
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)e, key, v)
        {
                const struct predicate *p = pred_find(key);
                if (!p)
                        continue;
                if (p->form == PF_NOT) {
                        const json_t *sub = json_is_array(v) ? json_array_get(v, 0) : v;
                        int r = eval_level(sub, depth + 1, ret, err);
                        *ret = !*ret;
                        return r;
                }
                if (p->form == PF_AND || p->form == PF_OR) {
                        size_t i;
                        json_t *it;
                        bool want = p->form == PF_OR;
                        *ret = !want;
                        json_array_foreach(v, i, it)
                        {
                                int r = eval_level(it, depth + 1, ret, err);
                                if (r < 0)
                                        return r;
                                if (*ret == want)
                                        return 0;
                        }
                        return 0;
                }
                char *a = scalar_text(v);
                const json_t *other = json_object_get(e, p->form == PF_PATH ? "path" : "value");
                char *b = other ? scalar_text(other) : xstrdup("");
                int r;
                if (!a || !b) {
                        *err = xasprintf("the operands of %s must be strings", p->name);
                        r = -EINVAL;
                } else
                        r = pred_eval(p, a, b, ret, err);
                free(a);
                free(b);
                return r;
        }
        *err = xstrdup("the expression has no operator");
        return -EINVAL;
}

int pred_eval_json(const json_t *expr, bool *ret, char **err)
{
        *err = NULL;
        return eval_level(expr, 0, ret, err);
}
