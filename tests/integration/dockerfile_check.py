"""Runs the Dockerfile's build stage outside docker and checks its final stage.

Usage: dockerfile_check.py SRCDIR WORKDIR REVISION

SRCDIR holds the Dockerfile, .dockerignore, debian/ and contrib/kubernetes/. WORKDIR is scratch
space: it becomes the build stage's file system root. REVISION is passed as the build argument
KOBS_REVISION, as the Dockerfile's header tells a user building from a git checkout to do.

The build stage's instructions are carried out in order: WORKDIR, ARG and ENV as docker would;
COPY from the build context, which is SRCDIR less what .dockerignore excludes; RUN with /bin/sh -c
in the stage's working directory, below WORKDIR rather than /. RUN steps that install packages
(apt-get update, apt-get build-dep, rm of apt's lists) are not run here: apt-get build-dep is
simulated (apt-get -s) on this machine's package database instead. Any other RUN step that names
an absolute path is refused, since here it would reach outside the scratch root.

The final stage is checked, not run: its base image, that it copies the .deb the build stage
made and installs it, that USER is the user debian/kobsd.postinst creates, that ENTRYPOINT is the
daemon in the package, that CMD holds the DaemonSet's args and EXPOSE its port, and that the
image name the header builds is the one the DaemonSet runs.

Prints "ok - ..." per check; the first failure ends the run with its reason and exit status 1.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import yaml


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def instructions(path):
    """The Dockerfile as (KEYWORD, argument text, line number), continuations joined."""
    result, pending, start = [], "", 0
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if pending and line.lstrip().startswith("#"):
                continue
            if not pending:
                start = number
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            text = (pending + line).strip()
            pending = ""
            keyword, _, rest = text.partition(" ")
            result.append((keyword.upper(), rest.strip(), start))
    check(not pending, "the Dockerfile ends inside a continued line")
    return result


def stages(path):
    """[(FROM argument, [instructions])], one per stage."""
    result = []
    for keyword, arg, line in instructions(path):
        if keyword == "FROM":
            result.append((arg, []))
        else:
            check(result, f"Dockerfile line {line}: {keyword} before any FROM")
            result[-1][1].append((keyword, arg, line))
    return result


def ignore_rules(context):
    rules = []
    path = os.path.join(context, ".dockerignore")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                negate = line.startswith("!")
                pattern = line[1:] if negate else line
                pattern = os.path.normpath(pattern.lstrip("/"))
                rules.append((negate, re.compile(glob_regex(pattern))))
    return rules


def glob_regex(pattern):
    """A .dockerignore pattern as a regular expression (Go's filepath.Match, plus **)."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                out += "/?"
                i += 1
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
        i += 1
    return out + "$"


def ignored(rules, relpath):
    """Docker's rule: the last matching pattern decides; a match on a parent directory counts."""
    parts = relpath.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for negate, regex in rules:
        if any(regex.match(p) for p in candidates):
            verdict = not negate
    return verdict


def context_files(context):
    rules = ignore_rules(context)
    files = []
    for root, dirs, names in os.walk(context):
        rel_root = os.path.relpath(root, context)
        for name in names + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            rel = os.path.normpath(os.path.join(rel_root, name))
            if not ignored(rules, rel):
                files.append(rel)
    return sorted(files)


def in_root(root, path):
    return os.path.join(root, path.lstrip("/"))


def copy_into(context, files, sources, dest, root, workdir):
    """COPY SOURCES... DEST from the context into the scratch root."""
    target = dest if dest.startswith("/") else os.path.join(workdir, dest)
    target = in_root(root, target)
    for source in sources:
        source = os.path.normpath(source)
        chosen = [f for f in files if source == "." or f == source or f.startswith(source + "/")]
        check(chosen, f"COPY {source}: nothing in the build context (after .dockerignore)")
        for f in chosen:
            if source == ".":
                rel = f
            elif f == source:
                rel = os.path.basename(f) if dest.endswith("/") or len(sources) > 1 else ""
            else:
                rel = os.path.relpath(f, source)
            out = os.path.join(target, rel) if rel else target
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copy2(os.path.join(context, f), out, follow_symlinks=False)


def package_step(command):
    """True when every command of a RUN step is one that installs packages."""
    for part in re.split(r"&&|;", command):
        words = shlex.split(part)
        if not words:
            continue
        if words[0] == "apt-get" and any(w in ("update", "build-dep", "install") for w in words):
            continue
        if words[:2] == ["rm", "-rf"] and all(w.startswith(("/var/lib/apt/lists", "/tmp/")) for w in words[2:]):
            continue
        return False
    return True


def simulate_package_step(command, cwd):
    for part in re.split(r"&&|;", command):
        words = shlex.split(part)
        if words[:1] == ["apt-get"] and "build-dep" in words:
            args = [w for w in words[1:] if w not in ("-y", "--yes")]
            done = subprocess.run(["apt-get", "-s"] + args, cwd=cwd, capture_output=True, text=True)
            check(done.returncode == 0,
                  f"apt-get -s {' '.join(args)} fails: {done.stdout[-800:]}{done.stderr[-800:]}")


def run_build_stage(context, body, root, env):
    files = context_files(context)
    for bad in ("Makefile", "config.status", "src/kobsd", ".git"):
        check(not any(f == bad or f.startswith(bad + "/") for f in files),
              f".dockerignore lets the build tree's {bad} into the build context")
    print(f"ok - the build context is the source less .dockerignore: {len(files)} files, no build outputs")
    workdir, ran = "/", 0
    for keyword, arg, line in body:
        if keyword == "WORKDIR":
            workdir = os.path.join(workdir, arg)
            os.makedirs(in_root(root, workdir), exist_ok=True)
        elif keyword == "ARG":
            name, _, default = arg.partition("=")
            env.setdefault(name, default)
        elif keyword == "ENV":
            name, _, value = arg.partition("=")
            env[name] = value
        elif keyword == "COPY":
            words = shlex.split(arg)
            check(not any(w.startswith("--") for w in words), f"line {line}: COPY options in the build stage")
            copy_into(context, files, words[:-1], words[-1], root, workdir)
        elif keyword == "RUN":
            cwd = in_root(root, workdir)
            if package_step(arg):
                simulate_package_step(arg, cwd)
                print(f"ok - line {line}, installing packages: simulated (apt-get -s), it resolves")
                continue
            check(not re.search(r"(^|[\s=])/", arg),
                  f"line {line}: RUN names an absolute path, which cannot run outside docker: {arg}")
            done = subprocess.run(["/bin/sh", "-c", arg], cwd=cwd, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            check(done.returncode == 0, f"line {line}: RUN {arg} failed ({done.returncode}):\n"
                  + done.stdout[-4000:])
            print(f"ok - line {line}, RUN {arg}: ran")
            ran += 1
        else:
            raise Failed(f"line {line}: {keyword} in the build stage is not emulated by this test")
    check(ran > 0, "the build stage runs nothing but package installations")


def final_stage(body):
    found = {}
    for keyword, arg, line in body:
        found.setdefault(keyword, []).append((arg, line))
    return found


def exec_form(arg, what):
    try:
        value = json.loads(arg)
    except ValueError:
        raise Failed(f"{what} is not in exec form (a JSON array): {arg}")
    check(isinstance(value, list) and all(isinstance(v, str) for v in value), f"{what}: {arg}")
    return value


def main():
    srcdir, work, revision = sys.argv[1:4]
    dockerfile = os.path.join(srcdir, "Dockerfile")
    all_stages = stages(dockerfile)
    check(len(all_stages) == 2, f"expected two stages (build, final), found {len(all_stages)}")
    (build_from, build_body), (final_from, final_body) = all_stages
    check(re.fullmatch(r"debian:12 +AS +build", build_from, re.I), f"build stage FROM {build_from}")
    check(final_from == "debian:12-slim", f"final stage FROM {final_from}, not debian:12-slim")
    print("ok - two stages: debian:12 AS build, then debian:12-slim")

    root = os.path.join(work, "root")
    os.makedirs(root)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env["KOBS_REVISION"] = revision  # --build-arg KOBS_REVISION=...
    run_build_stage(srcdir, build_body, root, env)

    final = final_stage(final_body)
    copies = [shlex.split(a) for a, _ in final.get("COPY", [])]
    check(len(copies) == 1 and copies[0][0] == "--from=build",
          f"the final stage copies one thing, from the build stage: {copies}")
    _, source, dest = copies[0]
    debs = [f for f in os.listdir(in_root(root, source)) if re.fullmatch(r"kobsd_.*\.deb", f)]
    check(len(debs) == 1, f"the build stage left {debs} in {source}, not one kobsd .deb")
    deb = os.path.join(in_root(root, source), debs[0])
    installs = [a for a, _ in final.get("RUN", []) if re.search(r"apt-get install .*" + re.escape(dest.rstrip("/")) + r"/kobsd_\*\.deb", a)]
    check(installs, f"the final stage does not apt-get install {dest}kobsd_*.deb")
    print(f"ok - the build stage made {debs[0]}; the final stage copies it to {dest} and installs it")

    extracted = os.path.join(work, "deb")
    subprocess.run(["dpkg-deb", "-x", deb, extracted], check=True)
    kobsd = os.path.join(extracted, "usr/bin/kobsd")
    version_line = subprocess.run([kobsd, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    version = version_line.split(" ")[1]
    check(version_line == f"kobsd {version} (revision {revision})",
          f"the image's kobsd --version says '{version_line}', not revision {revision}")
    print(f"ok - the packaged daemon reports the build argument's revision: {version_line}")

    users = [a for a, _ in final.get("USER", [])]
    check(users == ["kobsd"], f"USER {users}, not kobsd")
    with open(os.path.join(srcdir, "debian/kobsd.postinst"), encoding="utf-8") as f:
        check(re.search(r"^\s*adduser --system .*\bkobsd$", f.read(), re.M),
              "debian/kobsd.postinst does not create the system user kobsd")
    entry = [exec_form(a, "ENTRYPOINT") for a, _ in final.get("ENTRYPOINT", [])]
    check(entry == [["/usr/bin/kobsd"]], f"ENTRYPOINT {entry}, not the packaged /usr/bin/kobsd")
    check(os.access(kobsd, os.X_OK), "the package holds no executable /usr/bin/kobsd")
    print("ok - the image runs the packaged /usr/bin/kobsd as kobsd, the user the package creates")

    with open(os.path.join(srcdir, "contrib/kubernetes/daemonset.yaml"), encoding="utf-8") as f:
        ds = yaml.safe_load(f)
    container = ds["spec"]["template"]["spec"]["containers"][0]
    cmd = [exec_form(a, "CMD") for a, _ in final.get("CMD", [])]
    check(cmd == [container["args"]], f"CMD {cmd} differs from the DaemonSet's args {container['args']}")
    config = [a.split("=", 1)[1] for a in cmd[0] if a.startswith("--config.file=")]
    check(config and os.path.isfile(in_root(extracted, config[0])),
          f"CMD's --config.file {config} is not a file of the package")
    ports = [p["containerPort"] for p in container["ports"]]
    exposed = [int(p.split("/")[0]) for a, _ in final.get("EXPOSE", []) for p in a.split()]
    check(exposed == ports, f"EXPOSE {exposed} differs from the DaemonSet's ports {ports}")
    print(f"ok - CMD is the DaemonSet's args and EXPOSE its port {ports[0]}; CMD's {config[0]} is in the package")

    with open(dockerfile, encoding="utf-8") as f:
        names = re.findall(r"^#\s+docker build -t (\S+) \.$", f.read(), re.M)
    check(names, "the Dockerfile's header shows no `docker build -t NAME .`")
    check(all(n == f"kobsd:{version}" for n in names), f"the header builds {names}, not kobsd:{version}")
    check(container["image"] == names[0], f"the DaemonSet runs {container['image']}, the header builds {names[0]}")
    print(f"ok - the header builds {names[0]}, the image the DaemonSet runs")


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
