#!/bin/bash
# The Kubernetes manifests in contrib/kubernetes/ hold together (kustomization, selectors, the
# metrics port, the DaemonSet's privileges and mounts), and the real daemon accepts the
# DaemonSet's flags and the ConfigMap's configuration. No cluster is involved.
. "$(dirname "$0")/lib.sh"

"$PYTHON" -c 'import yaml' 2>/dev/null || fail "python3-yaml not installed (contrib/install-deps.sh)"
"$PYTHON" "$KOBS_SRCDIR/tests/integration/k8s_check.py" "$KOBS_SRCDIR/contrib/kubernetes" \
	"$WORK" "${KOBSD_RUN[@]}" || fail "the manifests do not hold together (above)"
valgrind_verdict || fail "valgrind found problems (above)"
