/* update_os.c: the UpdateOS action on Linux.  It finds the package
 * manager (dnf, yum, apt-get or zypper, through common/system.h, so tests
 * replace it), checks that opentoe runs as root, and runs one bash script
 * (a memory file, as /dev/fd/3) on the runner's loop: refresh the package
 * lists, update include minus exclude (every update when neither is
 * given, AWS's rule), non-interactively (apt: DEBIAN_FRONTEND,
 * --force-confold, DPkg::Lock::Timeout for a dpkg lock held elsewhere),
 * then say which packages changed and whether the system asks for a
 * reboot (/run/reboot-required, needs-restarting -r, zypper
 * needs-rebooting).  The package manager's output streams to console.log
 * as a step's does.  With rebootIfRequired (an opentoe extension) a
 * reboot the system asks for is requested through the runner's protocol
 * (exit 194: the step runs again after it, and finds nothing left). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "module.h"
#include "process.h"
#include "strbuf.h"
#include "system.h"
#include "tunables.h"

/* The script after its settings (PM, KIND, INCLUDE, EXCLUDE, QUERY,
 * LOCK_WAIT, REBOOT_FLAG, NEEDS, REBOOT_IF). */
static const char script_body[] =
        "set -u -o pipefail\n"
        "export DEBIAN_FRONTEND=noninteractive APT_LISTCHANGES_FRONTEND=none NEEDRESTART_MODE=a\n"
        "in_list() { local x=$1 y; shift; for y in \"$@\"; do [ \"$x\" = \"$y\" ] && return 0; done; return 1; }\n"
        "snapshot() {\n"
        "        if [ \"$KIND\" = apt ]; then \"$QUERY\" -W -f='${Package} ${Version}\\n'; else \"$QUERY\" -qa --qf '%{NAME} %{VERSION}-%{RELEASE}\\n'; fi | LC_ALL=C sort -u\n"
        "}\n"
        "APT=(\"$PM\" -y -q -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef -o \"DPkg::Lock::Timeout=$LOCK_WAIT\")\n"
        "before=$(snapshot) || { echo \"UpdateOS: cannot list the installed packages with $QUERY\" >&2; exit 1; }\n"
        "echo \"UpdateOS: refreshing the package lists with $PM\"\n"
        "case $KIND in\n"
        "apt) \"${APT[@]}\" update ;;\n"
        "dnf) \"$PM\" -y makecache ;;\n"
        "zypper) \"$PM\" --non-interactive refresh ;;\n"
        "esac || { echo \"UpdateOS: refreshing the package lists with $PM failed\" >&2; exit 1; }\n"
        "# What is updated: include minus exclude; without include, every update\n"
        "# minus exclude.\n"
        "all=1\n"
        "targets=()\n"
        "if [ ${#INCLUDE[@]} -gt 0 ]; then\n"
        "        all=0\n"
        "        for p in \"${INCLUDE[@]}\"; do in_list \"$p\" \"${EXCLUDE[@]}\" || targets+=(\"$p\"); done\n"
        "elif [ ${#EXCLUDE[@]} -gt 0 ] && [ \"$KIND\" != dnf ]; then\n"
        "        all=0\n"
        "        if [ \"$KIND\" = apt ]; then\n"
        "                offered=$(\"$PM\" -s -q -o Debug::NoLocking=1 upgrade | awk '$1 == \"Inst\" { print $2 }') || exit 1\n"
        "        else\n"
        "                offered=$(\"$PM\" --non-interactive -q list-updates | awk -F'|' 'NR > 2 { gsub(/ /, \"\", $3); print $3 }') || exit 1\n"
        "        fi\n"
        "        for p in $offered; do in_list \"$p\" \"${EXCLUDE[@]}\" || targets+=(\"$p\"); done\n"
        "fi\n"
        "rc=0\n"
        "if [ $all = 1 ]; then\n"
        "        echo \"UpdateOS: installing every available update${EXCLUDE[0]:+ except ${EXCLUDE[*]}}\"\n"
        "        case $KIND in\n"
        "        apt) \"${APT[@]}\" upgrade ;;\n"
        "        dnf) ex=(); for p in \"${EXCLUDE[@]}\"; do ex+=(\"--exclude=$p\"); done; \"$PM\" -y upgrade \"${ex[@]}\" ;;\n"
        "        zypper) \"$PM\" --non-interactive update ;;\n"
        "        esac\n"
        "        rc=$?\n"
        "elif [ ${#targets[@]} -gt 0 ]; then\n"
        "        echo \"UpdateOS: updating ${targets[*]}\"\n"
        "        case $KIND in\n"
        "        apt) \"${APT[@]}\" install --only-upgrade \"${targets[@]}\" ;;\n"
        "        dnf) \"$PM\" -y upgrade \"${targets[@]}\" ;;\n"
        "        zypper) \"$PM\" --non-interactive update \"${targets[@]}\" ;;\n"
        "        esac\n"
        "        rc=$?\n"
        "else\n"
        "        echo \"UpdateOS: nothing to update (every candidate is excluded)\"\n"
        "fi\n"
        "after=$(snapshot)\n"
        "changes=$(awk 'NR == FNR { old[$1] = $2; next }\n"
        "        !($1 in old) { print \"UpdateOS: installed \" $1 \" \" $2; next }\n"
        "        old[$1] != $2 { print \"UpdateOS: updated \" $1 \" \" old[$1] \" -> \" $2 }' <(printf '%s\\n' \"$before\") <(printf '%s\\n' \"$after\"))\n"
        "if [ -n \"$changes\" ]; then\n"
        "        printf '%s\\n' \"$changes\"\n"
        "        echo \"UpdateOS: $(printf '%s\\n' \"$changes\" | wc -l) package(s) changed\"\n"
        "else\n"
        "        echo \"UpdateOS: no package changed\"\n"
        "fi\n"
        "if [ $rc != 0 ]; then\n"
        "        echo \"UpdateOS: $PM failed (exit status $rc)\" >&2\n"
        "        [ $rc = 194 ] && rc=1\n"
        "        exit $rc\n"
        "fi\n"
        "reboot=\n"
        "case $KIND in\n"
        "apt) [ -e \"$REBOOT_FLAG\" ] && reboot=$REBOOT_FLAG ;;\n"
        "dnf) if [ -n \"$NEEDS\" ]; then \"$NEEDS\" -r > /dev/null; [ $? = 1 ] && reboot=\"needs-restarting -r\"; fi ;;\n"
        "zypper) \"$PM\" needs-rebooting > /dev/null; [ $? = 102 ] && reboot=\"zypper needs-rebooting\" ;;\n"
        "esac\n"
        "if [ -z \"$reboot\" ]; then\n"
        "        echo \"UpdateOS: the system does not ask for a reboot\"\n"
        "        exit 0\n"
        "fi\n"
        "echo \"UpdateOS: the system asks for a reboot ($reboot)\"\n"
        "if [ \"$REBOOT_IF\" = 1 ]; then\n"
        "        echo \"UpdateOS: rebooting (rebootIfRequired); the step runs again after the reboot\"\n"
        "        exit 194\n"
        "fi\n"
        "exit 0\n";

/* A value in single quotes for bash. */
static void sh_quote(struct strbuf *b, const char *s)
{
        sb_putc(b, '\'');
        for (; *s; s++) {
                if (*s == '\'')
                        sb_puts(b, "'\\''");
                else
                        sb_putc(b, *s);
        }
        sb_putc(b, '\'');
}

/* A string-list input as a bash array; -EINVAL when it is not one. */
static int sh_array(struct strbuf *b, const char *var, const json_t *list)
{
        size_t i;
        json_t *v;
        sb_printf(b, "%s=(", var);
        if (list && !json_is_null(list)) {
                if (!json_is_array(list))
                        return -EINVAL;
                json_array_foreach(list, i, v) {
                        const char *s = json_string_value(v);
                        /* A package name never starts with '-' (it would be an option). */
                        if (!s || !*s || *s == '-' || strpbrk(s, " \t\n"))
                                return -EINVAL;
                        sb_putc(b, ' ');
                        sh_quote(b, s);
                }
        }
        sb_puts(b, " )\n");
        return 0;
}

struct manager {
        const char *name;       /* as found */
        const char *kind;       /* apt, dnf (dnf and yum), zypper */
        const char *query;      /* the installed-package lister */
};

static const struct manager managers[] = {
        { "dnf", "dnf", "rpm" },
        { "yum", "dnf", "rpm" },
        { "apt-get", "apt", "dpkg-query" },
        { "zypper", "zypper", "rpm" },
};

/* The end of the package manager's run, on its way to the runner: the
 * script's own "UpdateOS: ..." lines (what changed, whether a reboot is
 * asked for) also go to application.log. */
struct update_os_end {
        action_done_fn done;
        void *done_userdata;
};

static void update_os_done(void *userdata, struct action_result *res)
{
        struct update_os_end *end = userdata;
        const json_t *first = json_array_get(res->outputs, 0);
        const char *out = json_string_value(json_object_get(first, "stdout"));
        struct strbuf note = STRBUF_INIT;
        for (const char *p = out; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                if (n > 10 && !strncmp(p, "UpdateOS: ", 10)) {
                        if (note.len)
                                sb_puts(&note, "; ");
                        sb_append(&note, p + 10, n - 10);
                }
                p += n + (nl ? 1 : 0);
        }
        if (note.len)
                res->app_note = sb_take(&note);
        sb_free(&note);
        end->done(end->done_userdata, res);
        free(end);
}

static int update_os_start(const struct action_ctx *ctx, const json_t *inputs, action_done_fn done,
                           void *done_userdata, struct action_job **ret_job)
{
        const json_t *include = json_is_object(inputs) ? json_object_get(inputs, "include") : NULL;
        const json_t *exclude = json_is_object(inputs) ? json_object_get(inputs, "exclude") : NULL;
        bool reboot_if = false;
        if (json_is_object(inputs) && action_input_bool(inputs, "rebootIfRequired", false, &reboot_if) < 0)
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "UpdateOS: rebootIfRequired must be true or false");
        /* AWS: "requires sudo, otherwise an error.Input is returned". */
        if (geteuid() != 0)
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "UpdateOS: installing updates needs root; run opentoe as root (sudo)");
        const struct manager *m = NULL;
        _cleanup_free_ char *pm = NULL, *query = NULL, *bash = NULL, *needs = NULL;
        for (size_t i = 0; i < ELEMENTSOF(managers) && !m; i++)
                if (sys_find(managers[i].name, &pm) == 0)
                        m = &managers[i];
        if (!m)
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "UpdateOS: no package manager was found (looked for dnf, yum, apt-get and "
                                        "zypper)");
        if (sys_find(m->query, &query) < 0)
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "UpdateOS: %s was found but not %s, which lists the installed packages",
                                        m->name, m->query);
        if (access("/bin/bash", X_OK) == 0)
                bash = strdup("/bin/bash");
        else if (access("/usr/bin/bash", X_OK) == 0)
                bash = strdup("/usr/bin/bash");
        if (!bash)
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "UpdateOS: bash was not found at /bin/bash or /usr/bin/bash");
        if (!strcmp(m->kind, "dnf"))
                (void)sys_find("needs-restarting", &needs);
        _cleanup_free_ char *flag = sys_path("/run/reboot-required");

        struct strbuf s = STRBUF_INIT;
        sb_puts(&s, "PM=");
        sh_quote(&s, pm);
        sb_printf(&s, "\nKIND=%s\nQUERY=", m->kind);
        sh_quote(&s, query);
        sb_puts(&s, "\nREBOOT_FLAG=");
        sh_quote(&s, flag);
        sb_puts(&s, "\nNEEDS=");
        sh_quote(&s, needs ? needs : "");
        sb_printf(&s, "\nLOCK_WAIT=%ld\nREBOOT_IF=%d\n", env_long("OPENTOE_UPDATEOS_LOCK_WAIT_S", 600, 0, 86400),
                  reboot_if ? 1 : 0);
        if (sh_array(&s, "INCLUDE", include) < 0 || sh_array(&s, "EXCLUDE", exclude) < 0) {
                sb_free(&s);
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "UpdateOS: include and exclude must be lists of package names");
        }
        sb_puts(&s, script_body);

        int fd = memfd_create("opentoe-update-os", MFD_CLOEXEC);
        if (fd >= 0 && fd <= STDERR_FILENO) {
                int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
                close(fd);
                fd = moved;
        }
        int r = fd < 0 ? -errno : write_all(fd, s.s, s.len);
        sb_free(&s);
        if (r < 0) {
                safe_close(fd);
                return proc_action_fail(ctx, done, done_userdata, ret_job, "UpdateOS: cannot prepare its script: %s",
                                        strerror(-r));
        }
        char *argv[] = { bash, (char *)"/dev/fd/3", NULL };
        struct update_os_end *end = xmalloc(sizeof *end);
        *end = (struct update_os_end){ done, done_userdata };
        r = proc_action_start(ctx, argv, fd, NULL, NULL, update_os_done, end, ret_job);
        close(fd);
        if (r < 0)
                free(end);
        return r;
}

PROC_ACTION(UpdateOS, update_os_module, update_os_start);
