/* docsource.c: fetching a component document from where its reference
 * points (a local path, S3, Image Builder) into a file opentoe can read,
 * and cleaning up after it.  See docsource.h. */
#include "docsource.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "imagebuilder.h"
#include "s3.h"
#include "strbuf.h"

enum docsource_kind docsource_kind(const char *ref)
{
        if (ib_is_arn(ref))
                return DOCSOURCE_ARN;
        if (s3_is_uri(ref))
                return DOCSOURCE_S3;
        return DOCSOURCE_LOCAL;
}

int docsource_open(const char *ref, const char *s3_owner, struct docsource *d, char **reterr_msg)
{
        *d = (struct docsource){ .kind = docsource_kind(ref), .ref = ref };
        switch (d->kind) {
        case DOCSOURCE_ARN:
                return ib_fetch_component_temp(ref, &d->path, reterr_msg);
        case DOCSOURCE_S3:
                return s3_fetch_temp(ref, s3_owner, &d->path, reterr_msg);
        case DOCSOURCE_LOCAL:
                break;
        }
        d->path = xstrdup(ref);
        return 0;
}

void docsource_done(struct docsource *d)
{
        switch (d->kind) {
        case DOCSOURCE_ARN:
                ib_temp_remove(d->path);
                break;
        case DOCSOURCE_S3:
                s3_temp_remove(d->path);
                break;
        case DOCSOURCE_LOCAL:
                free(d->path);
                break;
        }
        d->path = NULL;
        d->kind = DOCSOURCE_LOCAL;
}

void docsource_name_diags(const struct docsource *d, struct diag_list *diags, size_t from)
{
        if (d->kind == DOCSOURCE_LOCAL || !d->path)
                return;
        for (size_t k = from; k < diags->n; k++)
                if (diags->v[k].file && !strcmp(diags->v[k].file, d->path)) {
                        free(diags->v[k].file);
                        diags->v[k].file = xstrdup(d->ref);
                }
}
