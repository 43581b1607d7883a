/* http.c: aws_http_request() and aws_http_request_start(), the request
 * loop (http_send.c) signing with the credential provider the request
 * names (credentials.c).  It is the
 * only file that ties the two together, so the provider's own requests
 * (IMDS, unsigned) reach the loop without a circle. */
#include "http.h"

#include "credentials.h"
#include "http_send.h"

static int provider_get(void *userdata, int64_t deadline_ms, struct sigv4_credentials *ret, char **reterr_msg)
{
        const struct aws_credentials *c = NULL;
        int r = aws_cred_provider_get(userdata, deadline_ms, &c, reterr_msg);

        if (r < 0)
                return r;
        *ret = (struct sigv4_credentials){
                .access_key = c->access_key_id,
                .secret_key = c->secret_access_key,
                .session_token = c->session_token,
        };
        return 0;
}

static void provider_invalidate(void *userdata)
{
        aws_cred_provider_invalidate(userdata);
}

static struct aws_http_cred_source provider_source(const struct aws_http_request *req)
{
        return (struct aws_http_cred_source){
                .get = provider_get,
                .invalidate = provider_invalidate,
                .userdata = req ? req->creds : NULL,
        };
}

int aws_http_request(struct aws_http *h, const struct aws_http_request *req, struct aws_http_response *ret,
                     char **reterr_msg)
{
        const struct aws_http_cred_source src = provider_source(req);

        return aws_http_send(h, req, req && req->creds ? &src : NULL, ret, reterr_msg);
}

int aws_http_request_start(struct aws_http *h, sd_event *ev, const struct aws_http_request *req,
                           aws_http_call_done_fn done, void *userdata, struct aws_http_call **ret_call,
                           char **reterr_msg)
{
        const struct aws_http_cred_source src = provider_source(req);

        return aws_http_send_start(h, ev, req, req && req->creds ? &src : NULL, done, userdata, ret_call,
                                   reterr_msg);
}
