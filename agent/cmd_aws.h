/* cmd_aws.h: the AWS flags `run` and `validate` share, checked and
 * worded once: --endpoint-url and the account ids of bucket owners. */
#pragma once

/* --endpoint-url URL: sets the endpoint of every AWS service.  On a bad
 * URL prints "PROG CMD: --endpoint-url: <why>" and returns -EINVAL. */
int cmd_endpoint_url(const char *prog, const char *cmd, const char *url);
/* An account id option (`what` names it in the message), normalised into
 * *ret when ret is not NULL (NULL when not given).  On a bad one prints
 * "PROG CMD: WHAT: <why>" and returns -EINVAL. */
int cmd_owner(const char *prog, const char *cmd, const char *what, const char *owner, char **ret);
