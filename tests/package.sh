#!/bin/bash
# package.sh: the packages scripts/package.sh makes, checked as a user
# would meet them.  The .deb and the .rpm are built from a `make dist`
# tarball; their contents (binary, awstoe link, man pages, units,
# tmpfiles.d, schema) and dependencies (the dlopened libraries by name)
# are read back; lintian and rpmlint find nothing.  The .deb is then
# installed with dpkg into a throwaway root (dpkg --root, maintainer
# scripts run chrootless against that root) inside a private mount
# namespace where the machine's / is read-only, so nothing can reach the
# machine itself; the installed binary validates the installed example,
# and the installed agent, started by hand on the root's
# /var/lib/opentoe (made by the package's tmpfiles.d), answers `opentoe
# status` and runs a submitted job.  The .rpm is installed the same way
# with rpm --root.  TAP.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
export OPENTOE_TEST_SYSTEM_ROOT=${OPENTOE_TEST_SYSTEM_ROOT:-/nonexistent/opentoe-test-system}
export OPENTOE_REBOOT_MODE=${OPENTOE_REBOOT_MODE:-exit}

for tool in dpkg-buildpackage dh lintian rpmbuild rpmlint fakeroot dpkg-deb; do
        command -v "$tool" > /dev/null || skip_all "$tool is not installed (scripts/setup.sh --package)"
done
scratch_dir work package
cd "$work" || exit 1
out=$work/out
on_failure() { :; }

version=$(sed -n 's/^AC_INIT(\[opentoe\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
arch=$(dpkg --print-architecture)
[ -n "$version" ] || bail_out "no version in configure.ac's AC_INIT"

# ---- building ----------------------------------------------------------
if PACKAGE_OUT=$out bash "$top_srcdir/scripts/package.sh" all > build.out 2> build.err; then
        ok "scripts/package.sh all builds the tarball, the .deb and the .rpm"
else
        not_ok "scripts/package.sh all builds the tarball, the .deb and the .rpm" "$(tail -n 30 build.err)"
        bail_out "no packages to check"
fi
deb=$out/opentoe_${version}_$arch.deb
rpmarch=$(rpm --eval '%{_arch}')
rpmfile=$out/opentoe-$version-1.$rpmarch.rpm
check "the .deb is named opentoe_${version}_$arch.deb" test -f "$deb"
check "the .rpm is named opentoe-$version-1.$rpmarch.rpm" test -f "$rpmfile"
check "the tarball is opentoe-$version.tar.gz" test -f "$out/opentoe-$version.tar.gz"

# ---- the .deb's contents and dependencies ------------------------------
dpkg-deb -c "$deb" | awk '{ l = $1 " " $6; if ($7 != "") l = l " " $7 " " $8; print l }' | sed 's| \./| /|' > deb.list
has() { # LIST MODE-PREFIX PATH [-> TARGET]: PATH is in LIST with that mode
        grep -qE "^$2[^ ]* $3( -> ${4:-[^ ]+})?$" "$1"
}
on_failure() { diag "$(cat deb.list)"; }
check "the .deb has /usr/bin/opentoe, executable" has deb.list -rwxr-xr-x /usr/bin/opentoe
check "the .deb has /usr/bin/awstoe, a link to opentoe" has deb.list l /usr/bin/awstoe opentoe
for m in man1/opentoe.1 man5/opentoe-document.5 man8/opentoe-agent.8; do
        check "the .deb has the man page $m" has deb.list -rw-r--r-- "/usr/share/man/$m.gz"
done
check "the .deb's awstoe(1) is opentoe(1)" has deb.list l /usr/share/man/man1/awstoe.1.gz opentoe.1.gz
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2> /dev/null)
unitdir=${unitdir:-/usr/lib/systemd/system}
for u in opentoe-agent.service opentoe-resume.service; do
        check "the .deb has the unit $unitdir/$u" has deb.list -rw-r--r-- "$unitdir/$u"
done
check "the .deb has the tmpfiles.d snippet" has deb.list -rw-r--r-- /usr/lib/tmpfiles.d/opentoe.conf
check "the .deb has the JSON Schema" has deb.list -rw-r--r-- /usr/share/opentoe/schemas/component-document.schema.json
for c in opentoe awstoe; do
        check "the .deb has the bash completion of $c" has deb.list -rw-r--r-- "/usr/share/bash-completion/completions/$c"
done
check "the .deb has the example" has deb.list -rw-r--r-- /usr/share/doc/opentoe/examples/hello-world.yml
on_failure() { :; }

# The sonames opentoe dlopens, read from the sources (the first name each
# loader tries), must be debian/rules' list...
sonames=$(grep -ho 'static const char \*const names\[\] = { "lib[^"]*"' "$top_srcdir"/common/*.c |
        sed 's/.*"\(lib[^"]*\)"/\1/' | sort)
rules=$(sed -n 's/^DLOPEN_SONAMES = //p' "$top_srcdir/packaging/debian/rules" | tr ' ' '\n' | sort)
check_eval "debian/rules' DLOPEN_SONAMES are the sonames common/*.c dlopens ($(echo $sonames))" \
        '[ -n "$sonames" ] && [ "$sonames" = "$rules" ]'
# ... and each one's package on this machine must be in Depends.
depends=$(dpkg-deb -f "$deb" Depends)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
missing=
for so in $sonames; do
        p=$(dpkg-query -S "/usr/lib/$ma/$so" 2> /dev/null || dpkg-query -S "/lib/$ma/$so" 2> /dev/null)
        p=${p%%:*}
        case ", $depends," in *", $p,"* | *", $p ("*) ;; *) missing="$missing $so($p)" ;; esac
done
check_eval "Depends names the package of every dlopened library ($depends)" '[ -z "$missing" ]'
[ -z "$missing" ] || diag "missing:$missing"
for p in libyaml-0-2 libjansson4 libpcre2-8-0; do
        check "Depends has the linked library $p (dpkg-shlibdeps)" grep -q "$p" <<< "$depends"
done

# The maintainer scripts: the agent enabled and started, not restarted by
# an upgrade; the resume unit never enabled by the package.
dpkg-deb -e "$deb" ctl
check "postinst enables and starts opentoe-agent.service" \
        bash -c "grep -q \"deb-systemd-helper enable 'opentoe-agent.service'\" ctl/postinst && grep -q \"deb-systemd-invoke start 'opentoe-agent.service'\" ctl/postinst"
check "postinst does not restart the agent, nor does prerm stop it on upgrade" \
        bash -c "! grep -q 'restart' ctl/postinst && grep -q '\"\$1\" = remove' ctl/prerm"
check "postinst does not enable opentoe-resume.service on a new install" \
        bash -c "grep -q \"debian-installed 'opentoe-resume.service'\" ctl/postinst"

if lintian --fail-on error,warning "$out/opentoe_${version}_$arch.changes" > lintian.out 2>&1 &&
        ! grep -qE '^[EW]: ' lintian.out; then
        ok "lintian reports no error or warning"
else
        not_ok "lintian reports no error or warning" "$(cat lintian.out)"
fi
check "no lintian override hides anything" bash -c "! ls '$top_srcdir'/packaging/debian/*lintian-overrides '$top_srcdir'/packaging/debian/source/lintian-overrides 2> /dev/null | grep -q ."

# ---- the .rpm's contents and dependencies ------------------------------
rpm -qp --dump "$rpmfile" 2> /dev/null | awk '{ print $1, $5, $11 }' > rpm.dump
rpmhas() { # PATH MODE [TARGET]: rpm's dump has PATH with octal MODE (and link TARGET)
        grep -qE "^$1 0*$2 ${3:-X}$" rpm.dump
}
on_failure() { diag "$(cat rpm.dump)"; }
check "the .rpm has /usr/bin/opentoe, executable" rpmhas /usr/bin/opentoe 100755
check "the .rpm has /usr/bin/awstoe, a link to opentoe" rpmhas /usr/bin/awstoe 120777 opentoe
for m in man1/opentoe.1 man1/awstoe.1 man5/opentoe-document.5 man8/opentoe-agent.8; do
        check "the .rpm has the man page $m (gzip, as on Fedora)" rpmhas "/usr/share/man/$m.gz" 100644
done
for u in opentoe-agent.service opentoe-resume.service; do
        check "the .rpm has the unit /usr/lib/systemd/system/$u" rpmhas "/usr/lib/systemd/system/$u" 100644
done
check "the .rpm has the tmpfiles.d snippet" rpmhas /usr/lib/tmpfiles.d/opentoe.conf 100644
check "the .rpm has the JSON Schema" rpmhas /usr/share/opentoe/schemas/component-document.schema.json 100644
for c in opentoe awstoe; do
        check "the .rpm has the bash completion of $c" rpmhas "/usr/share/bash-completion/completions/$c" 100644
done
check "the .rpm owns /var/lib/opentoe, mode 0700" rpmhas /var/lib/opentoe 40700
on_failure() { :; }
rpm -qpR "$rpmfile" 2> /dev/null > rpm.requires
for p in libcurl libarchive systemd-libs openssl-libs; do
        check "Requires has the Fedora/Amazon Linux name $p" grep -qE "^$p(\(|$)" rpm.requires
done
check "Requires has no Debian package name" bash -c "! grep -qE '^(libcurl4|libarchive13|libsystemd0|libssl3|libc6)' rpm.requires"
check "Requires has the linked libraries by soname (rpm's ELF dependencies)" \
        bash -c "grep -q '^libyaml-0.so.2' rpm.requires && grep -q '^libjansson.so.4' rpm.requires"
rpm -qp --scripts "$rpmfile" > rpm.scripts 2> /dev/null
check "the .rpm's %post applies the preset to the agent and runs tmpfiles" \
        bash -c "grep -q 'preset opentoe-agent.service' rpm.scripts && grep -q 'systemd-tmpfiles --create opentoe.conf' rpm.scripts"
if rpmlint --config "$top_srcdir/packaging/rpm/rpmlint.toml" --rpmlintrc "$top_srcdir/packaging/rpm/opentoe.rpmlintrc" \
        "$out"/opentoe-*.rpm "$top_srcdir/packaging/rpm/opentoe.spec" > rpmlint.out 2>&1 &&
        grep -q ' 0 errors, 0 warnings' rpmlint.out; then
        ok "rpmlint reports no error or warning (with the justified filters of opentoe.rpmlintrc)"
else
        not_ok "rpmlint reports no error or warning (with the justified filters of opentoe.rpmlintrc)" "$(cat rpmlint.out)"
fi

# ---- installing the .deb into a throwaway root -------------------------
# confined CMD...: CMD in a private mount namespace where / is read-only
# and only the scratch folder is writable.
confined() {
        unshare -m --propagation private bash -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro / && shift && exec "$@"' \
                confined "$work" "$@"
}
if [ "$(id -u)" != 0 ]; then
        skip "installing into a throwaway root needs root (dpkg --root, a mount namespace)"
        done_testing
        exit 0
fi
if ! confined bash -c '[ ! -w / ]' 2> /dev/null; then
        skip "no private mount namespace here (unshare -m): the packages are not installed"
        done_testing
        exit 0
fi
ok "the machine's / is read-only in the namespace the packages are installed in"

root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$work/tmp"
: > "$root/var/lib/dpkg/available"
# dpkg checks the Depends itself: the root's database lists the machine's
# own entries of the packages opentoe depends on (their files stay the
# machine's: the installed binary runs with the machine's libraries).
: > "$root/var/lib/dpkg/status"
for p in $(tr ',' '\n' <<< "$depends" | sed 's/(.*//; s/|.*//; s/ //g'); do
        dpkg-query -s "$p" >> "$root/var/lib/dpkg/status" 2> /dev/null && echo >> "$root/var/lib/dpkg/status"
        : > "$root/var/lib/dpkg/info/$(dpkg-query -W -f='${binary:Package}' "$p" 2> /dev/null).list"
done
host_before=$(ls /etc/systemd/system/multi-user.target.wants /var/lib/systemd/deb-systemd-helper-enabled 2> /dev/null | grep -c opentoe)
if confined env TMPDIR="$work/tmp" dpkg --root="$root" --force-script-chrootless --log="$work/dpkg.log" -i "$deb" > dpkg.out 2>&1; then
        ok "dpkg installs the .deb into the throwaway root, its Depends satisfied"
else
        not_ok "dpkg installs the .deb into the throwaway root, its Depends satisfied" "$(cat dpkg.out)"
fi
check "dpkg records opentoe $version as installed there" \
        bash -c "[ \"\$(dpkg-query --admindir='$root/var/lib/dpkg' -W -f='\${Status} \${Version}' opentoe)\" = 'install ok installed $version' ]"
check "the postinst made /var/lib/opentoe (tmpfiles.d), root's and 0700" \
        bash -c "[ \"\$(stat -c '%U %a %F' '$root/var/lib/opentoe')\" = 'root 700 directory' ]"
check "the postinst enabled opentoe-agent.service in the root" \
        test -L "$root/etc/systemd/system/multi-user.target.wants/opentoe-agent.service"
check "the postinst did not enable opentoe-resume.service" \
        bash -c "! ls '$root'/etc/systemd/system/*/opentoe-resume.service 2> /dev/null | grep -q ."
host_after=$(ls /etc/systemd/system/multi-user.target.wants /var/lib/systemd/deb-systemd-helper-enabled 2> /dev/null | grep -c opentoe)
check_eval "the machine's own systemd configuration is untouched" '[ "$host_before" = "$host_after" ]'

bin=$root/usr/bin/opentoe
check "the installed opentoe --version says $version" bash -c "'$bin' --version | grep -qF '$version'"
check "the installed awstoe --version answers" bash -c "'$root/usr/bin/awstoe' --version | grep -qF '$version'"
check "the installed opentoe validates the installed example" \
        bash -c "'$bin' validate '$root/usr/share/doc/opentoe/examples/hello-world.yml' | grep -q ': valid$'"
check "the installed schema is the source's, and JSON" \
        bash -c "cmp -s '$root/usr/share/opentoe/schemas/component-document.schema.json' '$top_srcdir/schemas/component-document.schema.json' &&
                 python3 -m json.tool '$root/usr/share/opentoe/schemas/component-document.schema.json' > /dev/null"
check "the installed vm-build-image finds the guest's scripts and units where the package put them" \
        bash -c "test -x '$root/usr/libexec/opentoe/vm-guest/opentoe-vm-guest' &&
                 grep -q \"gd='/usr/share/opentoe/vm-guest'\" '$root/usr/libexec/opentoe/vm-build-image' &&
                 test -f '$root/usr/share/opentoe/vm-guest/opentoe-vm-guest.service'"
installed_unit=$root$unitdir/opentoe-agent.service
check "the installed agent unit runs /usr/bin/opentoe agent" grep -qx 'ExecStart=/usr/bin/opentoe agent' "$installed_unit"
if command -v systemd-analyze > /dev/null; then
        # The units as installed, with the binary's path moved into the root.
        for u in opentoe-agent.service opentoe-resume.service; do
                sed "s|/usr/bin/opentoe|$bin|" "$root$unitdir/$u" > "$work/$u"
        done
        check "systemd-analyze verify accepts the installed units" \
                systemd-analyze verify --man=no "$work/opentoe-agent.service" "$work/opentoe-resume.service"
else
        skip "systemd-analyze is not installed"
fi

# ---- the installed agent, started by hand on the root's state folder ----
export OPENTOE_AGENT_ROOT=$root/var/lib/opentoe OPENTOE_STATUS_POLL_MS=50
printf '{}\n' > agent.json
"$PY" "$top_srcdir/tests/servers/notify_listener.py" "$work/notify" "$work/notify.log" &
tap_server_pids+=($!)
for _ in $(seq 50); do [ -S "$work/notify" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$work/notify "$bin" agent --config "$work/agent.json" > agent.out 2> agent.err &
agent_pid=$!
at_exit '[ -n "$agent_pid" ] && kill -9 $agent_pid 2> /dev/null'
on_failure() { diag "$(tail -n 20 "$work/agent.err" 2> /dev/null)"; }
ready() { for _ in $(seq 200); do grep -q '^READY=1' "$work/notify.log" 2> /dev/null && return 0; sleep 0.05; done; return 1; }
check "the installed agent starts and says READY=1" ready
"$bin" status --all > status.out 2> status.err
check_eval "opentoe status --all answers (exit 0) with no job" '[ $? = 0 ]'
cp "$root/usr/share/doc/opentoe/examples/hello-world.yml" hello.yml
id=$("$bin" submit --documents "$work/hello.yml" 2> submit.err)
check_eval "opentoe submit places the installed example as a job" '[ -n "$id" ]'
timeout 60 "$bin" status --wait "$id" > wait.out 2>&1
on_failure() { diag "$(cat "$work/wait.out")" "$(tail -n 20 "$work/agent.err" 2> /dev/null)"; }
check_eval "opentoe status --wait: the agent ran it to success" '[ $? = 0 ] && grep -q "status: success" wait.out'
on_failure() { diag "$(tail -n 20 "$work/agent.err" 2> /dev/null)"; }
check "opentoe status --all lists the job" bash -c "'$bin' status --all | grep -qF '$id'"
kill -TERM "$agent_pid"
wait "$agent_pid"
check_eval "the agent stops on SIGTERM with status 0" '[ $? = 0 ]'
agent_pid=
on_failure() { :; }

# ---- installing the .rpm into a throwaway root -------------------------
rroot=$work/rpmroot
mkdir -p "$rroot"
# --nodeps: the root's rpm database is empty (the libraries are Fedora
# names); --noscripts: the root has no shell for the scriptlets (rpm runs
# them chrooted).  What is checked is that rpm unpacks it as packaged.
if confined rpm --root="$rroot" --dbpath=/var/lib/rpm --initdb > rpm.out 2>&1 &&
        confined rpm --root="$rroot" --dbpath=/var/lib/rpm -i --nodeps --noscripts "$rpmfile" >> rpm.out 2>&1; then
        ok "rpm installs the .rpm into a throwaway root"
else
        not_ok "rpm installs the .rpm into a throwaway root" "$(cat rpm.out)"
fi
check "rpm records opentoe-$version-1 there" \
        bash -c "[ \"\$(rpm --root='$rroot' --dbpath=/var/lib/rpm -q opentoe 2> /dev/null)\" = 'opentoe-$version-1.$rpmarch' ]"
check "the .rpm's opentoe --version says $version" bash -c "'$rroot/usr/bin/opentoe' --version | grep -qF '$version'"
check "the .rpm's /var/lib/opentoe is root's and 0700" \
        bash -c "[ \"\$(stat -c '%U %a' '$rroot/var/lib/opentoe')\" = 'root 700' ]"

done_testing
