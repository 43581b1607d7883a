/* debug_sigv4.c: `opentoe debug sigv4`, which signs a raw HTTP request
 * file and prints every stage, so the signer can be compared with AWS's
 * SigV4 test suite byte for byte. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "commands.h"
#include "debug.h"
#include "options.h"
#include "sigv4.h"
#include "strbuf.h"

static void sigv4_usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s debug sigv4 REQUEST-FILE --service S --region R --date YYYYMMDDTHHMMSSZ\n"
                "           --access-key K --secret-key S [--session-token T [--token-after-signing]]\n"
                "           [--s3] [--unsigned-payload]\n"
                "\n"
                "Sign the raw HTTP request in REQUEST-FILE ('-' for standard input) with AWS\n"
                "Signature Version 4 and print, on standard output:\n"
                "  the canonical request,\n"
                "  an empty line,\n"
                "  the string to sign,\n"
                "  an empty line,\n"
                "  the Authorization header's value (the text after 'Authorization: '),\n"
                "each exactly as the AWS SigV4 test suite's .creq, .sts and .authz files hold\n"
                "them, followed by one newline.  So the canonical request is every line but\n"
                "the last seven, the string to sign the four lines after it and an empty\n"
                "line, and the Authorization value the last line.\n"
                "\n"
                "REQUEST-FILE holds a request line ('GET /path?query HTTP/1.1'), header lines\n"
                "(lines starting with a space or tab continue the previous header), an empty\n"
                "line and the body; lines end in LF or CRLF.  It needs a Host header.\n"
                "X-Amz-Date is added when missing, and must equal --date when present.\n"
                "\n"
                "Options:\n",
                prog);
        option_help(f, defs);
        fprintf(f, "\nExit status: 0 signed, 1 malformed request (or unreadable file), 2 usage error.\n");
}

/* Reads at most SIGV4_MAX_REQUEST_LEN bytes; -EFBIG beyond. */
static int read_all(const char *path, char **ret, size_t *ret_len)
{
        bool is_stdin = !strcmp(path, "-");
        FILE *f = is_stdin ? stdin : fopen(path, "rbe");
        if (!f)
                return -errno;
        struct strbuf b = STRBUF_INIT;
        char chunk[65536];
        size_t n;
        int r = 0;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
                if (b.len + n > SIGV4_MAX_REQUEST_LEN) {
                        r = -EFBIG;
                        break;
                }
                sb_append(&b, chunk, n);
        }
        if (r == 0 && ferror(f))
                r = -EIO;
        if (!is_stdin)
                fclose(f);
        if (r < 0) {
                sb_free(&b);
                return r;
        }
        *ret_len = b.len;
        *ret = sb_take(&b);
        return 0;
}

int cmd_debug_sigv4(const struct invocation *inv, int argc, char **argv)
{
        const char *file = NULL;
        struct sigv4_credentials cred = { 0 };
        struct sigv4_params params = { 0 };
        bool token_after = false, s3 = false, unsigned_payload = false;
        size_t n_files = 0;
        int r;
        const struct option_def defs[] = {
                OPTION_STR("service", 0, &params.service, .arg = "S",
                           .help = "service name in the scope (\"s3\", \"logs\", ...)"),
                OPTION_STR("region", 0, &params.region, .arg = "R", .help = "region in the scope (\"us-east-1\")"),
                OPTION_STR("date", 0, &params.amz_date, .arg = "D", .help = "signing time, UTC, as YYYYMMDDTHHMMSSZ"),
                OPTION_STR("access-key", 0, &cred.access_key, .arg = "K", .help = "access key id"),
                OPTION_STR("secret-key", 0, &cred.secret_key, .arg = "S", .help = "secret access key"),
                OPTION_STR("session-token", 0, &cred.session_token, .arg = "T",
                           .help = "session token: sent as X-Amz-Security-Token and signed"),
                OPTION_BOOL("token-after-signing", 0, &token_after,
                            .help = "the token header is added after signing, unsigned"),
                OPTION_BOOL("s3", 0, &s3,
                            .help = "S3's rules: path encoded once and not normalised,\n"
                                    "X-Amz-Content-Sha256 added and signed"),
                OPTION_BOOL("unsigned-payload", 0, &unsigned_payload,
                            .help = "payload hash UNSIGNED-PAYLOAD instead of the body's"),
                OPTION_POSITIONAL("REQUEST-FILE", OPTION_VALUE_FILE),
                { NULL },
        };

        r = option_parse(inv->program, "debug sigv4", defs, argc, argv, &file, 1, &n_files, sigv4_usage);
        if (r != 0)
                return r < 0 ? EXIT_USAGE : 0;
        params.flags |= (token_after ? SIGV4_TOKEN_AFTER : 0) | (s3 ? SIGV4_S3 : 0) |
                        (unsigned_payload ? SIGV4_UNSIGNED : 0);
        const char *missing = !file                ? "REQUEST-FILE"
                              : !params.service    ? "--service"
                              : !params.region     ? "--region"
                              : !params.amz_date   ? "--date"
                              : !cred.access_key   ? "--access-key"
                              : !cred.secret_key   ? "--secret-key"
                                                   : NULL;
        if (missing) {
                fprintf(stderr, "%s debug sigv4: %s is required (see --help)\n", inv->program, missing);
                return EXIT_USAGE;
        }
        if ((params.flags & SIGV4_TOKEN_AFTER) && !cred.session_token) {
                fprintf(stderr, "%s debug sigv4: --token-after-signing needs --session-token\n", inv->program);
                return EXIT_USAGE;
        }
        char *err = NULL;
        r = sigv4_check_params(&cred, &params, &err);
        if (r < 0) {
                fprintf(stderr, "%s debug sigv4: %s\n", inv->program, err ? err : strerror(-r));
                free(err);
                return EXIT_USAGE;
        }

        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        r = read_all(file, &text, &len);
        if (r < 0) {
                if (r == -EFBIG)
                        fprintf(stderr, "%s debug sigv4: %s: longer than %d bytes\n", inv->program, file,
                                SIGV4_MAX_REQUEST_LEN);
                else
                        fprintf(stderr, "%s debug sigv4: cannot read %s: %s\n", inv->program, file, strerror(-r));
                return 1;
        }
        struct sigv4_parsed_request req;
        r = sigv4_parse_request(text, len, &req, &err);
        if (r < 0) {
                fprintf(stderr, "%s debug sigv4: %s: %s\n", inv->program, file, err ? err : strerror(-r));
                free(err);
                return 1;
        }
        struct sigv4_result res;
        r = sigv4_sign(&req.req, &cred, &params, &res, &err);
        sigv4_parsed_request_done(&req);
        if (r < 0) {
                fprintf(stderr, "%s debug sigv4: %s: %s\n", inv->program, file, err ? err : strerror(-r));
                free(err);
                return 1;
        }
        printf("%s\n\n%s\n\n%s\n", res.canonical_request, res.string_to_sign, res.authorization);
        sigv4_result_done(&res);
        if (fflush(stdout) != 0) {
                fprintf(stderr, "%s debug sigv4: cannot write the output: %s\n", inv->program, strerror(errno));
                return 1;
        }
        return 0;
}
