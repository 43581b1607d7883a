/* cmd_aws.c: the AWS flags `run` and `validate` share (cmd_aws.h). */
#include "cmd_aws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "http.h"
#include "s3.h"

int cmd_endpoint_url(const char *prog, const char *cmd, const char *url)
{
        char *err = NULL;

        if (*url && aws_endpoint_set_default(url, &err) >= 0)
                return 0;
        fprintf(stderr, "%s %s: --endpoint-url: %s\n", prog, cmd, err ? err : "needs a URL (http:// or https://)");
        free(err);
        return -EINVAL;
}

int cmd_owner(const char *prog, const char *cmd, const char *what, const char *owner, char **ret)
{
        char *norm = NULL, *err = NULL;

        if (s3_owner_normalize(owner, &norm, &err) < 0) {
                fprintf(stderr, "%s %s: %s: %s\n", prog, cmd, what, err);
                free(err);
                return -EINVAL;
        }
        if (ret)
                *ret = norm;
        else
                free(norm);
        return 0;
}
