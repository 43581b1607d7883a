/* archive_unpack.h: unpacking one archive into its destination folder,
 * safely (archive_unpack.c says the rules), for ExtractArchive. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "archive_dl.h"
#include "module.h"

/* One entry of ExtractArchive's inputs, as read and checked. */
struct xa_request {
        size_t no;                  /* 1-based entry number, for messages */
        const char *source, *destination;
        bool overwrite;
        long long strip;            /* stripComponents */
};

/* Extracts the archive `req` names into its destination, asking the
 * runner (action_stop_reason(ctx)) whether to stop before each member
 * and each block of data.  0, or a negative errno with the message in
 * *reterr_msg ("ExtractArchive entry N (archive): member 'name': ...");
 * *ret_timed_out says whether the step's deadline stopped it.  What was
 * extracted before a failure stays. */
int archive_unpack(const struct archive_api *api, const struct action_ctx *ctx, const struct xa_request *req,
                   bool *ret_timed_out, char **reterr_msg);
