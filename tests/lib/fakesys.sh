# tests/lib/fakesys.sh: fake machines for OPENTOE_TEST_SYSTEM_ROOT
# (common/system.h): programs that only record what they are asked, so a
# suite can drive the reboot protocol and UpdateOS without touching the
# machine it runs on.
#
#   make_root ROOT yes|no   systemctl, reboot and crontab recording in
#                           ROOT/calls; "yes": systemd is the init system
#                           (ROOT/run/systemd/system); ROOT/kill-on-enable
#                           makes `systemctl enable` kill -9 its caller
#   make_apt ROOT           apt-get and dpkg-query over ROOT/installed and
#                           ROOT/available ("name version" lines; a 1, b 1,
#                           c 1 installed, version 2 offered); ROOT/broken
#                           names packages whose configuration fails;
#                           ROOT/reboot-after-upgrade makes an update leave
#                           ROOT/run/reboot-required
#   make_distro ROOT        apt-get (any operation), update-grub,
#                           grub2-mkconfig and yum recording in ROOT/calls,
#                           for a document's own steps (ROOT/bin on PATH)

make_root() {
        local root=$1 systemd=$2
        mkdir -p "$root/bin"
        [ "$systemd" = yes ] && mkdir -p "$root/run/systemd/system"
        cat > "$root/bin/systemctl" <<'SH'
#!/bin/bash
root=$(cd "$(dirname "$0")/.." && pwd)
echo "systemctl $*" >> "$root/calls"
if [ "$1" = enable ] && [ -e "$root/kill-on-enable" ]; then rm -f "$root/kill-on-enable"; kill -9 "$PPID"; fi
exit 0
SH
        cat > "$root/bin/reboot" <<'SH'
#!/bin/bash
root=$(cd "$(dirname "$0")/.." && pwd)
echo "reboot $* at $(date +%s.%N)" >> "$root/calls"
SH
        cat > "$root/bin/crontab" <<'SH'
#!/bin/bash
root=$(cd "$(dirname "$0")/.." && pwd)
echo "crontab $*" >> "$root/calls"
case $1 in
-l) [ -e "$root/crontab" ] || { echo "no crontab for root" >&2; exit 1; }; cat "$root/crontab" ;;
-) cat > "$root/crontab.new" && mv "$root/crontab.new" "$root/crontab" ;;
*) exit 2 ;;
esac
SH
        chmod 755 "$root/bin/"*
        : > "$root/calls"
}

make_apt() {
        local root=$1
        rm -rf "$root"
        mkdir -p "$root/bin" "$root/run"
        printf '%s\n' "a 1" "b 1" "c 1" > "$root/installed"
        printf '%s\n' "a 2" "b 2" "c 2" > "$root/available"
        cat > "$root/bin/apt-get" <<'SH'
#!/bin/bash
root=$(cd "$(dirname "$0")/.." && pwd)
echo "apt-get $* DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-}" >> "$root/calls"
sim=0 args=() skip=0
for a in "$@"; do
        if [ $skip = 1 ]; then skip=0; continue; fi
        case $a in -y|-q) ;; -s) sim=1 ;; -o) skip=1 ;; *) args+=("$a") ;; esac
done
upgradable() { awk 'NR == FNR { v[$1] = $2; next } ($1 in v) && v[$1] != $2 { print $1, $2, v[$1] }' "$root/available" "$root/installed"; }
set_version() { awk -v n="$1" -v v="$2" '$1 == n { $2 = v } { print }' "$root/installed" > "$root/i.new" && mv "$root/i.new" "$root/installed"; }
apply() {
        local n=$1 o=$2 v=$3
        if grep -qx "$n" "$root/broken" 2> /dev/null; then
                echo "dpkg: error processing package $n (--configure):" >&2
                echo " installed $n package post-installation script subprocess returned error exit status 1" >&2
                return 1
        fi
        echo "Setting up $n ($v) ..."
        set_version "$n" "$v"
        [ -e "$root/reboot-after-upgrade" ] && touch "$root/run/reboot-required"
        return 0
}
case ${args[0]} in
update) echo "Hit:1 file:/srv/repo ./ InRelease"; echo "Reading package lists..." ;;
upgrade)
        if [ $sim = 1 ]; then upgradable | while read -r n o v; do echo "Inst $n [$o] ($v local)"; done; exit 0; fi
        rc=0
        while read -r n o v; do apply "$n" "$o" "$v" || rc=100; done < <(upgradable)
        exit $rc ;;
install)
        rc=0
        for p in "${args[@]:2}"; do
                line=$(upgradable | awk -v n="$p" '$1 == n')
                if [ -z "$line" ]; then echo "$p is already the newest version."; continue; fi
                apply $line || rc=100
        done
        exit $rc ;;
*) exit 64 ;;
esac
SH
        cat > "$root/bin/dpkg-query" <<'SH'
#!/bin/bash
root=$(cd "$(dirname "$0")/.." && pwd)
cat "$root/installed"
SH
        chmod 755 "$root/bin/"*
}

# make_distro ROOT: the programs a component document's own ExecuteBash
# steps call to change a machine, for ROOT/bin put first on PATH: apt-get
# (update, upgrade, install, autoremove; any options), update-grub,
# grub2-mkconfig and yum, each only recording its arguments in
# ROOT/calls (apt-get with DEBIAN_FRONTEND, as make_apt's does).  Use with
# make_root for systemctl and reboot.
make_distro() {
        local root=$1 p
        mkdir -p "$root/bin"
        cat > "$root/bin/apt-get" <<'SH'
#!/bin/bash
root=$(cd "$(dirname "$0")/.." && pwd)
echo "apt-get $* DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-}" >> "$root/calls"
skip=0
for a in "$@"; do
        if [ $skip = 1 ]; then skip=0; continue; fi
        case $a in
        -o) skip=1 ;;
        -*) ;;
        update|upgrade|install|autoremove) echo "Reading package lists... ($a)"; exit 0 ;;
        *) echo "E: Invalid operation $a" >&2; exit 100 ;;
        esac
done
echo "E: no operation" >&2; exit 100
SH
        for p in update-grub grub2-mkconfig yum; do
                printf '%s\n' '#!/bin/bash' 'root=$(cd "$(dirname "$0")/.." && pwd)' \
                        "echo \"$p \$*\" >> \"\$root/calls\"" > "$root/bin/$p"
        done
        chmod 755 "$root/bin/"*
        touch "$root/calls"
}
