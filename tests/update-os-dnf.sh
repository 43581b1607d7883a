#!/bin/bash
# update-os-dnf.sh: UpdateOS against real dnf and rpm, confined to an
# --installroot in the scratch folder: opentoe's system root holds dnf and
# rpm wrappers that always pass the install root (and its own repository
# configuration and cache), so nothing touches the machine's packages.
# Small packages made with rpmbuild (version 1 installed, version 2 in a
# local createrepo_c repository): every update, include, exclude, include
# minus exclude, a broken update (dnf skips it, as its best=False does).  Skips when dnf, rpm,
# rpmbuild or createrepo_c is missing.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
resolve_paths
[ "$(id -u)" = 0 ] || skip_all "needs root (UpdateOS refuses to run otherwise)"
for t in dnf rpm rpmbuild createrepo_c; do
        command -v $t > /dev/null || skip_all "$t is not installed (scripts/setup.sh --test installs it)"
done
scratch_dir W update-os-dnf
cd "$W" || exit 1
R=$W/root

mkrpm() { # mkrpm NAME VERSION [REQUIRES]
        cat > "$1-$2.spec" <<SPEC
Name: $1
Version: $2
Release: 1
Summary: opentoe UpdateOS test package $1
License: MIT
BuildArch: noarch
${3:+Requires: $3
}%description
opentoe UpdateOS test package.
%install
mkdir -p %{buildroot}/usr/share/otp
echo "$1 $2" > %{buildroot}/usr/share/otp/$1
%files
/usr/share/otp/$1
SPEC
        rpmbuild --define "_topdir $W/rpmbuild" --define "_rpmdir $W/rpms/$2" --define "_build_id_links none" \
                -bb "$1-$2.spec" > "build-$1-$2.log" 2>&1 || bail_out "rpmbuild failed for $1 $2: $(tail -n 5 "build-$1-$2.log")"
}
for p in otp-a otp-b otp-c otp-bad; do mkrpm $p 1; done
mkrpm otp-a 2
mkrpm otp-b 2
mkrpm otp-c 2
mkrpm otp-bad 2 otp-missing
mkdir -p repo
cp rpms/2/noarch/*.rpm repo/
createrepo_c -q repo || bail_out "createrepo_c failed"

mkdir -p sys/bin
printf '#!/bin/bash\n[ -d %q/var/lib/rpm ] || exit 99\nexec /usr/bin/dnf --installroot=%q --setopt=reposdir=%q/etc/yum.repos.d --setopt=cachedir=%q/var/cache/dnf --releasever=1 "$@"\n' \
        "$R" "$R" "$R" "$R" > sys/bin/dnf
printf '#!/bin/bash\n[ -d %q/var/lib/rpm ] || exit 99\nexec /usr/bin/rpm --root=%q "$@"\n' "$R" "$R" > sys/bin/rpm
chmod 755 sys/bin/*

reset() { # a new install root with version 1 of otp-a, otp-b, otp-c (and otp-bad when asked)
        rm -rf "$R"
        mkdir -p "$R/var/lib/rpm" "$R/etc/yum.repos.d"
        rpm --root="$R" --initdb 2> /dev/null || bail_out "rpm --initdb failed"
        local pk=("$W"/rpms/1/noarch/otp-a-1-1.noarch.rpm "$W"/rpms/1/noarch/otp-b-1-1.noarch.rpm "$W"/rpms/1/noarch/otp-c-1-1.noarch.rpm)
        [ "${1:-}" = with-bad ] && pk+=("$W"/rpms/1/noarch/otp-bad-1-1.noarch.rpm)
        rpm --root="$R" -i --nodeps "${pk[@]}" > /dev/null 2>&1 || bail_out "cannot install version 1"
        printf '[local]\nname=opentoe tests\nbaseurl=file://%s/repo\ngpgcheck=0\nenabled=1\n' "$W" > "$R/etc/yum.repos.d/local.repo"
}
ver() { rpm --root="$R" -q --qf '%{VERSION}' "$1" 2> /dev/null; }
vers() { echo "$(ver otp-a)$(ver otp-b)$(ver otp-c)"; }
. "$top_srcdir/tests/lib/updateos.sh"

doc all.yml
reset
run all.yml
check_eval "real dnf: every update, after makecache" '[ $rc = 0 ] && [ "$(vers)" = 222 ] && echo "$con" | grep -q "Stdout: Metadata cache created"'
check_eval "... what changed" 'echo "$con" | grep -q "UpdateOS: updated otp-a 1-1 -> 2-1" && echo "$con" | grep -q "UpdateOS: 3 package(s) changed"'
doc include.yml "include: [otp-a, otp-b]"
reset
run include.yml
check_eval "real dnf: include" '[ $rc = 0 ] && [ "$(vers)" = 221 ]'
doc exclude.yml "exclude: [otp-b]"
reset
run exclude.yml
check_eval "real dnf: exclude" '[ $rc = 0 ] && [ "$(vers)" = 212 ]'
doc both.yml "include: [otp-a, otp-b]" "exclude: [otp-b]"
reset
run both.yml
check_eval "real dnf: include minus exclude" '[ $rc = 0 ] && [ "$(vers)" = 211 ]'
reset with-bad
run all.yml
check_eval "real dnf: a broken update (a dependency nobody provides) is skipped by dnf, which succeeds; console.log says why" \
        '[ $rc = 0 ] && echo "$con" | grep -q "Stderr: .*nothing provides otp-missing needed by otp-bad-2-1" && echo "$con" | grep -q "Skipped:" &&
         [ "$(ver otp-bad)" = 1 ] && [ "$(vers)" = 222 ] && ! echo "$con" | grep -q "updated otp-bad"'
done_testing
