#!/bin/sh
# Install everything kobsd's build and test suite need on Debian 12 (bookworm), the Debian
# package's build (debian/control's Build-Depends, debhelper, lintian) included.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -eu

packages="
  build-essential autoconf automake pkg-config clang-format
  libmicrohttpd-dev libproc2-dev zlib1g-dev
  libyaml-dev libpcre2-dev libcrypt-dev libgnutls28-dev
  libsystemd-dev systemd libseccomp-dev
  clang llvm libbpf-dev bpftool libclang-rt-14-dev
  libcmocka-dev
  prometheus prometheus-node-exporter openssl python3 python3-prometheus-client python3-yaml curl procps valgrind
  protobuf-compiler python3-protobuf
  wrk rt-tests chromium python3-pil
  groff-base man-db
  debhelper dpkg-dev lintian adduser
"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all build and test dependencies are installed"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

echo "install-deps: installing:$missing"
# The prometheus package would start its own server; we only want the binaries.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
