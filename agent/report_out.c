/* report_out.c: reading a log folder and writing its report (see
 * report_out.h): the format chosen, rendered into memory, then written
 * at once (a file replaced atomically). */
#include "report_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "errmsg.h"
#include "report_html.h"
#include "report_read.h"
#include "report_text.h"

int report_format_parse(const char *s, enum report_format *ret)
{
        static const char *const names[] = { [REPORT_TEXT] = "text", [REPORT_HTML] = "html", [REPORT_JSON] = "json" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (!strcmp(s, names[i])) {
                        *ret = (enum report_format)i;
                        return 0;
                }
        return -EINVAL;
}

enum report_format report_format_for(const char *path)
{
        size_t n = strlen(path);
        if (n >= 4 && !strcmp(path + n - 4, ".txt"))
                return REPORT_TEXT;
        if (n >= 5 && !strcmp(path + n - 5, ".json"))
                return REPORT_JSON;
        return REPORT_HTML;
}

int report_write(const char *folder, enum report_format fmt, const char *out, char **reterr_msg)
{
        struct report_data d;
        int e = report_read(folder, &d, reterr_msg);
        if (e < 0)
                return e;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
                e = -errno;
                report_data_free(&d);
                return errmsg_set(reterr_msg, e, "cannot render the report: %s", strerror(-e));
        }
        if (fmt == REPORT_HTML)
                report_html(f, &d);
        else if (fmt == REPORT_JSON)
                report_json(f, &d);
        else
                report_text(f, &d);
        report_data_free(&d);
        if (fclose(f) != 0) {
                free(buf);
                return errmsg_set(reterr_msg, -ENOMEM, "cannot render the report: out of memory");
        }
        if (out)
                e = write_file_atomic(out, buf, len);
        else {
                e = write_all(1, buf, len);
        }
        free(buf);
        if (e < 0)
                return errmsg_set(reterr_msg, e, "cannot write the report to %s: %s", out ? out : "standard output",
                                  strerror(-e));
        return 0;
}
