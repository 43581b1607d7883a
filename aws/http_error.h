/* http_error.h: the meaning of AWS error answers and of transport
 * failures, for the request loop (http_send.c); aws_http_status_error()
 * itself is declared in http.h. */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

bool http_status_ok(long status);
/* 429, most 5xx, and the throttling and transient error codes. */
bool http_status_retryable(long status, const char *code);
/* RequestTimeTooSkewed, SignatureDoesNotMatch, ... */
bool http_code_is_skew(const char *code);
/* ExpiredToken, ExpiredTokenException, TokenRefreshRequired. */
bool http_code_is_expired_token(const char *code);

/* The code and message of an error body (either shape; etype is the
 * x-amzn-ErrorType header or NULL), each NULL when absent, and an S3
 * <ServerTime> into *ret_server_time when there is one. */
void http_parse_error(const char *body, size_t len, const char *etype, char **ret_code, char **ret_msg,
                      time_t *ret_server_time);
/* A copy of at most max bytes of s, trimmed, control characters made spaces. */
char *http_clean_text(const char *s, size_t len, size_t max);

/* -errno for a libcurl failure, and whether it is worth another attempt. */
int http_curl_errno(CURLcode c);
bool http_curl_transient(CURLcode c);
