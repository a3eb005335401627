"""Checks the Kubernetes manifests in contrib/kubernetes/ without a cluster.

Usage: k8s_check.py MANIFEST_DIR WORKDIR KOBSD_COMMAND...

Loads every manifest and checks what must hold between them (names, labels, ports, the DaemonSet's
privileges and mounts), then runs the real daemon (KOBSD_COMMAND, which may be valgrind's wrapper)
on the DaemonSet's own arguments and the ConfigMap's configuration with --check-config. Prints
"ok - ..." per check; the first failed check ends the run with its reason and exit status 1.
"""

import os
import re
import subprocess
import sys

import yaml

NAMESPACE = "monitoring"
PORT_NAME = "metrics"
PORT = 9477


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def load(directory):
    """Every document of every .yaml file, by kind; kinds must be unique here."""
    objects, files = {}, sorted(f for f in os.listdir(directory) if f.endswith((".yaml", ".yml")))
    for name in files:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                for key in ("apiVersion", "kind"):
                    check(key in doc, f"{name}: no {key}")
                check(doc["kind"] not in objects, f"{name}: a second {doc['kind']}")
                objects[doc["kind"]] = (name, doc)
    return objects, files


def mebibytes(quantity):
    m = re.fullmatch(r"([0-9]+)(Ki|Mi|Gi)", str(quantity))
    check(m, f"memory quantity {quantity!r} is not in Ki, Mi or Gi")
    return int(m.group(1)) * {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}[m.group(2)]


def subset(small, big):
    return all(big.get(k) == v for k, v in small.items())


def the_container(ds):
    containers = ds["spec"]["template"]["spec"]["containers"]
    check(len(containers) == 1, "the DaemonSet has exactly one container")
    return containers[0]


def flag_value(args, flag):
    values = [a.split("=", 1)[1] for a in args if a.startswith(flag + "=")]
    check(len(values) == 1, f"the DaemonSet passes {flag}= exactly once")
    return values[0]


def check_kustomization(objects, files):
    name, k = objects["Kustomization"]
    listed = k.get("resources", [])
    others = [f for f in files if f != name]
    check(sorted(listed) == others, f"{name} lists {sorted(listed)}, the directory holds {others}")
    check(k.get("namespace") == NAMESPACE, f"{name} sets namespace {NAMESPACE}")
    print(f"ok - kustomization.yaml lists every manifest: {', '.join(listed)}")


def check_namespaces(objects):
    for kind, (name, doc) in objects.items():
        if kind in ("Kustomization", "Namespace"):
            continue
        ns = doc["metadata"].get("namespace")
        check(ns == NAMESPACE, f"{name}: {kind} is in namespace {ns}, not {NAMESPACE}")
        check(doc["metadata"].get("name") == "kobsd", f"{name}: {kind} is not named kobsd")
    if "Namespace" in objects:
        check(objects["Namespace"][1]["metadata"]["name"] == NAMESPACE, "namespace.yaml names it")
    print(f"ok - every object is kobsd in namespace {NAMESPACE}")


def check_daemonset_host_access(ds):
    pod = ds["spec"]["template"]["spec"]
    c = the_container(ds)
    check(pod.get("hostPID") is True, "hostPID: true (libproc2 reads /proc itself)")
    check(pod.get("hostNetwork") is not True, "no hostNetwork")
    procfs = flag_value(c["args"], "--path.procfs")
    check(procfs == "/host/proc", f"--path.procfs=/host/proc, not {procfs}")
    mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"] == procfs]
    check(len(mounts) == 1, f"one volume mounted at {procfs}")
    check(mounts[0].get("readOnly") is True, f"{procfs} is mounted read-only")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    vol = vols.get(mounts[0]["name"], {})
    check(vol.get("hostPath", {}).get("path") == "/proc", f"{procfs} is the node's /proc")
    for m in c.get("volumeMounts", []):
        check(m.get("readOnly") is True, f"volume {m['name']} is mounted read-only")
    tolerations = pod.get("tolerations", [])
    check(any(t.get("operator") == "Exists" and "key" not in t for t in tolerations),
          "a toleration of every taint (operator: Exists, no key): every node")
    print("ok - DaemonSet: hostPID, the node's /proc read-only at /host/proc = --path.procfs, "
          "every taint tolerated")


def check_daemonset_privileges(ds):
    sc = the_container(ds).get("securityContext", {})
    caps = sc.get("capabilities", {})
    check(caps.get("drop") == ["ALL"], f"capabilities drop ALL, not {caps.get('drop')}")
    add = caps.get("add", [])
    check(sorted(add) == ["BPF", "PERFMON", "SETGID", "SETUID"],
          f"capabilities add exactly BPF, PERFMON, SETUID and SETGID, not {add}")
    run_as = flag_value(the_container(ds)["args"], "--run-as")
    check(run_as is not None and not run_as.startswith("0"),
          f"--run-as names the unprivileged user root switches to, not {run_as}")
    check(sc.get("runAsUser") == 0, "runAsUser: 0 (added capabilities are effective only for root)")
    check(sc.get("privileged") is not True, "not privileged")
    check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
    check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")
    check(sc.get("seccompProfile", {}).get("type") in ("RuntimeDefault", "Localhost"),
          "a seccomp profile")
    pod = ds["spec"]["template"]["spec"]
    check(pod.get("securityContext", {}).get("privileged") is not True, "pod not privileged")
    print("ok - DaemonSet: capabilities drop ALL and add BPF, PERFMON, SETUID, SETGID only; root "
          "that switches to --run-as, no escalation, read-only root, seccomp")


def check_daemonset_serving(ds):
    c = the_container(ds)
    ports = c.get("ports", [])
    check(len(ports) == 1 and ports[0].get("name") == PORT_NAME
          and ports[0].get("containerPort") == PORT,
          f"one container port, {PORT_NAME} = {PORT}: {ports}")
    listen = flag_value(c["args"], "--web.listen-address")
    check(listen.rsplit(":", 1)[-1] == str(PORT), f"--web.listen-address {listen} is port {PORT}")
    for probe, path in (("livenessProbe", "/-/healthy"), ("readinessProbe", "/-/ready")):
        get = c.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path, f"{probe} gets {path}, not {get.get('path')}")
        check(get.get("port") in (PORT_NAME, PORT), f"{probe} is on port {PORT_NAME}")
    res = c.get("resources", {})
    for key in ("cpu", "memory"):
        check(key in res.get("requests", {}), f"a {key} request")
    check("memory" in res.get("limits", {}), "a memory limit")
    req, lim = mebibytes(res["requests"]["memory"]), mebibytes(res["limits"]["memory"])
    # The measured footprint is 8.1 MiB resident without BPF, 9.5 MiB with it (docs, README).
    check(10 <= req <= lim, f"memory request {req} MiB covers the 9.5 MiB footprint, limit {lim}")
    print(f"ok - DaemonSet: port {PORT_NAME} {PORT} = --web.listen-address, probes on /-/healthy "
          f"and /-/ready, requests cpu {res['requests']['cpu']} memory {req:g}Mi, limit {lim:g}Mi")


def check_selectors(ds, svc, sm):
    pod_labels = ds["spec"]["template"]["metadata"]["labels"]
    sel = ds["spec"]["selector"]["matchLabels"]
    check(sel and subset(sel, pod_labels), "the DaemonSet's selector matches its pods")
    check(svc["spec"]["selector"] and subset(svc["spec"]["selector"], pod_labels),
          "the Service's selector matches the DaemonSet's pods")
    sm_sel = sm["spec"]["selector"]["matchLabels"]
    check(sm_sel and subset(sm_sel, svc["metadata"]["labels"]),
          "the ServiceMonitor's selector matches the Service's labels")
    names = sm["spec"].get("namespaceSelector", {}).get("matchNames", [svc["metadata"]["namespace"]])
    check(svc["metadata"]["namespace"] in names, "the ServiceMonitor looks in the Service's namespace")
    print("ok - selectors: DaemonSet -> pods, Service -> pods, ServiceMonitor -> Service")


def check_service_and_monitor(svc, sm):
    ports = svc["spec"]["ports"]
    check(len(ports) == 1 and ports[0]["name"] == PORT_NAME and ports[0]["port"] == PORT
          and ports[0].get("targetPort") in (PORT_NAME, PORT),
          f"the Service's port is {PORT_NAME} {PORT} to the pods' {PORT_NAME}: {ports}")
    check(sm["apiVersion"] == "monitoring.coreos.com/v1", "ServiceMonitor is monitoring.coreos.com/v1")
    eps = sm["spec"]["endpoints"]
    check(len(eps) == 1 and eps[0].get("port") == PORT_NAME, f"the ServiceMonitor scrapes port {PORT_NAME}")
    ep = eps[0]
    check(ep.get("interval") == "15s", f"interval 15s, not {ep.get('interval')}")
    check(ep.get("path", "/metrics") == "/metrics", "path /metrics")
    check(any(r.get("sourceLabels") == ["__meta_kubernetes_pod_node_name"]
              and r.get("targetLabel") == "node" and r.get("action", "replace") == "replace"
              for r in ep.get("relabelings", [])),
          "a relabeling of __meta_kubernetes_pod_node_name to node")
    print(f"ok - Service and ServiceMonitor: port {PORT_NAME} {PORT}, every 15s, node label from "
          "the pod's node")


def config_file(ds, cm):
    """The ConfigMap key the DaemonSet's --config.file names."""
    pod, c = ds["spec"]["template"]["spec"], the_container(ds)
    path = flag_value(c["args"], "--config.file")
    vols = {v["name"]: v for v in pod["volumes"]}
    for m in c["volumeMounts"]:
        if os.path.dirname(path) == m["mountPath"].rstrip("/"):
            ref = vols[m["name"]].get("configMap", {})
            check(ref.get("name") == cm["metadata"]["name"],
                  f"{path} is in a volume of ConfigMap {cm['metadata']['name']}")
            key = os.path.basename(path)
            check(key in cm.get("data", {}), f"the ConfigMap has key {key}")
            return key
    raise Failed(f"no volume is mounted where --config.file={path} is")


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=600)
    return p.returncode, p.stdout.strip()


def check_with_daemon(ds, cm, workdir, kobsd):
    key = config_file(ds, cm)
    conf = os.path.join(workdir, key)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(cm["data"][key])
    # The DaemonSet's own arguments, with the pod's paths replaced by what exists here.
    args = []
    for a in the_container(ds)["args"]:
        if a.startswith("--config.file="):
            a = "--config.file=" + conf
        elif a.startswith("--path.procfs="):
            a = "--path.procfs=/proc"
        args.append(a)
    status, out = run(kobsd + args + ["--check-config"])
    check(status == 0, f"kobsd {' '.join(args)} --check-config exited {status}: {out}")
    print(f"ok - the real daemon accepts the DaemonSet's flags and the ConfigMap's kobsd.yml: {out}")
    # The same check refuses a broken copy: the check above is not vacuous.
    with open(conf, "a", encoding="utf-8") as f:
        f.write("no_such_key: 1\n")
    status, out = run(kobsd + args + ["--check-config"])
    check(status == 78, f"a broken copy of the configuration exits 78, not {status}: {out}")
    print("ok - the same check refuses a broken copy (exit 78)")


def main():
    directory, workdir, kobsd = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        objects, files = load(directory)
        for kind in ("Kustomization", "ConfigMap", "DaemonSet", "Service", "ServiceMonitor"):
            check(kind in objects, f"no {kind} in {directory}")
        ds, cm = objects["DaemonSet"][1], objects["ConfigMap"][1]
        svc, sm = objects["Service"][1], objects["ServiceMonitor"][1]
        check_kustomization(objects, files)
        check_namespaces(objects)
        check_daemonset_host_access(ds)
        check_daemonset_privileges(ds)
        check_daemonset_serving(ds)
        check_selectors(ds, svc, sm)
        check_service_and_monitor(svc, sm)
        check_with_daemon(ds, cm, workdir, kobsd)
    except Failed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
