/* debug_aws.c: `opentoe debug credentials`, which shows where the AWS
 * credentials (and region) come from, and `opentoe debug aws-request`,
 * which sends one AWS JSON 1.1 request through aws/awsjson, so the
 * credential chain, signing and retries can be tested against local
 * servers. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awsjson.h"
#include "cleanup.h"
#include "commands.h"
#include "credentials.h"
#include "debug.h"
#include "http.h"
#include "options.h"
#include "strbuf.h"

/* ---- debug credentials / debug aws-request ------------------------------ */

static void credentials_usage(FILE *f, const char *prog, const struct option_def *defs)
{
        fprintf(f,
                "Usage: %s debug credentials [--region] [--repeat N] [--interval-ms MS]\n"
                "\n"
                "Look up AWS credentials as opentoe would (environment, shared credentials\n"
                "and config files with AWS_PROFILE, then IMDSv2) and print one line:\n"
                "  credentials: source=S access_key_id=ID session_token=yes|no expiration=T|never (DETAIL)\n"
                "The secret key and the session token are never printed.\n"
                "\n"
                "Options:\n",
                prog);
        option_help(f, defs);
        fprintf(f, "\nExit status: 0 found, 1 not found (the message says what was tried), 2 usage error.\n");
}

static void aws_request_usage(FILE *f, const char *prog, const struct option_def *defs)
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
                "Options:\n",
                prog);
        option_help(f, defs);
        fprintf(f, "\nExit status: 0 HTTP 2xx, 1 any failure, 2 usage error.\n");
}

/* --repeat N and --interval-ms MS, which both commands take: their one
 * lookup or request made N times with the same provider (and client),
 * MS apart, so that caching, refreshes and retries across calls show.
 * ROUNDS_OPTIONS() is the pair's entries in a command's table (the same
 * names, bounds and defaults), in the command's own words and with its
 * own longest pause. */
struct rounds {
        long n;
        long interval_ms;
};
#define ROUNDS_INIT { .n = 1, .interval_ms = 1000 }
#define ROUNDS_OPTIONS(rounds_, max_interval_ms_, repeat_help_, interval_help_)                              \
        OPTION_NUM("repeat", &(rounds_)->n, 1, 1000, .help = repeat_help_),                                  \
        OPTION_NUM("interval-ms", &(rounds_)->interval_ms, 0, max_interval_ms_, .arg = "MS",                 \
                   .help = interval_help_)

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

int cmd_debug_credentials(const struct invocation *inv, int argc, char **argv)
{
        struct rounds rounds = ROUNDS_INIT;
        bool show_region = false;
        int r;
        const struct option_def defs[] = {
                OPTION_BOOL("region", 0, &show_region,
                            .help = "also resolve the region and print 'region: R (from SOURCE)'"),
                ROUNDS_OPTIONS(&rounds, 600000, "look up N times with the same provider (cache and refresh)",
                               "pause between lookups (default 1000)"),
                { NULL },
        };

        int status;
        if (option_parse_done(inv->program, "debug credentials", defs, argc, argv, NULL, 0, NULL, credentials_usage,
                              &status))
                return status;
        struct aws_cred_provider *prov = aws_cred_provider_new();
        int rc = 0;
        for (long i = 0; i < rounds.n && rc == 0; i++) {
                const struct aws_credentials *c;
                char *err = NULL;

                if (i > 0)
                        pause_ms(rounds.interval_ms);
                r = aws_cred_provider_get(prov, aws_now_ms() + 60000, &c, &err);
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

int cmd_debug_aws_request(const struct invocation *inv, int argc, char **argv)
{
        const char *service = NULL, *region = NULL, *target = NULL, *body = NULL, *endpoint = NULL;
        struct rounds rounds = ROUNDS_INIT;
        long deadline = -1;
        int r;
        const struct option_def defs[] = {
                OPTION_STR("service", 0, &service, .arg = "S",
                           .help = "signing name (\"logs\"); also picks AWS_ENDPOINT_URL_<S>"),
                OPTION_STR("target", 0, &target, .arg = "T",
                           .help = "X-Amz-Target (\"Logs_20140328.DescribeLogGroups\")"),
                OPTION_STR("body", 0, &body, .arg = "JSON", .help = "request body"),
                OPTION_STR("region", 0, &region, .arg = "R", .help = "region (default: resolved like the SDKs do)"),
                OPTION_STR("endpoint", 0, &endpoint, .arg = "URL",
                           .help = "endpoint, before AWS_ENDPOINT_URL_<S> and AWS_ENDPOINT_URL"),
                ROUNDS_OPTIONS(&rounds, 3600000, "send N times with the same client and credentials",
                               "pause between requests (default 1000)"),
                OPTION_NUM("deadline-ms", &deadline, 0, 3600000, .arg = "MS",
                           .help = "give each request at most MS milliseconds"),
                { NULL },
        };

        int status;
        if (option_parse_done(inv->program, "debug aws-request", defs, argc, argv, NULL, 0, NULL, aws_request_usage,
                              &status))
                return status;
        const char *missing = !service ? "--service" : !target ? "--target" : !body ? "--body" : NULL;
        if (missing) {
                fprintf(stderr, "%s debug aws-request: %s is required (see --help)\n", inv->program, missing);
                return EXIT_USAGE;
        }

        struct aws_cred_provider *prov = aws_cred_provider_new();
        struct aws_http *h = NULL;
        char *err = NULL, *url = NULL;
        int rc = 1;

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
        const struct aws_json_service svc = {
                .http = h,
                .service = service,
                .endpoint = url,
                .region = region,
                .creds = prov,
                .notice = notice_stderr,
                .userdata = (void *)inv->program,
        };
        for (long i = 0; i < rounds.n; i++) {
                struct aws_http_response resp;
                if (i > 0)
                        pause_ms(rounds.interval_ms);
                /* Each request's own: the pause before it does not count. */
                int64_t deadline_ms = deadline >= 0 ? aws_now_ms() + deadline : -1;
                r = aws_json_request(&svc, target, body, strlen(body), 0, deadline_ms, &resp, &err);
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
