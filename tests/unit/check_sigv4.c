/* check_sigv4.c: the SigV4 signer's API (aws/sigv4.h) and HMAC-SHA256.
 *
 * Known values, none computed by the code under test:
 *   - signing key: AWS's "derive a signing key" example (secret
 *     wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam);
 *   - HMAC-SHA256: RFC 4231 test cases 1 and 2;
 *   - the suite's get-vanilla and post-sts-token signatures (their .authz);
 *   - S3: the four worked examples of the S3 API reference, "Signature
 *     Calculations for the Authorization Header" (bucket examplebucket,
 *     AKIAIOSFODNN7EXAMPLE, 20130524T000000Z): GET object with Range, PUT
 *     object, GET ?lifecycle, GET ?max-keys=2&prefix=J.
 * Then S3's encoding rules (a key is encoded exactly once, never
 * normalised), UNSIGNED-PAYLOAD, session tokens, and malformed input:
 * every rejection returns -EINVAL with a message and writes no result. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hash.h"
#include "sigv4.h"
#include "strbuf.h"

#define SUITE_AK "AKIDEXAMPLE"
#define SUITE_SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE "20150830T123600Z"
#define SUITE_TOKEN                                                                                                   \
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8Y" \
        "UuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6f" \
        "E8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj" \
        "2ICCR/oLxBA=="
#define S3_AK "AKIAIOSFODNN7EXAMPLE"
#define S3_SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct sigv4_credentials suite_cred = { SUITE_AK, SUITE_SK, NULL };
static const struct sigv4_params suite_params = { "us-east-1", "service", SUITE_DATE, 0 };
static const struct sigv4_credentials s3_cred = { S3_AK, S3_SK, NULL };
static const struct sigv4_params s3_params = { "us-east-1", "s3", "20130524T000000Z", SIGV4_S3 };

static void hex(const unsigned char *d, size_t n, char *out)
{
        hash_hex(d, n, out);
}

/* The n-th line (0-based) of s, in a static buffer. */
static const char *line_of(const char *s, int n)
{
        static char buf[4096];
        for (; n > 0 && s; n--) {
                s = strchr(s, '\n');
                if (s)
                        s++;
        }
        if (!s)
                return "(no such line)";
        size_t len = strcspn(s, "\n");
        snprintf(buf, sizeof buf, "%.*s", (int)len, s);
        return buf;
}

static const char *added(const struct sigv4_result *r, const char *name)
{
        for (size_t i = 0; i < r->n_added; i++)
                if (!strcmp(r->added[i].name, name))
                        return r->added[i].value;
        return NULL;
}

/* Signs and asserts success. */
static void sign_ok(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                    const struct sigv4_params *p, struct sigv4_result *res)
{
        char *err = NULL;
        int r = sigv4_sign(req, cred, p, res, &err);
        ck_assert_msg(r == 0, "sigv4_sign: %d %s", r, err ? err : "");
        ck_assert_ptr_null(err);
}

/* Signs and asserts a clean -EINVAL whose message holds want. */
static void sign_einval(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                        const struct sigv4_params *p, const char *want)
{
        struct sigv4_result res;
        memset(&res, 0x5a, sizeof res);
        char *err = NULL;
        int r = sigv4_sign(req, cred, p, &res, &err);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err, want), "message '%s' lacks '%s'", err, want);
        ck_assert_msg(res.n_added == (size_t)0x5a5a5a5a5a5a5a5aULL, "result written on failure");
        free(err);
        /* A NULL reterr_msg is allowed. */
        ck_assert_int_eq(sigv4_sign(req, cred, p, &res, NULL), -EINVAL);
}

START_TEST(test_hmac_rfc4231)
{
        unsigned char key[20], out[32];
        char h[65];
        memset(key, 0x0b, sizeof key);
        ck_assert_int_eq(hmac_sha256(key, sizeof key, "Hi There", 8, out, NULL), 0);
        hex(out, 32, h);
        ck_assert_str_eq(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        ck_assert_int_eq(hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out, NULL), 0);
        hex(out, 32, h);
        ck_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        /* Empty key and data are valid. */
        ck_assert_int_eq(hmac_sha256(NULL, 0, NULL, 0, out, NULL), 0);
        hex(out, 32, h);
        ck_assert_str_eq(h, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}
END_TEST

START_TEST(test_signing_key)
{
        unsigned char k[32];
        char h[65];
        ck_assert_int_eq(sigv4_signing_key(SUITE_SK, "20120215", "us-east-1", "iam", k), 0);
        hex(k, 32, h);
        ck_assert_str_eq(h, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
        ck_assert_int_eq(sigv4_signing_key(SUITE_SK, "2012021", "us-east-1", "iam", k), -EINVAL);
        ck_assert_int_eq(sigv4_signing_key(SUITE_SK, "2012021x", "us-east-1", "iam", k), -EINVAL);
        ck_assert_int_eq(sigv4_signing_key("", "20120215", "us-east-1", "iam", k), -EINVAL);
        ck_assert_int_eq(sigv4_signing_key(NULL, "20120215", "us-east-1", "iam", k), -EINVAL);
        ck_assert_int_eq(sigv4_signing_key(SUITE_SK, "20120215", "us/east", "iam", k), -EINVAL);
        ck_assert_int_eq(sigv4_signing_key(SUITE_SK, "20120215", "us-east-1", "", k), -EINVAL);
        ck_assert_int_eq(sigv4_signing_key(SUITE_SK, "20120215", NULL, "iam", k), -EINVAL);
}
END_TEST

START_TEST(test_suite_vanilla_through_api)
{
        const struct sigv4_header h[] = { { "Host", "example.amazonaws.com" }, { "X-Amz-Date", SUITE_DATE } };
        struct sigv4_request req = { .method = "GET", .path = "/", .headers = h, .n_headers = 2 };
        struct sigv4_result res;
        sign_ok(&req, &suite_cred, &suite_params, &res);
        ck_assert_str_eq(res.canonical_request, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:" SUITE_DATE
                                                "\n\nhost;x-amz-date\n" EMPTY_SHA256);
        ck_assert_str_eq(res.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        ck_assert_str_eq(res.authorization,
                         "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                         "SignedHeaders=host;x-amz-date, "
                         "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        /* Nothing to add but Authorization. */
        ck_assert_uint_eq(res.n_added, 1);
        ck_assert_str_eq(res.added[0].name, "Authorization");
        sigv4_result_done(&res);

        /* Host and X-Amz-Date added when missing give the same signature. */
        struct sigv4_request bare = { .method = "GET", .path = "/", .host = "example.amazonaws.com" };
        sign_ok(&bare, &suite_cred, &suite_params, &res);
        ck_assert_str_eq(res.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        ck_assert_uint_eq(res.n_added, 3);
        ck_assert_str_eq(res.added[0].name, "Host");
        ck_assert_str_eq(res.added[0].value, "example.amazonaws.com");
        ck_assert_str_eq(res.added[1].name, "X-Amz-Date");
        ck_assert_str_eq(res.added[1].value, SUITE_DATE);
        ck_assert_str_eq(res.added[2].name, "Authorization");
        sigv4_result_done(&res);
}
END_TEST

START_TEST(test_header_rules)
{
        /* Folded lines join with commas; repeated names keep their order;
         * runs of spaces and tabs collapse; names sort case-insensitively. */
        const struct sigv4_header h[] = {
                { "Host", "example.amazonaws.com" },
                { "My-Header1", "value1\n  value2\r\n     value3" },
                { "x-b", "  two \t words  " },
                { "X-A", "z" },
                { "x-a", "y" },
                { "X-Empty", "" },
                { "X-Amz-Date", SUITE_DATE },
        };
        struct sigv4_request req = { .method = "GET", .path = "/", .headers = h, .n_headers = ELEMENTSOF(h) };
        struct sigv4_result res;
        sign_ok(&req, &suite_cred, &suite_params, &res);
        ck_assert_str_eq(res.canonical_request, "GET\n/\n\n"
                                                "host:example.amazonaws.com\n"
                                                "my-header1:value1,value2,value3\n"
                                                "x-a:z,y\n"
                                                "x-amz-date:" SUITE_DATE "\n"
                                                "x-b:two words\n"
                                                "x-empty:\n"
                                                "\n"
                                                "host;my-header1;x-a;x-amz-date;x-b;x-empty\n" EMPTY_SHA256);
        sigv4_result_done(&res);

        /* The suite's get-header-value-multiline, through the API. */
        const struct sigv4_header m[] = { { "Host", "example.amazonaws.com" },
                                          { "My-Header1", "value1\n  value2\n     value3" },
                                          { "X-Amz-Date", SUITE_DATE } };
        struct sigv4_request mreq = { .method = "GET", .path = "/", .headers = m, .n_headers = 3 };
        sign_ok(&mreq, &suite_cred, &suite_params, &res);
        ck_assert_str_eq(res.signature, "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790");
        sigv4_result_done(&res);
}
END_TEST

START_TEST(test_s3_api_reference_examples)
{
        struct sigv4_result res;
        const char *key = "test.txt";
        _cleanup_free_ char *enc = sigv4_uri_encode(key, strlen(key), true);
        _cleanup_free_ char *path = xasprintf("/%s", enc);

        /* GET Object with a Range. */
        const struct sigv4_header get[] = { { "Host", "examplebucket.s3.amazonaws.com" }, { "Range", "bytes=0-9" } };
        struct sigv4_request req = { .method = "GET", .path = path, .headers = get, .n_headers = 2 };
        sign_ok(&req, &s3_cred, &s3_params, &res);
        ck_assert_str_eq(res.canonical_request, "GET\n/test.txt\n\n"
                                                "host:examplebucket.s3.amazonaws.com\n"
                                                "range:bytes=0-9\n"
                                                "x-amz-content-sha256:" EMPTY_SHA256 "\n"
                                                "x-amz-date:20130524T000000Z\n"
                                                "\n"
                                                "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256);
        ck_assert_str_eq(line_of(res.string_to_sign, 2), "20130524/us-east-1/s3/aws4_request");
        ck_assert_str_eq(res.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
        ck_assert_str_eq(added(&res, "X-Amz-Content-Sha256"), EMPTY_SHA256);
        ck_assert_str_eq(added(&res, "X-Amz-Date"), "20130524T000000Z");
        sigv4_result_done(&res);

        /* PUT Object: key with '$', a body, a Date header. */
        const char *put_key = "test$file.text", *body = "Welcome to Amazon S3.";
        _cleanup_free_ char *put_enc = sigv4_uri_encode(put_key, strlen(put_key), true);
        _cleanup_free_ char *put_path = xasprintf("/%s", put_enc);
        ck_assert_str_eq(put_path, "/test%24file.text");
        const struct sigv4_header put[] = { { "Host", "examplebucket.s3.amazonaws.com" },
                                            { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
                                            { "x-amz-storage-class", "REDUCED_REDUNDANCY" } };
        struct sigv4_request preq = { .method = "PUT", .path = put_path, .headers = put, .n_headers = 3,
                                      .payload = body, .payload_len = strlen(body) };
        sign_ok(&preq, &s3_cred, &s3_params, &res);
        ck_assert_str_eq(line_of(res.canonical_request, 1), "/test%24file.text");
        ck_assert_str_eq(added(&res, "X-Amz-Content-Sha256"),
                         "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
        ck_assert_str_eq(res.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
        ck_assert_str_eq(res.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
        sigv4_result_done(&res);

        /* Queries of GET on the bucket: the canonical query line and the
         * signature AWS's examples give. */
        static const struct {
                const char *query, *canonical, *signature;
        } queries[] = {
                /* GET Bucket lifecycle: a parameter without a value. */
                { "lifecycle", "lifecycle=", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543" },
                /* Get Bucket (list objects): parameters sorted. */
                { "prefix=J&max-keys=2", "max-keys=2&prefix=J",
                  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7" },
        };
        const struct sigv4_header host[] = { { "Host", "examplebucket.s3.amazonaws.com" } };
        for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
                struct sigv4_request q = { .method = "GET", .path = "/", .query = queries[i].query, .headers = host,
                                           .n_headers = 1 };

                sign_ok(&q, &s3_cred, &s3_params, &res);
                ck_assert_str_eq(line_of(res.canonical_request, 2), queries[i].canonical);
                ck_assert_str_eq(res.signature, queries[i].signature);
                sigv4_result_done(&res);
        }
}
END_TEST

START_TEST(test_s3_encodes_once)
{
        /* The key `a b/c%2F`: '%' is part of the name.  Encoded once it is
         * a%20b/c%252F; S3 signs exactly that, other services encode it a
         * second time. */
        const char *key = "a b/c%2F";
        _cleanup_free_ char *enc = sigv4_uri_encode(key, strlen(key), true);
        ck_assert_str_eq(enc, "a%20b/c%252F");
        _cleanup_free_ char *full = sigv4_uri_encode(key, strlen(key), false);
        ck_assert_str_eq(full, "a%20b%2Fc%252F");
        _cleanup_free_ char *path = xasprintf("/%s", enc);

        char *uri = NULL, *err = NULL;
        ck_assert_int_eq(sigv4_canonical_uri(path, true, &uri, &err), 0);
        ck_assert_str_eq(uri, "/a%20b/c%252F");
        free(uri);
        ck_assert_int_eq(sigv4_canonical_uri(path, false, &uri, &err), 0);
        ck_assert_str_eq(uri, "/a%2520b/c%25252F");
        free(uri);

        const struct sigv4_header h[] = { { "Host", "examplebucket.s3.amazonaws.com" } };
        struct sigv4_request req = { .method = "GET", .path = path, .headers = h, .n_headers = 1 };
        struct sigv4_result res;
        sign_ok(&req, &s3_cred, &s3_params, &res);
        ck_assert_str_eq(line_of(res.canonical_request, 1), "/a%20b/c%252F");
        sigv4_result_done(&res);

        /* S3 keeps the path as it is: no dot or slash normalisation. */
        static const struct {
                const char *in, *s3, *other;
        } cases[] = {
                { "/my-object//example//photo.user", "/my-object//example//photo.user", "/my-object/example/photo.user" },
                { "/a/./b/../c", "/a/./b/../c", "/a/c" },
                { "/a/b/../../../c", "/a/b/../../../c", "/c" },
                { "/./", "/./", "/" },
                { "", "/", "/" },
                { "/a%2fb", "/a%2Fb", "/a%252fb" },          /* hex upper-cased once */
                { "/test$file.text", "/test%24file.text", "/test%24file.text" }, /* raw bytes encoded */
                { "/100%", "/100%25", "/100%25" },            /* a lone '%' */
                { "/%zz", "/%25zz", "/%25zz" },
                { "/\xe1\x88\xb4", "/%E1%88%B4", "/%E1%88%B4" },
                { "/a+b=c", "/a%2Bb%3Dc", "/a%2Bb%3Dc" },
                { "/example space/", "/example%20space/", "/example%20space/" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ck_assert_int_eq(sigv4_canonical_uri(cases[i].in, true, &uri, &err), 0);
                ck_assert_msg(!strcmp(uri, cases[i].s3), "s3 %s -> %s, want %s", cases[i].in, uri, cases[i].s3);
                free(uri);
                ck_assert_int_eq(sigv4_canonical_uri(cases[i].in, false, &uri, &err), 0);
                ck_assert_msg(!strcmp(uri, cases[i].other), "%s -> %s, want %s", cases[i].in, uri, cases[i].other);
                free(uri);
        }
        ck_assert_int_eq(sigv4_canonical_uri("no-slash", true, &uri, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "start with '/'"));
        free(err);
        err = NULL;
        ck_assert_int_eq(sigv4_canonical_uri("/a\tb", false, &uri, &err), -EINVAL);
        free(err);
}
END_TEST

START_TEST(test_canonical_query)
{
        static const struct {
                const char *in, *want;
        } cases[] = {
                { "", "" },
                { "b=2&a=1&a=0&c", "a=0&a=1&b=2&c=" },
                { "Param2=value2&Param1=value1", "Param1=value1&Param2=value2" },
                { "Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2" },
                { "a=x+y", "a=x%2By" },            /* '+' is a plus, not a space */
                { "a=x%2by", "a=x%2By" },          /* hex upper-cased */
                { "a=x%41y", "a=xAy" },            /* needless escapes decoded */
                { "a=x y/z", "a=x%20y%2Fz" },
                { "a=%zz&b=50%", "a=%25zz&b=50%25" },
                { "&&a=1&&", "a=1" },
                { "k=v=w", "k=v%3Dw" },
                { "=v", "=v" },
                { "prefix=photos/2024/&list-type=2", "list-type=2&prefix=photos%2F2024%2F" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *q = NULL, *err = NULL;
                ck_assert_int_eq(sigv4_canonical_query(cases[i].in, &q, &err), 0);
                ck_assert_msg(!strcmp(q, cases[i].want), "%s -> %s, want %s", cases[i].in, q, cases[i].want);
                free(q);
        }
        /* Too many parameters, a fragment, a control character. */
        struct strbuf b = STRBUF_INIT;
        for (int i = 0; i <= SIGV4_MAX_QUERY_PARAMS; i++)
                sb_printf(&b, "%sp%d=%d", i ? "&" : "", i, i);
        char *q = NULL, *err = NULL;
        ck_assert_int_eq(sigv4_canonical_query(sb_str(&b), &q, &err), -EINVAL);
        ck_assert_ptr_null(q);
        ck_assert_ptr_nonnull(strstr(err, "more than"));
        free(err);
        sb_free(&b);
        err = NULL;
        ck_assert_int_eq(sigv4_canonical_query("a=1#frag", &q, &err), -EINVAL);
        free(err);
        err = NULL;
        ck_assert_int_eq(sigv4_canonical_query("a=\x01", &q, &err), -EINVAL);
        free(err);
}
END_TEST

START_TEST(test_unsigned_payload)
{
        const struct sigv4_header h[] = { { "Host", "examplebucket.s3.amazonaws.com" } };
        struct sigv4_request req = { .method = "PUT", .path = "/big.bin", .headers = h, .n_headers = 1 };
        struct sigv4_params p = s3_params;
        p.flags |= SIGV4_UNSIGNED;
        struct sigv4_result res;
        sign_ok(&req, &s3_cred, &p, &res);
        ck_assert_ptr_nonnull(strstr(res.canonical_request, "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
        ck_assert_str_eq(line_of(res.canonical_request, 8), "UNSIGNED-PAYLOAD");
        ck_assert_str_eq(res.signed_headers, "host;x-amz-content-sha256;x-amz-date");
        ck_assert_str_eq(added(&res, "X-Amz-Content-Sha256"), "UNSIGNED-PAYLOAD");
        char first[65];
        memcpy(first, res.signature, sizeof first);
        sigv4_result_done(&res);

        /* The same through payload_hash, and through the request's own header. */
        req.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
        sign_ok(&req, &s3_cred, &s3_params, &res);
        ck_assert_str_eq(res.signature, first);
        sigv4_result_done(&res);
        const struct sigv4_header h2[] = { { "Host", "examplebucket.s3.amazonaws.com" },
                                           { "X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD" } };
        struct sigv4_request req2 = { .method = "PUT", .path = "/big.bin", .headers = h2, .n_headers = 2 };
        sign_ok(&req2, &s3_cred, &s3_params, &res);
        ck_assert_str_eq(res.signature, first);
        ck_assert_ptr_null(added(&res, "X-Amz-Content-Sha256"));
        sigv4_result_done(&res);

        /* Outside S3 the header is not added unless asked for. */
        struct sigv4_params q = { "us-east-1", "logs", "20130524T000000Z", SIGV4_UNSIGNED };
        sign_ok(&req, &s3_cred, &q, &res);
        ck_assert_str_eq(res.signed_headers, "host;x-amz-date");
        ck_assert_str_eq(line_of(res.canonical_request, 7), "UNSIGNED-PAYLOAD");
        sigv4_result_done(&res);
        q.flags |= SIGV4_CONTENT_SHA256;
        sign_ok(&req, &s3_cred, &q, &res);
        ck_assert_str_eq(res.signed_headers, "host;x-amz-content-sha256;x-amz-date");
        sigv4_result_done(&res);

        /* Contradictions are refused. */
        const struct sigv4_header h3[] = { { "Host", "examplebucket.s3.amazonaws.com" },
                                           { "x-amz-content-sha256", EMPTY_SHA256 } };
        struct sigv4_request req3 = { .method = "PUT", .path = "/big.bin", .headers = h3, .n_headers = 2 };
        sign_einval(&req3, &s3_cred, &p, "x-amz-content-sha256");
        req.payload_hash = EMPTY_SHA256;
        sign_einval(&req, &s3_cred, &p, "unsigned payload");
        req.payload_hash = "not-a-hash";
        sign_einval(&req, &s3_cred, &s3_params, "payload hash");
        const struct sigv4_header h4[] = { { "Host", "examplebucket.s3.amazonaws.com" },
                                           { "x-amz-content-sha256", "bogus" } };
        struct sigv4_request req4 = { .method = "PUT", .path = "/big.bin", .headers = h4, .n_headers = 2 };
        sign_einval(&req4, &s3_cred, &s3_params, "x-amz-content-sha256");
}
END_TEST

START_TEST(test_session_token)
{
        const struct sigv4_header h[] = { { "Host", "example.amazonaws.com" }, { "X-Amz-Date", SUITE_DATE } };
        struct sigv4_request req = { .method = "POST", .path = "/", .headers = h, .n_headers = 2 };
        struct sigv4_credentials cred = { SUITE_AK, SUITE_SK, SUITE_TOKEN };
        struct sigv4_result res;

        /* Signed (post-sts-header-before): added to the request and signed. */
        sign_ok(&req, &cred, &suite_params, &res);
        ck_assert_ptr_nonnull(strstr(res.canonical_request, "\nx-amz-security-token:" SUITE_TOKEN "\n"));
        ck_assert_str_eq(res.signed_headers, "host;x-amz-date;x-amz-security-token");
        ck_assert_str_eq(added(&res, "X-Amz-Security-Token"), SUITE_TOKEN);
        ck_assert_str_eq(res.signature, "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");
        sigv4_result_done(&res);

        /* Already in the request with the same value: the same signature. */
        const struct sigv4_header ht[] = { { "Host", "example.amazonaws.com" },
                                           { "X-Amz-Date", SUITE_DATE },
                                           { "X-Amz-Security-Token", SUITE_TOKEN } };
        struct sigv4_request treq = { .method = "POST", .path = "/", .headers = ht, .n_headers = 3 };
        sign_ok(&treq, &cred, &suite_params, &res);
        ck_assert_str_eq(res.signature, "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");
        ck_assert_ptr_null(added(&res, "X-Amz-Security-Token"));
        sigv4_result_done(&res);

        /* After signing (post-sts-header-after): sent, not signed. */
        struct sigv4_params after = suite_params;
        after.flags |= SIGV4_TOKEN_AFTER;
        sign_ok(&req, &cred, &after, &res);
        ck_assert_ptr_null(strstr(res.canonical_request, "x-amz-security-token"));
        ck_assert_str_eq(res.signed_headers, "host;x-amz-date");
        ck_assert_str_eq(added(&res, "X-Amz-Security-Token"), SUITE_TOKEN);
        ck_assert_str_eq(res.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
        /* Authorization comes last, after the token. */
        ck_assert_str_eq(res.added[res.n_added - 1].name, "Authorization");
        sigv4_result_done(&res);
        sign_ok(&treq, &cred, &after, &res);
        ck_assert_str_eq(res.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
        sigv4_result_done(&res);

        /* S3 with a token: token and content hash both signed. */
        struct sigv4_credentials s3tok = { S3_AK, S3_SK, "FQoGZXIvYXdzEXAMPLE/token+==" };
        const struct sigv4_header sh[] = { { "Host", "examplebucket.s3.amazonaws.com" } };
        struct sigv4_request sreq = { .method = "GET", .path = "/test.txt", .headers = sh, .n_headers = 1 };
        sign_ok(&sreq, &s3tok, &s3_params, &res);
        ck_assert_str_eq(res.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
        ck_assert_str_eq(res.added[0].name, "X-Amz-Date");
        ck_assert_str_eq(res.added[1].name, "X-Amz-Content-Sha256");
        ck_assert_str_eq(res.added[2].name, "X-Amz-Security-Token");
        ck_assert_str_eq(res.added[3].name, "Authorization");
        sigv4_result_done(&res);

        /* A different token in the request, or a malformed token. */
        const struct sigv4_header hx[] = { { "Host", "example.amazonaws.com" }, { "X-Amz-Security-Token", "other" } };
        struct sigv4_request xreq = { .method = "POST", .path = "/", .headers = hx, .n_headers = 2 };
        sign_einval(&xreq, &cred, &suite_params, "differs from the session token");
        struct sigv4_credentials bad = { SUITE_AK, SUITE_SK, "two words" };
        sign_einval(&req, &bad, &suite_params, "session token");
        bad.session_token = "";
        sign_einval(&req, &bad, &suite_params, "session token");
}
END_TEST

static char *repeat_headers(int n)
{
        struct strbuf b = STRBUF_INIT;
        sb_puts(&b, "GET / HTTP/1.1\nHost:example.amazonaws.com\n");
        for (int i = 1; i < n; i++)
                sb_printf(&b, "X-H%d:v\n", i);
        return sb_take(&b);
}

START_TEST(test_parse_request)
{
        const char *text = "POST /a b/c?x=1&y HTTP/1.1\r\n"
                           "Host:example.amazonaws.com\r\n"
                           "My-Header1:value1\r\n"
                           "  value2\r\n"
                           "\tvalue3\r\n"
                           "X-Amz-Date:" SUITE_DATE "\r\n"
                           "\r\n"
                           "body\0with nul";
        size_t len = strlen(text) + 1 + strlen("with nul");
        struct sigv4_parsed_request p;
        char *err = NULL;
        ck_assert_int_eq(sigv4_parse_request(text, len, &p, &err), 0);
        ck_assert_str_eq(p.req.method, "POST");
        ck_assert_str_eq(p.req.path, "/a b/c");
        ck_assert_str_eq(p.req.query, "x=1&y");
        ck_assert_uint_eq(p.req.n_headers, 3);
        ck_assert_str_eq(p.req.headers[0].name, "Host");
        ck_assert_str_eq(p.req.headers[1].name, "My-Header1");
        ck_assert_uint_eq(p.req.payload_len, 13);
        ck_assert_int_eq(memcmp(p.req.payload, "body\0with nul", 13), 0);
        struct sigv4_result res;
        sign_ok(&p.req, &suite_cred, &suite_params, &res);
        ck_assert_str_eq(line_of(res.canonical_request, 1), "/a%20b/c");
        ck_assert_str_eq(line_of(res.canonical_request, 2), "x=1&y=");
        ck_assert_str_eq(line_of(res.canonical_request, 4), "my-header1:value1,value2,value3");
        sigv4_result_done(&res);
        sigv4_parsed_request_done(&p);

        /* No body, no final newline, no version. */
        const char *t2 = "GET /x\nHost:h";
        ck_assert_int_eq(sigv4_parse_request(t2, strlen(t2), &p, &err), 0);
        ck_assert_str_eq(p.req.path, "/x");
        ck_assert_str_eq(p.req.query, "");
        ck_assert_uint_eq(p.req.payload_len, 0);
        ck_assert_str_eq(p.req.headers[0].value, "h");
        sigv4_parsed_request_done(&p);

        /* Exactly the limit of headers is fine. */
        char *t3 = repeat_headers(SIGV4_MAX_HEADERS);
        ck_assert_int_eq(sigv4_parse_request(t3, strlen(t3), &p, &err), 0);
        ck_assert_uint_eq(p.req.n_headers, SIGV4_MAX_HEADERS);
        sign_ok(&p.req, &suite_cred, &suite_params, &res);
        sigv4_result_done(&res);
        sigv4_parsed_request_done(&p);
        free(t3);
}
END_TEST

static void parse_einval(const char *text, size_t len, const char *want)
{
        struct sigv4_parsed_request p;
        memset(&p, 0x5a, sizeof p);
        char *err = NULL;
        ck_assert_int_eq(sigv4_parse_request(text, len, &p, &err), -EINVAL);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err, want), "message '%s' lacks '%s'", err, want);
        ck_assert_msg(p.req.n_headers == (size_t)0x5a5a5a5a5a5a5a5aULL, "result written on failure");
        free(err);
        ck_assert_int_eq(sigv4_parse_request(text, len, &p, NULL), -EINVAL);
}

#define PARSE_EINVAL(text, want) parse_einval(text, sizeof(text) - 1, want)

START_TEST(test_parse_malformed)
{
        PARSE_EINVAL("GET / HTTP/1.1\nHost:h\nNo colon here\n\n", "line 3: a header without a colon");
        char *many = repeat_headers(SIGV4_MAX_HEADERS + 1);
        parse_einval(many, strlen(many), "more than 64 headers");
        free(many);
        PARSE_EINVAL("", "empty");
        PARSE_EINVAL("\nHost:h", "request line is empty");
        PARSE_EINVAL("GET", "expected 'METHOD /path HTTP/1.1'");
        PARSE_EINVAL(" / HTTP/1.1", "expected");
        PARSE_EINVAL("GET x HTTP/1.1", "must start with '/'");
        PARSE_EINVAL("GET  / HTTP/1.1", "must start with '/'");
        PARSE_EINVAL("GET / HTTP/1.1.1", "HTTP version");
        PARSE_EINVAL("G(T / HTTP/1.1", "method");
        PARSE_EINVAL("GET / HTTP/1.1\n  folded:first\n", "continuation line before any header");
        PARSE_EINVAL("GET / HTTP/1.1\nBad Name:v\n", "header name");
        PARSE_EINVAL("GET / HTTP/1.1\nName :v\n", "header name");
        PARSE_EINVAL("GET / HTTP/1.1\n:v\n", "header name must be 1 to");
        PARSE_EINVAL("GET / HTTP/1.1\nX:a\x01z\n", "control character");
        PARSE_EINVAL("GET / HTTP/1.1\nX:a\rz\n", "control character");
        PARSE_EINVAL("GET / HTTP/1.1\nX:a\0z\n", "control character");
        PARSE_EINVAL("GET /\x7f HTTP/1.1\n", "control character");

        /* Over-long name, value and request. */
        struct strbuf b = STRBUF_INIT;
        sb_puts(&b, "GET / HTTP/1.1\n");
        for (int i = 0; i <= SIGV4_MAX_NAME_LEN; i++)
                sb_putc(&b, 'n');
        sb_puts(&b, ":v\n");
        parse_einval(sb_str(&b), b.len, "header name must be 1 to");
        sb_free(&b);
        sb_puts(&b, "GET / HTTP/1.1\nX:");
        for (int i = 0; i <= SIGV4_MAX_VALUE_LEN; i++)
                sb_putc(&b, 'v');
        parse_einval(sb_str(&b), b.len, "longer than");
        sb_free(&b);
        sb_puts(&b, "GET / HTTP/1.1\nX:v\n");
        for (int i = 0; i < SIGV4_MAX_VALUE_LEN / 8 + 2; i++)
                sb_puts(&b, " folded\n");
        parse_einval(sb_str(&b), b.len, "longer than");
        sb_free(&b);
        char *big = calloc(SIGV4_MAX_REQUEST_LEN + 1, 1);
        ck_assert_ptr_nonnull(big);
        parse_einval(big, SIGV4_MAX_REQUEST_LEN + 1, "longer than");
        free(big);
        parse_einval(NULL, 0, "no request");
}
END_TEST

START_TEST(test_sign_malformed)
{
        const struct sigv4_header ok[] = { { "Host", "example.amazonaws.com" } };
        struct sigv4_request base = { .method = "GET", .path = "/", .headers = ok, .n_headers = 1 };
        struct sigv4_request req;

        /* Too many headers. */
        struct sigv4_header many[SIGV4_MAX_HEADERS + 1];
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = (struct sigv4_header){ i ? "X-Many" : "Host", "v" };
        req = base;
        req.headers = many;
        req.n_headers = ELEMENTSOF(many);
        sign_einval(&req, &suite_cred, &suite_params, "more than 64 headers");
        req.n_headers = SIGV4_MAX_HEADERS;
        struct sigv4_result res;
        sign_ok(&req, &suite_cred, &suite_params, &res);
        sigv4_result_done(&res);

        /* Header names and values. */
        static const struct {
                struct sigv4_header h;
                const char *want;
        } bad_headers[] = {
                { { "Bad Name", "v" }, "not allowed in a token" },
                { { "Name:", "v" }, "not allowed in a token" },
                { { "", "v" }, "name must be 1 to" },
                { { NULL, "v" }, "name must be 1 to" },
                { { "X-Null", NULL }, "has no value" },
                { { "X-Ctl", "a\x01" }, "control character" },
                { { "X-Cr", "a\rb" }, "control character" },
                { { "X-Del", "a\x7f" }, "control character" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_headers); i++) {
                struct sigv4_header hh[] = { { "Host", "example.amazonaws.com" }, bad_headers[i].h };
                req = base;
                req.headers = hh;
                req.n_headers = 2;
                sign_einval(&req, &suite_cred, &suite_params, bad_headers[i].want);
        }
        char *long_value = calloc(SIGV4_MAX_VALUE_LEN + 2, 1);
        memset(long_value, 'v', SIGV4_MAX_VALUE_LEN + 1);
        struct sigv4_header lh[] = { { "Host", "example.amazonaws.com" }, { "X-Long", long_value } };
        req = base;
        req.headers = lh;
        req.n_headers = 2;
        sign_einval(&req, &suite_cred, &suite_params, "longer than");
        free(long_value);
        req = base;
        req.headers = NULL;
        req.n_headers = 3;
        sign_einval(&req, &suite_cred, &suite_params, "announced");

        /* Request line pieces. */
        req = base;
        req.method = NULL;
        sign_einval(&req, &suite_cred, &suite_params, "method");
        req.method = "G T";
        sign_einval(&req, &suite_cred, &suite_params, "method");
        req = base;
        req.path = "relative";
        sign_einval(&req, &suite_cred, &suite_params, "start with '/'");
        req = base;
        req.query = "a=\n";
        sign_einval(&req, &suite_cred, &suite_params, "control character");
        req = base;
        req.payload_len = 5;
        sign_einval(&req, &suite_cred, &suite_params, "payload length");

        /* Host and date. */
        req = base;
        req.headers = NULL;
        req.n_headers = 0;
        sign_einval(&req, &suite_cred, &suite_params, "no Host");
        req.host = "bad host";
        sign_einval(&req, &suite_cred, &suite_params, "host");
        const struct sigv4_header dh[] = { { "Host", "example.amazonaws.com" }, { "X-Amz-Date", "20150830T000000Z" } };
        req = base;
        req.headers = dh;
        req.n_headers = 2;
        sign_einval(&req, &suite_cred, &suite_params, "differs from the signing time");

        /* Credentials and parameters. */
        struct sigv4_credentials c = suite_cred;
        c.access_key = "AK/ID";
        sign_einval(&base, &c, &suite_params, "access key");
        c.access_key = NULL;
        sign_einval(&base, &c, &suite_params, "access key");
        c = suite_cred;
        c.secret_key = "";
        sign_einval(&base, &c, &suite_params, "secret key");
        static const char *const dates[] = { NULL, "", "20150830", "20150830T123600", "2015083OT123600Z",
                                             "20151330T123600Z", "20150830T253600Z", "20150830-123600Z" };
        for (size_t i = 0; i < ELEMENTSOF(dates); i++) {
                struct sigv4_params p = suite_params;
                p.amz_date = dates[i];
                sign_einval(&base, &suite_cred, &p, "YYYYMMDDTHHMMSSZ");
        }
        struct sigv4_params p = suite_params;
        p.region = "us east";
        sign_einval(&base, &suite_cred, &p, "region");
        p = suite_params;
        p.service = NULL;
        sign_einval(&base, &suite_cred, &p, "service");
        sign_einval(NULL, &suite_cred, &suite_params, "no request");
        sign_einval(&base, NULL, &suite_params, "no request");
        char *err = NULL;
        ck_assert_int_eq(sigv4_check_params(&suite_cred, &suite_params, &err), 0);
        ck_assert_ptr_null(err);
        ck_assert_int_eq(sigv4_check_params(&suite_cred, &p, &err), -EINVAL);
        free(err);
}
END_TEST

/* Random changes to valid requests: parsing and signing either succeed or
 * fail cleanly with a message. */
START_TEST(test_mutations)
{
        static const char *const seeds[] = {
                "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:" SUITE_DATE,
                "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded; charset=utf8\n"
                "Host:example.amazonaws.com\nMy-Header1:value1\n  value2\nX-Amz-Date:" SUITE_DATE "\n\nParam1=value1",
        };
        static const char alphabet[] = "\n\r\t :%/?&=.+~aZ0\x01\x7f\xe1";
        unsigned long seed = 12345;
        int n_parsed = 0, n_signed = 0;
        for (int iter = 0; iter < 3000; iter++) {
                const char *s = seeds[iter % 2];
                size_t len = strlen(s);
                char buf[512];
                memcpy(buf, s, len);
                int changes = 1 + iter % 4;
                for (int c = 0; c < changes; c++) {
                        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
                        size_t at = (seed >> 33) % len;
                        char ch = alphabet[(seed >> 17) % (sizeof alphabet - 1)];
                        switch ((seed >> 8) % 3) {
                        case 0:
                                buf[at] = ch;
                                break;
                        case 1: /* delete */
                                memmove(buf + at, buf + at + 1, len - at - 1);
                                len--;
                                break;
                        default: /* insert */
                                if (len + 1 < sizeof buf) {
                                        memmove(buf + at + 1, buf + at, len - at);
                                        buf[at] = ch;
                                        len++;
                                }
                        }
                        if (len == 0)
                                break;
                }
                struct sigv4_parsed_request p;
                char *err = NULL;
                int r = sigv4_parse_request(buf, len, &p, &err);
                if (r < 0) {
                        ck_assert_int_eq(r, -EINVAL);
                        ck_assert_ptr_nonnull(err);
                        free(err);
                        continue;
                }
                n_parsed++;
                unsigned flags = (unsigned)(iter % 16);
                struct sigv4_params params = suite_params;
                params.flags = flags;
                struct sigv4_credentials cred = suite_cred;
                if (iter % 3 == 0)
                        cred.session_token = SUITE_TOKEN;
                struct sigv4_result res;
                r = sigv4_sign(&p.req, &cred, &params, &res, &err);
                if (r < 0) {
                        ck_assert_int_eq(r, -EINVAL);
                        ck_assert_ptr_nonnull(err);
                        free(err);
                } else {
                        ck_assert_uint_eq(strlen(res.signature), 64);
                        sigv4_result_done(&res);
                        n_signed++;
                }
                sigv4_parsed_request_done(&p);
        }
        /* Enough of them get through to exercise the signer too. */
        ck_assert_int_gt(n_parsed, 1000);
        ck_assert_int_gt(n_signed, 500);
}
END_TEST

#include "check_main.h"
CHECK_MAIN_TESTS("sigv4", "sigv4", 120,
                 test_hmac_rfc4231,
                 test_signing_key,
                 test_suite_vanilla_through_api,
                 test_header_rules,
                 test_s3_api_reference_examples,
                 test_s3_encodes_once,
                 test_canonical_query,
                 test_unsigned_payload,
                 test_session_token,
                 test_parse_request,
                 test_parse_malformed,
                 test_sign_malformed,
                 test_mutations)
