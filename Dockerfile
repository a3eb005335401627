# kobsd's container image: the Debian package, built from this tree in a debian:12 stage and
# installed on debian:12-slim, run as the package's unprivileged user kobsd.
#
#   docker build -t kobsd:0.1.0 .
#
# contrib/kubernetes/ deploys the image by that name (the tag is the version). From a release
# tarball the revision comes from its .tarball-revision; from a git checkout (the context leaves
# .git out) pass it: --build-arg KOBS_REVISION="$(git rev-parse --short=12 HEAD)".
# The eBPF programs are compiled against the build machine's kernel BTF
# (/sys/kernel/btf/vmlinux, which docker build sees); where there is none, build without the bpf
# collector: --build-arg DEB_BUILD_PROFILES=pkg.kobsd.nobpf.
#
# tests/integration/dockerfile.sh runs the build stage's steps outside docker and checks the
# rest of this file against the package and contrib/kubernetes/; its header says what that
# cannot prove.

FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
WORKDIR /build/kobsd
# The build dependencies of debian/control, in a layer that source changes leave alone.
COPY debian/control debian/
RUN apt-get update && apt-get build-dep -y --no-install-recommends ./ && rm -rf /var/lib/apt/lists/*
COPY . .
ARG KOBS_REVISION=
ARG DEB_BUILD_PROFILES=
RUN dpkg-buildpackage -us -uc -b && mkdir -p ../out && cp ../kobsd_*.deb ../out/

FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
COPY --from=build /build/out/ /tmp/kobsd/
RUN apt-get update && apt-get install -y --no-install-recommends /tmp/kobsd/kobsd_*.deb && rm -rf /var/lib/apt/lists/* /tmp/kobsd
# Started as kobsd, the daemon has no capability: the bpf collector reports itself off and the
# /proc collectors run. contrib/kubernetes/ starts it as root with CAP_BPF and CAP_PERFMON
# instead; it drops them once its programs are attached.
USER kobsd
EXPOSE 9477
ENTRYPOINT ["/usr/bin/kobsd"]
# The flags of contrib/kubernetes/daemonset.yaml, whose args: replace these: the host's /proc
# mounted at /host/proc (docker run -v /proc:/host/proc:ro --pid=host), the packaged kobsd.yml.
CMD ["--web.listen-address=:9477", "--path.procfs=/host/proc", "--config.file=/etc/kobsd/kobsd.yml", "--run-as=65534:65534"]
