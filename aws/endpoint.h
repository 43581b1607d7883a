/* endpoint.h: which URL a service is reached at, and the checks every
 * endpoint URL passes (scheme http or https, no user, query or fragment). */
#pragma once

/* The parts of an endpoint URL. */
struct endpoint {
        char *scheme;    /* "http" or "https" */
        char *authority; /* "host[:port]" */
        char *base;      /* "" or "/prefix", no trailing '/' */
};

/* Splits and checks an endpoint URL; -EINVAL with a message. */
int endpoint_parse(const char *url, struct endpoint *ret, char **reterr_msg);
void endpoint_done(struct endpoint *e);

/* The endpoint URL of a service: the first of
 *   override (a command-line flag or configuration value), if not NULL/"";
 *   AWS_ENDPOINT_URL_<SERVICE> (service upper-cased, '-' as '_': S3, LOGS;
 *     "logs" also answers to the SDKs' AWS_ENDPOINT_URL_CLOUDWATCH_LOGS);
 *   the default endpoint of aws_endpoint_set_default() (`--endpoint-url`);
 *   AWS_ENDPOINT_URL;
 *   https://<service>.<region>.amazonaws.com (".amazonaws.com.cn" for
 *     cn-* regions).
 * The two environment variables are ignored when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (the default endpoint, given
 * on the command line, is not).  The result has a scheme of http or
 * https, no trailing '/', no query; -EINVAL with a message for anything
 * else.  Free *ret_url. */
int aws_endpoint_resolve(const char *service, const char *region, const char *override, char **ret_url,
                         char **reterr_msg);

/* Sets the process-wide default endpoint, which stands for
 * AWS_ENDPOINT_URL (and wins over it) for every service: `opentoe run
 * --endpoint-url`.  Unlike setting the variable, it does not reach the
 * environment of the processes steps start.  The URL is checked as
 * aws_endpoint_resolve() checks endpoints (-EINVAL with a message); NULL
 * or "" clears it.  Set it before any request: it is read without a
 * lock. */
int aws_endpoint_set_default(const char *url, char **reterr_msg);
