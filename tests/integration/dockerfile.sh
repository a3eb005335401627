#!/bin/bash
# The Dockerfile, without docker (no image can be built here): its build stage's steps run as
# written on a scratch copy of the build context (the source tree less .dockerignore) and build
# the .deb; the final stage is checked against that package and contrib/kubernetes/ (base image,
# the .deb copied and installed, USER kobsd, ENTRYPOINT /usr/bin/kobsd, CMD = the DaemonSet's
# args, EXPOSE = its port, the image name it runs).
#
# What this cannot prove: that docker accepts the file, that the debian:12 and debian:12-slim
# images resolve the packages (the apt-get steps are simulated against this machine's package
# database, not run), that the .deb installs on debian:12-slim, or that the image starts. The
# package test (tests/integration/package.sh) installs the same kind of .deb on this machine and
# runs it.
#
# Builds a .deb (about a minute): skipped in the sanitizer and valgrind passes, where it would
# build the same package again.
. "$(dirname "$0")/lib.sh"

[ "${KOBS_SANITIZERS:-no}" = yes ] && skip "the package is not a sanitizer build; it is built in the development pass"
[ "${KOBS_VALGRIND:-0}" != 1 ] || skip "no daemon of this build runs here; the development pass built the package"
for tool in dpkg-buildpackage dh dpkg-deb apt-get; do
	command -v "$tool" >/dev/null || skip "$tool not installed (contrib/install-deps.sh installs debhelper and dpkg-dev)"
done
"$PYTHON" -c 'import yaml' 2>/dev/null || fail "python3-yaml not installed (contrib/install-deps.sh)"

# The revision a user passes with --build-arg KOBS_REVISION when building from a checkout.
revision=$(kobsd --version | sed -n '1s/.*(revision \(.*\))$/\1/p')
[ -n "$revision" ] || fail "no revision in kobsd --version"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL timeout 1500 \
	"$PYTHON" "$KOBS_SRCDIR/tests/integration/dockerfile_check.py" "$KOBS_SRCDIR" "$WORK" "$revision" ||
	fail "the Dockerfile does not hold (above)"
