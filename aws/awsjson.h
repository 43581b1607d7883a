/* awsjson.h: one AWS JSON 1.1 operation (POST / with Content-Type
 * application/x-amz-json-1.1 and X-Amz-Target naming the operation),
 * signed for its service and region and sent through aws_http_request():
 * the one place that knows the protocol's request, for Parameter Store
 * (aws/ssm.c), CloudWatch Logs (aws/cwlogs_api.c) and `opentoe debug
 * aws-request`. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* Where a service's operations go: the same for each of its calls. */
struct aws_json_service {
        struct aws_http *http;
        const char *service;            /* signing name: "ssm", "logs" */
        const char *endpoint;           /* from aws_endpoint_resolve() */
        const char *region;
        struct aws_cred_provider *creds;
        void (*notice)(void *userdata, const char *msg); /* retries, or NULL */
        void *userdata;
};

/* Sends the operation `target` ("AmazonSSM.GetParameter") with the JSON
 * body[0..body_len), a 2xx answer kept up to max_body bytes (0:
 * AWS_HTTP_DEFAULT_MAX_BODY), within deadline_ms (CLOCK_MONOTONIC ms, -1
 * for none).  What it returns and fills in is aws_http_request()'s. */
int aws_json_request(const struct aws_json_service *svc, const char *target, const char *body, size_t body_len,
                     size_t max_body, int64_t deadline_ms, struct aws_http_response *ret, char **reterr_msg);
