/* awsjson.c: one AWS JSON 1.1 operation as an aws/http request
 * (awsjson.h): its method, path, headers and signing. */
#include "awsjson.h"

#include "cleanup.h"

int aws_json_request(const struct aws_json_service *svc, const char *target, const char *body, size_t body_len,
                     size_t max_body, int64_t deadline_ms, struct aws_http_response *ret, char **reterr_msg)
{
        const struct aws_http_header hdrs[] = {
                { "Content-Type", AWS_JSON_CONTENT_TYPE },
                { "X-Amz-Target", target },
        };
        const struct aws_http_request req = {
                .method = "POST",
                .endpoint = svc->endpoint,
                .path = "/",
                .headers = hdrs,
                .n_headers = ELEMENTSOF(hdrs),
                .body = body,
                .body_len = body_len,
                .service = svc->service,
                .region = svc->region,
                .creds = svc->creds,
                .max_body = max_body,
                .deadline_ms = deadline_ms,
                .notice = svc->notice,
                .userdata = svc->userdata,
        };

        return aws_http_request(svc->http, &req, ret, reterr_msg);
}
