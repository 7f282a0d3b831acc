#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bpf_cost.py - what each BPF program of a process costs the kernel.

Owns: turning the kernel's run-time statistics on for as long as it is
asked to (BPF_ENABLE_STATS: an fd that keeps them on while it is open, so
nothing is left on when it exits, whatever happens, and the global sysctl
kernel.bpf_stats_enabled is never touched) and reading the per-program
run_time_ns / run_cnt of a process's BPF programs from /proc/PID/fdinfo.
Does not own: starting the traced process or the load (live-cost.sh).

  bpf_cost.py hold            turn stats on; print "on"; keep them on until
                              stdin closes or a signal arrives
  bpf_cost.py snap PID        "name run_time_ns run_cnt" per BPF program
                              PID holds (programs of the same name summed)
  bpf_cost.py diff A B        "name runs ns" per program: B minus A (two
                              snaps), programs that did not run left out
"""
import ctypes
import os
import signal
import sys

NR_BPF = {"x86_64": 321, "aarch64": 280}
BPF_ENABLE_STATS = 32
BPF_STATS_RUN_TIME = 0


def hold():
    libc = ctypes.CDLL(None, use_errno=True)
    nr = NR_BPF.get(os.uname().machine)
    if nr is None:
        sys.exit("cannot turn bpf stats on: unknown syscall number on '%s'" % os.uname().machine)
    attr = ctypes.create_string_buffer(16)  # union bpf_attr: enable_stats.type = 0
    ctypes.c_uint32.from_buffer(attr, 0).value = BPF_STATS_RUN_TIME
    fd = libc.syscall(nr, BPF_ENABLE_STATS, attr, 4)
    if fd < 0:
        sys.exit("cannot turn bpf stats on: %s; run as root" % os.strerror(ctypes.get_errno()))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("on", flush=True)
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    os.close(fd)


def prog_names():
    """prog id -> name, from bpftool (fdinfo has no name)."""
    import json
    import subprocess

    try:
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True).stdout
        return {p["id"]: p.get("name", "?") for p in json.loads(out)}
    except (OSError, subprocess.CalledProcessError, ValueError):
        return {}


def snap(pid):
    progs = {}
    d = "/proc/%s/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if "prog_id" not in info or "run_cnt" not in info:
            continue
        pid_ = int(info["prog_id"])
        progs[pid_] = (int(info["run_time_ns"]), int(info["run_cnt"]))
    names = prog_names()
    sums = {}
    for i, (ns, cnt) in progs.items():
        name = names.get(i, "prog%d" % i)
        a = sums.setdefault(name, [0, 0])
        a[0] += ns
        a[1] += cnt
    for name in sorted(sums):
        print(name, sums[name][0], sums[name][1])


def load(path):
    r = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 3:
                r[p[0]] = (int(p[1]), int(p[2]))
    return r


def diff(a_path, b_path):
    """'name runs ns' per program: what it did between two snaps."""
    a, b = load(a_path), load(b_path)
    for name in sorted(b):
        ns = b[name][0] - a.get(name, (0, 0))[0]
        cnt = b[name][1] - a.get(name, (0, 0))[1]
        if cnt > 0:
            print(name, cnt, ns)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "hold":
        hold()
    elif len(sys.argv) == 3 and sys.argv[1] == "snap":
        snap(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
