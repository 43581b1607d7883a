/* docsource.h: where a component document comes from.  The one loader of
 * local paths, s3:// URIs and Image Builder component build version ARNs,
 * shared by `run`, `validate` and ExecuteDocument: a remote document is
 * fetched into a private temporary file, and everything said about it
 * names the reference the user gave, never the temporary file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct diag_list;

enum docsource_kind {
        DOCSOURCE_LOCAL,
        DOCSOURCE_S3,    /* s3://bucket/key */
        DOCSOURCE_ARN,   /* arn:aws:imagebuilder:...:component/... */
};

enum docsource_kind docsource_kind(const char *ref);
static inline bool docsource_is_remote(const char *ref)
{
        return docsource_kind(ref) != DOCSOURCE_LOCAL;
}

/* A document ready to read.  `path` is the file to open: `ref` itself
 * for a local document, else the private temporary copy. */
struct docsource {
        enum docsource_kind kind;
        const char *ref;   /* as given; not owned */
        char *path;
};

/* Makes `ref` readable at d->path: a local path as it is, an s3:// URI
 * fetched with `s3_owner` as the expected bucket owner (may be NULL), an
 * ARN from Image Builder.  Returns 0, or -errno with the fetch's message
 * in *reterr_msg (to free); d needs docsource_done() after a success. */
int docsource_open(const char *ref, const char *s3_owner, struct docsource *d, char **reterr_msg);

/* Removes a temporary copy (and its private folder).  Accepts a zeroed
 * or already finished struct. */
void docsource_done(struct docsource *d);

/* Diagnostics from diags->v[from] on that name the temporary copy are
 * renamed to the reference. */
void docsource_name_diags(const struct docsource *d, struct diag_list *diags, size_t from);
