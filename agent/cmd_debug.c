/* cmd_debug.c: owns `opentoe debug ...`, tools for checking opentoe's
 * pieces from outside.  `debug sigv4` signs a raw HTTP request file and
 * prints every stage, so the signer can be compared with AWS's SigV4 test
 * suite byte for byte.  `debug credentials` shows where the AWS
 * credentials (and region) come from, and `debug aws-request` sends one
 * AWS JSON 1.1 request through aws/http, so the credential chain, signing
 * and retries can be tested against local servers.  `debug state` prints
 * a state folder's saved state as a resumed run would read it. */
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
#include "credentials.h"
#include "cwlogs.h"
#include "http.h"
#include "options.h"
#include "sigv4.h"
#include "state.h"
#include "strbuf.h"

enum {
        OPT_SERVICE = 1,
        OPT_REGION,
        OPT_DATE,
        OPT_ACCESS_KEY,
        OPT_SECRET_KEY,
        OPT_SESSION_TOKEN,
        OPT_TOKEN_AFTER,
        OPT_S3,
        OPT_UNSIGNED,
        OPT_HELP,
};

static const struct option_spec sigv4_specs[] = {
        { "service", 0, true, OPT_SERVICE },
        { "region", 0, true, OPT_REGION },
        { "date", 0, true, OPT_DATE },
        { "access-key", 0, true, OPT_ACCESS_KEY },
        { "secret-key", 0, true, OPT_SECRET_KEY },
        { "session-token", 0, true, OPT_SESSION_TOKEN },
        { "token-after-signing", 0, false, OPT_TOKEN_AFTER },
        { "s3", 0, false, OPT_S3 },
        { "unsigned-payload", 0, false, OPT_UNSIGNED },
        { "help", 'h', false, OPT_HELP },
        { NULL, 0, false, 0 },
};

static void sigv4_usage(FILE *f, const char *prog)
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
                "Options:\n"
                "  --service S              service name in the scope (\"s3\", \"logs\", ...)\n"
                "  --region R               region in the scope (\"us-east-1\")\n"
                "  --date D                 signing time, UTC, as YYYYMMDDTHHMMSSZ\n"
                "  --access-key K           access key id\n"
                "  --secret-key S           secret access key\n"
                "  --session-token T        session token: sent as X-Amz-Security-Token and signed\n"
                "  --token-after-signing    the token header is added after signing, unsigned\n"
                "  --s3                     S3's rules: path encoded once and not normalised,\n"
                "                           X-Amz-Content-Sha256 added and signed\n"
                "  --unsigned-payload       payload hash UNSIGNED-PAYLOAD instead of the body's\n"
                "  -h, --help               show this help\n"
                "\n"
                "Exit status: 0 signed, 1 malformed request (or unreadable file), 2 usage error.\n",
                prog);
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

static int cmd_debug_sigv4(const struct invocation *inv, int argc, char **argv)
{
        struct option_parser p = { .argc = argc, .argv = argv, .i = 1, .specs = sigv4_specs };
        const char *arg, *file = NULL;
        struct sigv4_credentials cred = { 0 };
        struct sigv4_params params = { 0 };
        int id;
        while ((id = option_next(&p, &arg)) != -2) {
                switch (id) {
                case -1:
                        fprintf(stderr, "%s debug sigv4: %s\n", inv->program, p.error);
                        return EXIT_USAGE;
                case 0:
                        if (file) {
                                fprintf(stderr, "%s debug sigv4: one request file at a time\n", inv->program);
                                return EXIT_USAGE;
                        }
                        file = arg;
                        break;
                case OPT_SERVICE:
                        params.service = arg;
                        break;
                case OPT_REGION:
                        params.region = arg;
                        break;
                case OPT_DATE:
                        params.amz_date = arg;
                        break;
                case OPT_ACCESS_KEY:
                        cred.access_key = arg;
                        break;
                case OPT_SECRET_KEY:
                        cred.secret_key = arg;
                        break;
                case OPT_SESSION_TOKEN:
                        cred.session_token = arg;
                        break;
                case OPT_TOKEN_AFTER:
                        params.flags |= SIGV4_TOKEN_AFTER;
                        break;
                case OPT_S3:
                        params.flags |= SIGV4_S3;
                        break;
                case OPT_UNSIGNED:
                        params.flags |= SIGV4_UNSIGNED;
                        break;
                case OPT_HELP:
                        sigv4_usage(stdout, inv->program);
                        return 0;
                }
        }
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
        int r = sigv4_check_params(&cred, &params, &err);
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

/* ---- debug credentials / debug aws-request ------------------------------ */

enum {
        OPT_AWS_SERVICE = 1,
        OPT_AWS_REGION,
        OPT_AWS_TARGET,
        OPT_AWS_BODY,
        OPT_AWS_ENDPOINT,
        OPT_AWS_REPEAT,
        OPT_AWS_INTERVAL,
        OPT_AWS_DEADLINE,
        OPT_AWS_SHOW_REGION,
        OPT_AWS_HELP,
};

static const struct option_spec credentials_specs[] = {
        { "region", 0, false, OPT_AWS_SHOW_REGION },
        { "repeat", 0, true, OPT_AWS_REPEAT },
        { "interval-ms", 0, true, OPT_AWS_INTERVAL },
        { "help", 'h', false, OPT_AWS_HELP },
        { NULL, 0, false, 0 },
};

static const struct option_spec aws_request_specs[] = {
        { "service", 0, true, OPT_AWS_SERVICE },
        { "region", 0, true, OPT_AWS_REGION },
        { "target", 0, true, OPT_AWS_TARGET },
        { "body", 0, true, OPT_AWS_BODY },
        { "endpoint", 0, true, OPT_AWS_ENDPOINT },
        { "repeat", 0, true, OPT_AWS_REPEAT },
        { "interval-ms", 0, true, OPT_AWS_INTERVAL },
        { "deadline-ms", 0, true, OPT_AWS_DEADLINE },
        { "help", 'h', false, OPT_AWS_HELP },
        { NULL, 0, false, 0 },
};

static void credentials_usage(FILE *f, const char *prog)
{
        fprintf(f,
                "Usage: %s debug credentials [--region] [--repeat N] [--interval-ms MS]\n"
                "\n"
                "Look up AWS credentials as opentoe would (environment, shared credentials\n"
                "and config files with AWS_PROFILE, then IMDSv2) and print one line:\n"
                "  credentials: source=S access_key_id=ID session_token=yes|no expiration=T|never (DETAIL)\n"
                "The secret key and the session token are never printed.\n"
                "\n"
                "Options:\n"
                "  --region          also resolve the region and print 'region: R (from SOURCE)'\n"
                "  --repeat N        look up N times with the same provider (cache and refresh)\n"
                "  --interval-ms MS  pause between lookups (default 1000)\n"
                "  -h, --help        show this help\n"
                "\n"
                "Exit status: 0 found, 1 not found (the message says what was tried), 2 usage error.\n",
                prog);
}

static void aws_request_usage(FILE *f, const char *prog)
{
        fprintf(f,
                "Usage: %s debug aws-request --service S --target T --body JSON [--region R]\n"
                "           [--endpoint URL] [--repeat N] [--interval-ms MS] [--deadline-ms MS]\n"
                "\n"
                "Send one AWS JSON 1.1 request (POST /, X-Amz-Target: T) signed with the\n"
                "credentials opentoe finds, with opentoe's retries, and print the response\n"
                "body on standard output.  A summary ('HTTP 200 after N attempts') and each\n"
                "retry go to standard error.\n"
                "\n"
                "Options:\n"
                "  --service S       signing name (\"logs\"); also picks AWS_ENDPOINT_URL_<S>\n"
                "  --target T        X-Amz-Target (\"Logs_20140328.DescribeLogGroups\")\n"
                "  --body JSON       request body\n"
                "  --region R        region (default: resolved like the SDKs do)\n"
                "  --endpoint URL    endpoint, before AWS_ENDPOINT_URL_<S> and AWS_ENDPOINT_URL\n"
                "  --repeat N        send N times with the same client and credentials\n"
                "  --interval-ms MS  pause between requests (default 1000)\n"
                "  --deadline-ms MS  give each request at most MS milliseconds\n"
                "  -h, --help        show this help\n"
                "\n"
                "Exit status: 0 HTTP 2xx, 1 any failure, 2 usage error.\n",
                prog);
}

static bool parse_count(const char *s, long min, long max, long *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || !*s || *end || v < min || v > max)
                return false;
        *ret = v;
        return true;
}

static void pause_ms(long ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void print_credentials(const struct aws_credentials *c)
{
        char exp[32] = "never";

        if (c->expiration) {
                struct tm tm;
                gmtime_r(&c->expiration, &tm);
                strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        printf("credentials: source=%s access_key_id=%s session_token=%s expiration=%s (%s)\n",
               aws_cred_source_to_string(c->source), c->access_key_id, c->session_token ? "yes" : "no", exp,
               c->source_detail ? c->source_detail : "");
}

static int cmd_debug_credentials(const struct invocation *inv, int argc, char **argv)
{
        struct option_parser p = { .argc = argc, .argv = argv, .i = 1, .specs = credentials_specs };
        const char *arg;
        long repeat = 1, interval = 1000;
        bool show_region = false;
        int id;

        while ((id = option_next(&p, &arg)) != -2) {
                switch (id) {
                case -1:
                        fprintf(stderr, "%s debug credentials: %s\n", inv->program, p.error);
                        return EXIT_USAGE;
                case 0:
                        fprintf(stderr, "%s debug credentials: unexpected argument '%s'\n", inv->program, arg);
                        return EXIT_USAGE;
                case OPT_AWS_SHOW_REGION:
                        show_region = true;
                        break;
                case OPT_AWS_REPEAT:
                case OPT_AWS_INTERVAL:
                        if (!parse_count(arg, id == OPT_AWS_REPEAT ? 1 : 0, id == OPT_AWS_REPEAT ? 1000 : 600000,
                                         id == OPT_AWS_REPEAT ? &repeat : &interval)) {
                                fprintf(stderr, "%s debug credentials: bad number '%s'\n", inv->program, arg);
                                return EXIT_USAGE;
                        }
                        break;
                case OPT_AWS_HELP:
                        credentials_usage(stdout, inv->program);
                        return 0;
                }
        }
        struct aws_cred_provider *prov = aws_cred_provider_new();
        int rc = 0;
        for (long i = 0; i < repeat && rc == 0; i++) {
                const struct aws_credentials *c;
                char *err = NULL;

                if (i > 0)
                        pause_ms(interval);
                int r = aws_cred_provider_get(prov, aws_now_ms() + 60000, &c, &err);
                if (r < 0) {
                        fprintf(stderr, "%s debug credentials: %s\n", inv->program, err ? err : strerror(-r));
                        free(err);
                        rc = 1;
                        break;
                }
                print_credentials(c);
                if (show_region) {
                        const char *region, *source;

                        r = aws_region_resolve(prov, aws_now_ms() + 60000, &region, &source, &err);
                        if (r < 0) {
                                fprintf(stderr, "%s debug credentials: %s\n", inv->program,
                                        err ? err : strerror(-r));
                                free(err);
                                rc = 1;
                                break;
                        }
                        printf("region: %s (from %s)\n", region, source);
                }
                fflush(stdout);
        }
        aws_cred_provider_free(prov);
        return rc;
}

static void notice_stderr(void *userdata, const char *msg)
{
        fprintf(stderr, "%s debug aws-request: %s\n", (const char *)userdata, msg);
}

static int cmd_debug_aws_request(const struct invocation *inv, int argc, char **argv)
{
        struct option_parser p = { .argc = argc, .argv = argv, .i = 1, .specs = aws_request_specs };
        const char *arg, *service = NULL, *region = NULL, *target = NULL, *body = NULL, *endpoint = NULL;
        long repeat = 1, interval = 1000, deadline = -1;
        int id;

        while ((id = option_next(&p, &arg)) != -2) {
                switch (id) {
                case -1:
                        fprintf(stderr, "%s debug aws-request: %s\n", inv->program, p.error);
                        return EXIT_USAGE;
                case 0:
                        fprintf(stderr, "%s debug aws-request: unexpected argument '%s'\n", inv->program, arg);
                        return EXIT_USAGE;
                case OPT_AWS_SERVICE:
                        service = arg;
                        break;
                case OPT_AWS_REGION:
                        region = arg;
                        break;
                case OPT_AWS_TARGET:
                        target = arg;
                        break;
                case OPT_AWS_BODY:
                        body = arg;
                        break;
                case OPT_AWS_ENDPOINT:
                        endpoint = arg;
                        break;
                case OPT_AWS_REPEAT:
                case OPT_AWS_INTERVAL:
                case OPT_AWS_DEADLINE: {
                        long *slot = id == OPT_AWS_REPEAT ? &repeat : id == OPT_AWS_INTERVAL ? &interval : &deadline;
                        if (!parse_count(arg, id == OPT_AWS_REPEAT ? 1 : 0, id == OPT_AWS_REPEAT ? 1000 : 3600000,
                                         slot)) {
                                fprintf(stderr, "%s debug aws-request: bad number '%s'\n", inv->program, arg);
                                return EXIT_USAGE;
                        }
                        break;
                }
                case OPT_AWS_HELP:
                        aws_request_usage(stdout, inv->program);
                        return 0;
                }
        }
        const char *missing = !service ? "--service" : !target ? "--target" : !body ? "--body" : NULL;
        if (missing) {
                fprintf(stderr, "%s debug aws-request: %s is required (see --help)\n", inv->program, missing);
                return EXIT_USAGE;
        }

        struct aws_cred_provider *prov = aws_cred_provider_new();
        struct aws_http *h = NULL;
        char *err = NULL, *url = NULL;
        int rc = 1, r;

        if (!region) {
                r = aws_region_resolve(prov, aws_now_ms() + 60000, &region, NULL, &err);
                if (r < 0)
                        goto out;
        }
        r = aws_endpoint_resolve(service, region, endpoint, &url, &err);
        if (r < 0)
                goto out;
        h = aws_http_new(&err);
        if (!h)
                goto out;
        const struct aws_http_header hdrs[] = {
                { "Content-Type", AWS_JSON_CONTENT_TYPE },
                { "X-Amz-Target", target },
        };
        for (long i = 0; i < repeat; i++) {
                struct aws_http_response resp;
                struct aws_http_request req = {
                        .method = "POST",
                        .endpoint = url,
                        .path = "/",
                        .headers = hdrs,
                        .n_headers = ELEMENTSOF(hdrs),
                        .body = body,
                        .body_len = strlen(body),
                        .service = service,
                        .region = region,
                        .creds = prov,
                        .deadline_ms = deadline >= 0 ? aws_now_ms() + deadline : -1,
                        .notice = notice_stderr,
                        .userdata = (void *)inv->program,
                };

                if (i > 0)
                        pause_ms(interval);
                r = aws_http_request(h, &req, &resp, &err);
                if (r < 0)
                        goto out;
                fprintf(stderr, "%s debug aws-request: HTTP %ld after %d attempt%s%s%s\n", inv->program,
                        resp.status, resp.attempts, resp.attempts == 1 ? "" : "s",
                        resp.request_id ? ", request id " : "", resp.request_id ? resp.request_id : "");
                r = aws_http_status_error(&resp, &err);
                if (r == 0) {
                        fwrite(resp.body, 1, resp.body_len, stdout);
                        putchar('\n');
                        fflush(stdout);
                }
                aws_http_response_done(&resp);
                if (r < 0)
                        goto out;
        }
        rc = 0;
out:
        if (rc != 0)
                fprintf(stderr, "%s debug aws-request: %s\n", inv->program, err ? err : strerror(-r));
        if (aws_http_clock_offset(h))
                fprintf(stderr, "%s debug aws-request: clock offset learnt: %+lds\n", inv->program,
                        aws_http_clock_offset(h));
        free(err);
        free(url);
        aws_http_free(h);
        aws_cred_provider_free(prov);
        return rc;
}

/* ---- debug cwlogs-ship (aws/cwlogs.h) ---------------------------------- */

enum {
        OPT_CW_GROUP = 1,
        OPT_CW_STREAM,
        OPT_CW_REGION,
        OPT_CW_SPOOL,
        OPT_CW_LINES,
        OPT_CW_LINE_BYTES,
        OPT_CW_PREFIX,
        OPT_CW_TIMESTAMPS,
        OPT_CW_PUMP_EVERY,
        OPT_CW_PUMP_MS,
        OPT_CW_DEADLINE,
        OPT_CW_DISCARD_OTHER,
        OPT_CW_VERBOSE,
        OPT_CW_HELP,
};

static const struct option_spec cwlogs_ship_specs[] = {
        { "group", 0, true, OPT_CW_GROUP },
        { "stream", 0, true, OPT_CW_STREAM },
        { "region", 0, true, OPT_CW_REGION },
        { "spool", 0, true, OPT_CW_SPOOL },
        { "lines", 0, true, OPT_CW_LINES },
        { "line-bytes", 0, true, OPT_CW_LINE_BYTES },
        { "prefix", 0, true, OPT_CW_PREFIX },
        { "timestamps", 0, false, OPT_CW_TIMESTAMPS },
        { "pump-every", 0, true, OPT_CW_PUMP_EVERY },
        { "pump-ms", 0, true, OPT_CW_PUMP_MS },
        { "deadline-ms", 0, true, OPT_CW_DEADLINE },
        { "discard-other", 0, false, OPT_CW_DISCARD_OTHER },
        { "verbose", 'v', false, OPT_CW_VERBOSE },
        { "help", 'h', false, OPT_CW_HELP },
        { NULL, 0, false, 0 },
};

static void cwlogs_ship_usage(FILE *f, const char *prog)
{
        fprintf(f,
                "Usage: %s debug cwlogs-ship --group G --stream S --spool DIR [--region R]\n"
                "           [--lines N [--line-bytes B] [--prefix P] | --timestamps] [--pump-every N]\n"
                "           [--pump-ms MS] [--deadline-ms MS] [--discard-other] [--verbose]\n"
                "\n"
                "Ship lines to CloudWatch Logs the way 'run --cw-log-group' does: every line is\n"
                "appended to the spool in DIR, shipped with PutLogEvents as batches fill up, and\n"
                "the rest flushed at the end.  An existing spool in DIR is resumed first.\n"
                "The lines are standard input's, or with --lines N generated ones, \"P<i>\"\n"
                "(i from 1) padded with '.' to B bytes.  At the end the counts go to standard\n"
                "output as one line of key=value pairs (appended, delivered, resumed, resent,\n"
                "pending, rejected, lost, discarded, clamped, split, requests, failures,\n"
                "total_delivered, total_resent) and the summary to standard error.\n"
                "\n"
                "Options:\n"
                "  --group G          log group\n"
                "  --stream S         log stream\n"
                "  --spool DIR        spool folder (created when missing)\n"
                "  --region R         region (default: resolved like the SDKs do)\n"
                "  --lines N          generate N lines instead of reading standard input (0: none,\n"
                "                     only resume the spool)\n"
                "  --line-bytes B     pad generated lines to B bytes\n"
                "  --prefix P         generated lines start with P (default \"line \")\n"
                "  --timestamps       each input line is TIMESTAMP<TAB>TEXT, TIMESTAMP in ms since\n"
                "                     the epoch, or +MS/-MS from now\n"
                "  --pump-every N     ship what is due after every N lines (default 1000; 0: only\n"
                "                     at the end)\n"
                "  --pump-ms MS       time each of those may take (default 5000)\n"
                "  --deadline-ms MS   time the final flush may take (default 60000)\n"
                "  --discard-other    drop a spool left for another group or stream\n"
                "  -v, --verbose      print retries and failures on standard error\n"
                "  -h, --help         show this help\n"
                "\n"
                "Exit status: 0 everything delivered, 1 something was not, 2 usage error.\n",
                prog);
}

static void cwlogs_notice_stderr(void *userdata, const char *msg)
{
        fprintf(stderr, "%s debug cwlogs-ship: %s\n", (const char *)userdata, msg);
}

static int cmd_debug_cwlogs_ship(const struct invocation *inv, int argc, char **argv)
{
        struct option_parser p = { .argc = argc, .argv = argv, .i = 1, .specs = cwlogs_ship_specs };
        const char *arg, *group = NULL, *stream = NULL, *region = NULL, *spool = NULL, *prefix = "line ";
        long lines = -1, line_bytes = 0, pump_every = 1000, pump_ms = 5000, deadline = 60000;
        bool timestamps = false, verbose = false;
        unsigned flags = 0;
        int id;

        while ((id = option_next(&p, &arg)) != -2) {
                switch (id) {
                case -1:
                        fprintf(stderr, "%s debug cwlogs-ship: %s\n", inv->program, p.error);
                        return EXIT_USAGE;
                case 0:
                        fprintf(stderr, "%s debug cwlogs-ship: unexpected argument '%s'\n", inv->program, arg);
                        return EXIT_USAGE;
                case OPT_CW_GROUP:
                        group = arg;
                        break;
                case OPT_CW_STREAM:
                        stream = arg;
                        break;
                case OPT_CW_REGION:
                        region = arg;
                        break;
                case OPT_CW_SPOOL:
                        spool = arg;
                        break;
                case OPT_CW_PREFIX:
                        prefix = arg;
                        break;
                case OPT_CW_TIMESTAMPS:
                        timestamps = true;
                        break;
                case OPT_CW_DISCARD_OTHER:
                        flags |= CWLOGS_DISCARD_OTHER;
                        break;
                case OPT_CW_VERBOSE:
                        verbose = true;
                        break;
                case OPT_CW_LINES:
                case OPT_CW_LINE_BYTES:
                case OPT_CW_PUMP_EVERY:
                case OPT_CW_PUMP_MS:
                case OPT_CW_DEADLINE: {
                        long *slot = id == OPT_CW_LINES        ? &lines
                                     : id == OPT_CW_LINE_BYTES ? &line_bytes
                                     : id == OPT_CW_PUMP_EVERY ? &pump_every
                                     : id == OPT_CW_PUMP_MS    ? &pump_ms
                                                               : &deadline;
                        long max = id == OPT_CW_LINES ? 1000000000L : id == OPT_CW_LINE_BYTES ? 16777216L : 86400000L;
                        if (!parse_count(arg, 0, max, slot)) {
                                fprintf(stderr, "%s debug cwlogs-ship: bad number '%s'\n", inv->program, arg);
                                return EXIT_USAGE;
                        }
                        break;
                }
                case OPT_CW_HELP:
                        cwlogs_ship_usage(stdout, inv->program);
                        return 0;
                }
        }
        const char *missing = !group ? "--group" : !stream ? "--stream" : !spool ? "--spool" : NULL;
        if (missing) {
                fprintf(stderr, "%s debug cwlogs-ship: %s is required (see --help)\n", inv->program, missing);
                return EXIT_USAGE;
        }
        if (timestamps && lines >= 0) {
                fprintf(stderr, "%s debug cwlogs-ship: --timestamps reads standard input; not with --lines\n",
                        inv->program);
                return EXIT_USAGE;
        }

        struct cwlogs *cw = NULL;
        char *err = NULL;
        int r = cwlogs_open(group, stream, region, spool, flags, &cw, &err);
        if (r < 0) {
                fprintf(stderr, "%s debug cwlogs-ship: %s\n", inv->program, err ? err : strerror(-r));
                free(err);
                return 1;
        }
        if (verbose)
                cwlogs_set_notice(cw, cwlogs_notice_stderr, (void *)inv->program);

        struct strbuf b = STRBUF_INIT;
        char *line = NULL;
        size_t cap = 0;
        long n = 0;
        int rc = 0;
        for (;;) {
                int64_t ts = -1;
                const char *text;
                size_t len;

                if (lines >= 0) {
                        if (n >= lines)
                                break;
                        b.len = 0;
                        sb_printf(&b, "%s%ld", prefix, n + 1);
                        while ((long)b.len < line_bytes)
                                sb_putc(&b, b.len % 10 == 0 ? ' ' : '.');
                        text = b.s;
                        len = b.len;
                } else {
                        ssize_t k = getline(&line, &cap, stdin);
                        if (k < 0)
                                break;
                        text = line;
                        len = (size_t)k;
                        if (timestamps) {
                                char *tab = memchr(line, '\t', len), *end;
                                long long v;

                                errno = 0;
                                v = tab ? strtoll(line, &end, 10) : 0;
                                if (!tab || errno || end != tab) {
                                        fprintf(stderr, "%s debug cwlogs-ship: line %ld: no TIMESTAMP<TAB>\n",
                                                inv->program, n + 1);
                                        rc = EXIT_USAGE;
                                        break;
                                }
                                if (line[0] == '+' || line[0] == '-') {
                                        struct timespec now;
                                        clock_gettime(CLOCK_REALTIME, &now);
                                        v += (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
                                }
                                ts = v;
                                text = tab + 1;
                                len -= (size_t)(text - line);
                        }
                }
                r = cwlogs_append(cw, ts, text, len);
                if (r < 0)
                        fprintf(stderr, "%s debug cwlogs-ship: %s\n", inv->program, cwlogs_last_error(cw));
                n++;
                if (pump_every > 0 && n % pump_every == 0)
                        (void)cwlogs_pump(cw, aws_now_ms() + pump_ms);
        }
        free(line);
        sb_free(&b);

        struct cwlogs_report rep;
        r = cwlogs_close(cw, aws_now_ms() + deadline, &rep);
        printf("appended=%" PRIu64 " delivered=%" PRIu64 " resumed=%" PRIu64 " resent=%" PRIu64 " pending=%" PRIu64
               " rejected=%" PRIu64 " lost=%" PRIu64 " discarded=%" PRIu64 " clamped=%" PRIu64 " split=%" PRIu64
               " requests=%" PRIu64 " failures=%" PRIu64 " total_delivered=%" PRIu64 " total_resent=%" PRIu64 "\n",
               rep.appended, rep.delivered, rep.resumed, rep.resent, rep.pending, rep.rejected, rep.lost,
               rep.discarded, rep.clamped, rep.split, rep.requests, rep.failures, rep.total_delivered,
               rep.total_resent);
        fflush(stdout);
        _cleanup_free_ char *summary = cwlogs_report_summary(&rep);
        fprintf(stderr, "%s debug cwlogs-ship: %s\n", inv->program, summary);
        cwlogs_report_done(&rep);
        if (rc)
                return rc;
        return r < 0 ? 1 : 0;
}

/* `debug state DIR`: the saved state as the next run would resume it. */
static int cmd_debug_state(const struct invocation *inv, int argc, char **argv)
{
        if (argc != 2 || argv[1][0] == '-') {
                fprintf(argc == 2 ? stdout : stderr,
                        "Usage: %s debug state DIR\n"
                        "Print the state saved in the state directory DIR (the checkpoint log applied, and the\n"
                        "step in flight) as JSON.  The documents it belongs to are not checked; everything else\n"
                        "is, as a resuming run checks it.\n"
                        "Exit status: 0 a state was printed, 1 none or refused, 2 usage error.\n",
                        inv->program);
                return argc == 2 && !strcmp(argv[1], "--help") ? 0 : EXIT_USAGE;
        }
        struct state_dir sd;
        char *err = NULL;
        json_t *state = NULL, *running = NULL;
        bool torn = false;
        int e = state_dir_open(argv[1], 0, &sd, &err);
        if (e >= 0)
                e = state_log_read(&sd, NULL, NULL, &state, &torn, &err);
        if (e == 0)
                err = xasprintf("%s holds no saved state", argv[1]);
        if (e > 0) {
                char *rerr = NULL;
                /* running.json is bound to the same documents as the log. */
                (void)state_read(&sd, RUNNING_FILE, NULL, &running, &rerr);
                free(rerr);
                json_t *out = json_pack("{s:o, s:o, s:b}", "state", state, "running", running ? running : json_null(),
                                        "lastRecordCutShort", torn);
                char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                puts(text ? text : "null");
                free(text);
                json_decref(out);
        } else
                fprintf(stderr, "%s debug state: %s\n", inv->program, err ? err : strerror(-e));
        free(err);
        state_dir_close(&sd);
        return e > 0 ? 0 : 1;
}

static void debug_usage(FILE *f, const char *prog)
{
        fprintf(f,
                "Usage: %s debug SUBCOMMAND [OPTIONS]\n"
                "\n"
                "Subcommands:\n"
                "  sigv4        sign a raw HTTP request and print each SigV4 stage\n"
                "  credentials  show where the AWS credentials come from (never the secret)\n"
                "  aws-request  send one signed AWS JSON 1.1 request, with retries\n"
                "  state        print the state a run saved (to see what a resume would do)\n"
                "\n"
                "Run '%s debug SUBCOMMAND --help' for its options.\n",
                prog, prog);
}

int cmd_debug(const struct invocation *inv, int argc, char **argv)
{
        if (argc < 2) {
                debug_usage(stderr, inv->program);
                return EXIT_USAGE;
        }
        const char *sub = argv[1];
        if (!strcmp(sub, "--help") || !strcmp(sub, "-help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
                debug_usage(stdout, inv->program);
                return 0;
        }
        if (!strcmp(sub, "sigv4"))
                return cmd_debug_sigv4(inv, argc - 1, argv + 1);
        if (!strcmp(sub, "credentials"))
                return cmd_debug_credentials(inv, argc - 1, argv + 1);
        if (!strcmp(sub, "aws-request"))
                return cmd_debug_aws_request(inv, argc - 1, argv + 1);
        if (!strcmp(sub, "state"))
                return cmd_debug_state(inv, argc - 1, argv + 1);
        if (!strcmp(sub, "cwlogs-ship"))
                return cmd_debug_cwlogs_ship(inv, argc - 1, argv + 1);
        fprintf(stderr, "%s debug: unknown subcommand '%s'\n\n", inv->program, sub);
        debug_usage(stderr, inv->program);
        return EXIT_USAGE;
}
