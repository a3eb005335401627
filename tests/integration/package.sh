#!/bin/bash
# The Debian package, as an administrator meets it: dpkg-buildpackage -us -uc -b builds a .deb
# from the release tarball's tree (make distdir), lintian finds no error in it, and
# `apt-get install ./kobsd_*.deb` installs it on this machine without systemd running; the
# packaged /usr/bin/kobsd then runs as the packaged user kobsd on the packaged /etc/kobsd/kobsd.yml
# and is scraped; `apt-get purge` removes every file and the configuration.
#
# It installs into /usr and /etc of this machine, so it needs root and is not part of make check:
# tests/run-all.sh runs it alone, after every other test (so does .ci/run). It skips when
# not root, when the packaging tools are missing, or when a kobsd package or files of a
# `make install` into /usr or /etc are on the machine (it would replace them). It cleans up
# whatever happens: the package is purged, and the kobsd user and group, which a purge leaves
# (see below), are removed when this test created them.
. "$(dirname "$0")/lib.sh"
: "${KOBS_BUILDDIR:=$(cd "$(dirname "$KOBSD")/.." && pwd)}"

[ "$(id -u)" -eq 0 ] || skip "needs root: it installs and purges the kobsd package on this machine"
for tool in dpkg-buildpackage dh lintian apt-get dpkg-deb setpriv; do
	command -v "$tool" >/dev/null ||
		skip "$tool not installed (contrib/install-deps.sh installs debhelper, dpkg-dev and lintian)"
done
if dpkg-query -W -f='${Status}\n' kobsd 2>/dev/null | matches -v 'not-installed'; then
	skip "a kobsd package is on this machine ($(dpkg-query -W -f='${Status}' kobsd)): this test would replace and purge it"
fi
for f in /usr/bin/kobsd /etc/kobsd /etc/default/kobsd /usr/share/kobsd /lib/systemd/system/kobsd.service; do
	[ ! -e "$f" ] || skip "$f exists (a make install?): the package would take it over and the purge remove it"
done

user_existed=no
getent passwd kobsd >/dev/null && user_existed=yes
group_existed=no
getent group kobsd >/dev/null && group_existed=yes
installed=no
package_cleanup() {
	if [ $installed = yes ]; then
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get purge -y -q kobsd >>"$WORK/cleanup.log" 2>&1 ||
			echo "# cleanup: apt-get purge kobsd failed: $(tail -n 5 "$WORK/cleanup.log")" >&2
	fi
	# A purge leaves the user and group (Debian's practice, see below); take away ours.
	if [ $user_existed = no ] && getent passwd kobsd >/dev/null; then
		userdel kobsd || echo "# cleanup: userdel kobsd failed" >&2
	fi
	if [ $group_existed = no ] && getent group kobsd >/dev/null; then
		groupdel kobsd || echo "# cleanup: groupdel kobsd failed" >&2
	fi
}
trap 'package_cleanup; cleanup' EXIT

version=$(kobsd --version | sed -n '1s/^kobsd \([^ ]*\) .*/\1/p')
[ -n "$version" ] || fail "no version in kobsd --version"

# ---- build ----
SRC="$WORK/src/kobsd-$version"
mkdir -p "$WORK/src"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL timeout 300 \
	make -s -C "$KOBS_BUILDDIR" distdir distdir="$SRC" >"$WORK/distdir.log" 2>&1 ||
	fail "make distdir failed: $(tail -n 20 "$WORK/distdir.log")"
revision=$(cat "$SRC/.tarball-revision")
(cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL timeout 1200 \
	dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1 ||
	fail "dpkg-buildpackage -us -uc -b failed: $(tail -n 40 "$WORK/build.log")"
deb=$(ls "$WORK"/src/kobsd_"$version"-*_*.deb 2>/dev/null)
[ -n "$deb" ] && [ "$(wc -l <<<"$deb")" -eq 1 ] || fail "expected one kobsd_$version-*.deb, found: $(ls "$WORK/src")"
changes=$(ls "$WORK"/src/kobsd_"$version"-*_*.changes)
pass "dpkg-buildpackage -us -uc -b builds ${deb##*/} from the release tarball's tree"

lintian_status=0
timeout 600 lintian --fail-on error --display-level '>=warning' "$changes" >"$WORK/lintian.out" 2>&1 ||
	lintian_status=$?
sed 's/^/# lintian: /' "$WORK/lintian.out"
[ $lintian_status -eq 0 ] || fail "lintian found errors in ${changes##*/} (exit $lintian_status, above)"
pass "lintian finds no error ($(grep -c '^W: ' "$WORK/lintian.out") warnings, listed above)"

# ---- contents ----
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$WORK/contents"
for f in /usr/bin/kobsd /usr/share/man/man8/kobsd.8.gz /lib/systemd/system/kobsd.service \
	/lib/systemd/system/kobsd.socket /etc/kobsd/kobsd.yml /etc/default/kobsd \
	/usr/share/doc/kobsd/examples/kobsd-bpf.conf /usr/share/doc/kobsd/deployment.md \
	/usr/share/kobsd/prometheus/kobsd-alerts.yml /usr/share/kobsd/prometheus/kobsd-rules.yml; do
	grep -qxF "$f" "$WORK/contents" || fail "the package lacks $f"
done
for f in "$KOBS_SRCDIR"/grafana/dashboards/*.json; do
	grep -qxF "/usr/share/kobsd/grafana/dashboards/${f##*/}" "$WORK/contents" ||
		fail "the package lacks the dashboard ${f##*/}"
done
dpkg-deb -I "$deb" conffiles >"$WORK/conffiles" 2>/dev/null || fail "the package has no conffiles"
for f in /etc/kobsd/kobsd.yml /etc/default/kobsd; do
	grep -qxF "$f" "$WORK/conffiles" || fail "$f is not a conffile: $(cat "$WORK/conffiles")"
done
pass "the package holds the daemon, its man page, units, dashboards and rules; /etc files are conffiles"

# ---- install ----
[ ! -d /run/systemd/system ] || echo "# systemd runs here: the package's postinst starts kobsd.service"
DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "$deb" \
	>"$WORK/install.log" 2>&1 || {
	installed=yes
	fail "apt-get install ${deb##*/} failed: $(tail -n 30 "$WORK/install.log")"
}
installed=yes
dpkg-query -W -f='${Status}' kobsd | matches 'install ok installed' ||
	fail "after apt-get install, dpkg says: $(dpkg-query -W -f='${Status}' kobsd)"
entry=$(getent passwd kobsd) || fail "installing the package created no kobsd user"
IFS=: read -r _ _ uid gid _ home shell <<<"$entry"
[ "$uid" -lt 1000 ] || fail "kobsd is not a system user: uid $uid"
[ "$(getent group kobsd | cut -d: -f3)" = "$gid" ] || fail "kobsd's primary group is not the group kobsd"
case "$shell" in */nologin | /bin/false) ;; *) fail "kobsd may log in: shell $shell" ;; esac
[ ! -e "$home" ] || fail "kobsd has a home directory $home; none is needed"
pass "apt-get install works without systemd running and creates the system user kobsd (uid $uid, $shell)"

installed_version=$(dpkg-query -W -f='${Version}' kobsd)
[ "${installed_version%-*}" = "$version" ] ||
	fail "the package's version $installed_version is not kobsd's $version (debian/changelog)"
line=$(/usr/bin/kobsd --version | head -n 1)
[ "$line" = "kobsd $version (revision $revision)" ] ||
	fail "/usr/bin/kobsd --version says '$line', not 'kobsd $version (revision $revision)'"
pass "the packaged kobsd --version names version $version and the tarball's revision $revision"

unit=/lib/systemd/system/kobsd.service
grep -q '^ExecStart=/usr/bin/kobsd --config.file=/etc/kobsd/kobsd.yml ' "$unit" ||
	fail "the installed unit does not run /usr/bin/kobsd on /etc/kobsd/kobsd.yml: $(grep ExecStart= "$unit")"
if command -v systemd-analyze >/dev/null; then
	exposure=$(timeout 60 systemd-analyze security --offline=yes "$unit" 2>&1 |
		sed -n 's/.*Overall exposure level for kobsd\.service: \([0-9.]*\).*/\1/p')
	[ -n "$exposure" ] || fail "systemd-analyze security gave no exposure for the installed unit"
	awk -v v="$exposure" 'BEGIN { exit !(v + 0 <= 2.0) }' ||
		fail "the installed kobsd.service's exposure $exposure is above 2.0"
	pass "the installed kobsd.service runs /usr/bin/kobsd on /etc/kobsd/kobsd.yml, exposure $exposure"
fi

# ---- run it as the packaged user, on the packaged configuration ----
KOBSD_RUN=(setpriv --reuid=kobsd --regid=kobsd --init-groups /usr/bin/kobsd)
KOBS_WITH_BPF=1 start_kobsd --config.file=/etc/kobsd/kobsd.yml
[ "$(awk '/^Uid:/ { print $2 }' "/proc/$KOBS_PID/status")" = "$uid" ] ||
	fail "the daemon does not run as kobsd (uid $uid): $(grep '^Uid:' "/proc/$KOBS_PID/status")"
[ "$(status_of /-/ready)" = 200 ] || fail "/-/ready does not answer 200"
fetch /metrics -o "$WORK/metrics"
grep -q "^kobs_build_info{.*revision=\"$revision\"" "$WORK/metrics" ||
	fail "kobs_build_info does not name revision $revision: $(grep '^kobs_build_info' "$WORK/metrics")"
for c in system processes; do
	grep -qx "kobs_scrape_collector_success{collector=\"$c\"} 1" "$WORK/metrics" ||
		fail "the $c collector did not succeed: $(grep '^kobs_scrape_collector_success' "$WORK/metrics")"
done
grep -q '^kobs_group_processes{' "$WORK/metrics" || fail "no process groups served"
stop_kobsd || fail "the packaged daemon exited $? on SIGTERM"
pass "the packaged daemon runs as kobsd on /etc/kobsd/kobsd.yml, is ready and serves its metrics"

# ---- purge ----
DEBIAN_FRONTEND=noninteractive timeout 300 apt-get purge -y -q kobsd >"$WORK/purge.log" 2>&1 ||
	fail "apt-get purge -y kobsd failed: $(tail -n 30 "$WORK/purge.log")"
installed=no
if dpkg-query -W -f='${Status}\n' kobsd 2>/dev/null | matches -v 'not-installed'; then
	fail "after the purge dpkg still knows kobsd: $(dpkg-query -W -f='${Status}' kobsd)"
fi
while read -r f; do
	[ -d "$f" ] && continue # directories other packages share (/usr/bin, /etc/default, ...)
	[ ! -e "$f" ] || fail "the purge left $f"
done <"$WORK/contents"
for d in /etc/kobsd /usr/share/kobsd /usr/share/doc/kobsd; do
	[ ! -e "$d" ] || fail "the purge left $d: $(ls -A "$d")"
done
[ -z "$(find /etc/systemd/system -name 'kobsd.*' 2>/dev/null)" ] ||
	fail "the purge left unit links: $(find /etc/systemd/system -name 'kobsd.*')"
pass "apt-get purge removes every file of the package, /etc/kobsd and /etc/default/kobsd"

# Debian removes no system user on purge (files the user owned may remain, and its uid must not
# be handed to another user): the kobsd user stays, without a login, as it was created.
getent passwd kobsd >/dev/null || fail "the purge removed the user kobsd, which Debian's practice keeps"
pass "the purge leaves the system user kobsd, as Debian packages do (this test then removes it)"
