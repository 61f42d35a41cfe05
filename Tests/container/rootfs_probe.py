#!/usr/bin/env python3
"""Helpers for rootfs_smoke.sh: read the Dockerfile and apt sources, inspect namespaces.

Subcommands (all print to stdout; a non-zero exit means the check failed):
  dockerfile PATH          bash assignments describing the builder and runtime stages
  mirrors SUITE            bash assignments MIRROR and SECURITY_MIRROR from this machine's apt sources
  ns-procs SPID UID GID    every process in SPID's pid namespace runs as UID:GID with no capability,
                           and SPID is PID 1 there
  find-nspid SPID NSPID    the host pid of process NSPID in SPID's pid namespace
  proc-state PID           the state letter of PID (empty when it is gone)
  stop SPID SIGNAL SECS    sends SIGNAL to SPID, watches its pid namespace until it is empty,
                           prints JSON: what was alive just before the supervisor exited, what is left
"""
import glob
import json
import os
import re
import shlex
import signal
import sys
import time


def sh(name, value):
    if isinstance(value, (list, tuple)):
        print(f"{name}=(" + " ".join(shlex.quote(v) for v in value) + ")")
    else:
        print(f"{name}={shlex.quote(value)}")


# ---- Dockerfile ---------------------------------------------------------------------------

def logical_lines(text):
    """Instructions with continuation lines joined; comments dropped (also inside continuations)."""
    out, cur = [], None
    for raw in text.splitlines():
        s = raw.strip()
        if s.startswith("#") or (cur is None and not s):
            continue
        if s.endswith("\\"):
            cur = (cur or "") + s[:-1].rstrip() + " "
            continue
        cur = (cur or "") + s
        out.append(cur.strip())
        cur = None
    if cur:
        out.append(cur.strip())
    return out


def exec_or_shell(rest):
    """An instruction argument in exec form (JSON array) or shell form, as an argv."""
    rest = rest.strip()
    if rest.startswith("["):
        return json.loads(rest)
    return ["/bin/sh", "-c", rest]


def dockerfile(path):
    stages = []
    for line in logical_lines(open(path).read()):
        ins, _, rest = line.partition(" ")
        ins, rest = ins.upper(), rest.strip()
        if ins == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else ""
            stages.append({"image": parts[0], "name": name, "from_line": line, "ins": []})
        elif stages:
            stages[-1]["ins"].append((ins, rest))
    if len(stages) < 2:
        sys.exit("expected a builder stage and a runtime stage")
    runtime = stages[-1]
    copies_from = [r for i, r in runtime["ins"] if i == "COPY" and r.startswith("--from=")]
    builder_name = copies_from[0].split()[0].split("=", 1)[1] if copies_from else stages[0]["name"]
    builder = next(s for s in stages if s["name"] == builder_name)

    # Builder: its context COPY lines (src... dest), apt pins, and the swift build command.
    copies = []
    for ins, rest in builder["ins"]:
        if ins == "COPY" and not rest.startswith("--"):
            parts = json.loads(rest) if rest.startswith("[") else rest.split()
            for src in parts[:-1]:
                copies.append(f"{src}\t{parts[-1]}")
    runs = [rest for ins, rest in builder["ins"] if ins == "RUN"]
    pins = [tok for r in runs if "apt-get install" in r for tok in r.split() if re.match(r"^[a-z0-9][a-z0-9+.-]*=\S+$", tok)]
    build_cmd = ""
    for r in runs:
        m = re.search(r"(swift build[^&;|]*)", r)
        if m:
            build_cmd = m.group(1).strip()
            break
    sh("BUILDER_IMAGE", builder["image"])
    sh("BUILDER_COPIES", copies)
    sh("BUILDER_APT_PINS", pins)
    sh("BUILDER_BUILD_CMD", build_cmd)

    # Runtime stage.
    image = runtime["image"]
    tag = image.split(":", 1)[1] if ":" in image else "latest"
    sh("RUNTIME_IMAGE", image)
    sh("RUNTIME_SUITE", re.sub(r"-slim$", "", tag))
    rt_runs = [rest for ins, rest in runtime["ins"] if ins == "RUN"]
    sh("RUNTIME_RUNS", rt_runs)
    sh("RUNTIME_KEY_TEXT", "\n".join([runtime["from_line"]] + [f"RUN {r}" for r in rt_runs]))
    copy_src, copy_dest = "", ""
    if copies_from:
        parts = copies_from[0].split()[1:]
        copy_src, copy_dest = parts[0], parts[-1]
    sh("RUNTIME_COPY_SRC", copy_src)
    sh("RUNTIME_COPY_DEST", copy_dest)
    env = []
    for ins, rest in runtime["ins"]:
        if ins == "ENV":
            words = shlex.split(rest)
            if words and "=" not in words[0]:  # legacy `ENV NAME value words`
                env.append(words[0] + "=" + rest.split(None, 1)[1] if len(words) > 1 else words[0] + "=")
            else:
                env += words
    sh("RUNTIME_ENV", env)
    values = {}
    for ins, rest in runtime["ins"]:
        if ins in ("USER", "ENTRYPOINT", "CMD", "HEALTHCHECK", "STOPSIGNAL", "EXPOSE", "WORKDIR"):
            values[ins] = rest
    sh("RUNTIME_USER", values.get("USER", "0:0"))
    sh("RUNTIME_WORKDIR", values.get("WORKDIR", "/"))
    sh("RUNTIME_ENTRYPOINT", exec_or_shell(values["ENTRYPOINT"]) if "ENTRYPOINT" in values else [])
    sh("RUNTIME_CMD", exec_or_shell(values["CMD"]) if "CMD" in values else [])
    sh("RUNTIME_STOPSIGNAL", values.get("STOPSIGNAL", "SIGTERM"))
    sh("RUNTIME_EXPOSE", values.get("EXPOSE", "").split("/")[0])
    hc_cmd, hc_timeout = [], "30"
    if "HEALTHCHECK" in values:
        opts, _, cmd = values["HEALTHCHECK"].partition("CMD ")
        hc_cmd = exec_or_shell(cmd)
        m = re.search(r"--timeout=(\d+)s", opts)
        if m:
            hc_timeout = m.group(1)
    sh("RUNTIME_HEALTHCHECK", hc_cmd)
    sh("RUNTIME_HEALTHCHECK_TIMEOUT", hc_timeout)


# ---- apt sources ----------------------------------------------------------------------------

def apt_entries():
    """(types, uris, suites, components) of every enabled apt source of this machine."""
    entries = []
    for f in sorted(glob.glob("/etc/apt/sources.list") + glob.glob("/etc/apt/sources.list.d/*.list")):
        for line in open(f):
            line = line.split("#", 1)[0].strip()
            m = re.match(r"^(deb)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
            if m:
                entries.append(({"deb"}, [m.group(2)], [m.group(3)], m.group(4).split()))
    for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for para in re.split(r"\n\s*\n", open(f).read()):
            fields, key = {}, None
            for line in para.splitlines():
                if line.startswith("#"):
                    continue
                if line[:1] in (" ", "\t") and key:
                    fields[key] += " " + line.strip()
                elif ":" in line:
                    key, _, value = line.partition(":")
                    key = key.strip().lower()
                    fields[key] = value.strip()
            if not fields or fields.get("enabled", "yes").lower() == "no":
                continue
            entries.append((set(fields.get("types", "").split()), fields.get("uris", "").split(),
                            fields.get("suites", "").split(), fields.get("components", "").split()))
    return entries


def mirrors(suite):
    mirror = security = ""
    for types, uris, suites, comps in apt_entries():
        if "deb" not in types or "main" not in comps or not uris:
            continue
        if suite in suites and not mirror:
            mirror = uris[0]
        if f"{suite}-security" in suites and not security:
            security = uris[0]
    if not mirror:
        sys.exit(f"no apt source of this machine serves {suite} main")
    sh("MIRROR", mirror)
    sh("SECURITY_MIRROR", security)


# ---- processes and namespaces ------------------------------------------------------------------

def status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def pidns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def members(ns):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and pidns(entry) == ns:
            st = status(entry)
            if st:
                out.append((int(entry), st))
    return sorted(out)


def describe(pid, st):
    return f"{pid}(ns {st['NSpid'].split()[-1]}, {st['Name']}, {st['State'].split()[0]})"


def ns_procs(spid, uid, gid):
    st = status(spid)
    if not st:
        sys.exit(f"process {spid} is gone")
    if st["NSpid"].split()[-1] != "1":
        sys.exit(f"the supervisor is PID {st['NSpid'].split()[-1]} in its namespace, not 1")
    if pidns(spid) == pidns("self"):
        sys.exit("the supervisor shares the host pid namespace")
    bad, names = [], []
    for pid, st in members(pidns(spid)):
        names.append(st["Name"])
        uids, gids = set(st["Uid"].split()), set(st["Gid"].split())
        groups = set(st.get("Groups", "").split())
        if uids != {uid} or gids != {gid} or not groups <= {gid} or int(st["CapEff"], 16) or int(st["CapPrm"], 16):
            bad.append(f"{describe(pid, st)} Uid={st['Uid']} Gid={st['Gid']} Groups={st.get('Groups', '')} "
                       f"CapEff={st['CapEff']}")
    counts = {n: names.count(n) for n in sorted(set(names))}
    print(f"{len(names)} processes {counts}")
    if bad:
        print("not as the image's user:\n  " + "\n  ".join(bad))
        sys.exit(1)


def find_nspid(spid, nspid):
    ns = pidns(spid)
    for pid, st in members(ns):
        if st["NSpid"].split()[-1] == str(nspid):
            print(pid)
            return
    sys.exit(f"no process {nspid} in the namespace of {spid}")


def proc_state(pid):
    st = status(pid)
    print(st["State"].split()[0] if st else "")


def descendants(pid):
    """pid's descendants, read from the kernel's children lists (cheap enough to poll tightly)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in glob.glob(f"/proc/{p}/task/*/children"):
            try:
                kids = [int(k) for k in open(task).read().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


def stop(spid, signame, seconds):
    """Signals the supervisor, then watches its process tree until it is gone. `last_alive` is the
    last view of the tree taken while the supervisor itself had not exited yet: when it holds only
    the supervisor (and children that already exited), every other process ended before PID 1
    did, so none was killed by the namespace's teardown."""
    ns = pidns(spid)
    if not ns:
        sys.exit(f"process {spid} is gone")
    sig = getattr(signal, signame if signame.startswith("SIG") else "SIG" + signame)
    start = time.monotonic()
    os.kill(spid, sig)
    last_alive, gone_after = None, None
    while time.monotonic() - start < seconds:
        tree = [spid] + descendants(spid)
        snap = [(p, status(p)) for p in tree]
        snap = [(p, st) for p, st in snap if st]
        sup = dict(snap).get(spid)
        if sup is None or sup["State"].split()[0] in ("Z", "X"):
            gone_after = round(time.monotonic() - start, 3)
            break
        last_alive = snap
    # The supervisor's parent (unshare) reaps it; then the namespace must be empty.
    while status(spid) and time.monotonic() - start < seconds:
        time.sleep(0.01)
    others_running = [describe(p, st) for p, st in (last_alive or [])
                      if p != spid and st["State"].split()[0] not in ("Z", "X")]
    print(json.dumps({"last_alive": [describe(p, st) for p, st in (last_alive or [])],
                      "supervisor_last": bool(last_alive) and not others_running,
                      "gone_after": gone_after,
                      "left": [describe(p, st) for p, st in members(ns)]}))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "dockerfile":
        dockerfile(args[0])
    elif cmd == "mirrors":
        mirrors(args[0])
    elif cmd == "ns-procs":
        ns_procs(int(args[0]), args[1], args[2])
    elif cmd == "find-nspid":
        find_nspid(int(args[0]), int(args[1]))
    elif cmd == "proc-state":
        proc_state(int(args[0]))
    elif cmd == "stop":
        stop(int(args[0]), args[1], float(args[2]))
    else:
        sys.exit(f"unknown subcommand {cmd}")


if __name__ == "__main__":
    main()
