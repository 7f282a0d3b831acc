#!/usr/bin/env python3
"""crosscheck.py LOTRACE CAPTURE... - lotrace against tshark's truth.

For each capture with a CAPTURE.truth.json beside it (made by
tests/tools/truth.sh), run `LOTRACE -r CAPTURE --json` and compare,
per TCP stream: SYN / SYN-ACK / RST / FIN counts, packets, data packets and
payload bytes of each endpoint, the verdict, and the stream index (lotrace's
JSON "stream" must equal tshark's tcp.stream, so `tshark -Y 'tcp.stream == N'`
finds the connection). Streams are paired by
their two endpoints, in order of first packet (port reuse gives several
streams per pair).

Captures tshark could not read (non-zero exit, no frames) must make
lotrace exit non-zero with one line on stderr and nothing on stdout; a
capture cut short must still yield the streams before the cut, plus a
non-zero exit and a line saying why.

Known, explained differences are listed in crosscheck-exceptions.txt next
to this file as `capture-name  stream-index  field  reason`; an exception
that no longer matches a difference is itself a failure, so the list stays
honest.

Prints one line per capture and ends with 'N passed, N failed'.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# tshark truth's derived_state -> lotrace verdict
VERDICT = {
    "REFUSED": "refused",
    "UNANSWERED": "unanswered",
    "HALF_OPEN": "half-open",
    "ESTABLISHED_OPEN": "open",
    "CLOSED": "closed",
    "CLOSED_THEN_RST": "closed",
    "HALF_CLOSED_BY_CLIENT": "half-closed",
    "HALF_CLOSED_BY_SERVER": "half-closed",
    "RESET_BY_CLIENT": "reset-by-client",
    "RESET_BY_SERVER": "reset-by-server",
    "HANDSHAKE_ABORTED_CLIENT_RST": "reset-by-client",
    "HANDSHAKE_ABORTED_SERVER_RST": "reset-by-server",
}


def load_exceptions():
    path = os.path.join(HERE, "crosscheck-exceptions.txt")
    ex = {}
    if not os.path.exists(path):
        return ex
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 3)
            idx = -1 if parts[1] == "*" else int(parts[1])
            ex[(parts[0], idx, parts[2])] = parts[3] if len(parts) > 3 else ""
    return ex


def run_lotrace(lotrace, capture):
    p = subprocess.run([lotrace, "-r", capture, "--json"], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, TZ="UTC"))
    objs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p.returncode, objs, p.stderr


def endpoint_counts(side, truth_dir):
    """lotrace side object -> the fields truth has per direction."""
    return side


def compare_stream(name, idx, t, c, ex, problems):
    def check(field, want, got):
        key = (name, idx, field)
        if want == got:
            if key in ex:
                problems.append(f"stream {idx}: exception for {field} no longer needed")
            return
        if key in ex:
            ex_used.add(key)
            return
        problems.append(f"stream {idx} {t['client']}->{t['server']}: {field} tshark={want} lotrace={got}")

    # per endpoint: map truth's client/server onto lotrace's sides
    if c["client"] == t["client"]:
        sides = {"c2s": c["c2s"], "s2c": c["s2c"]}
    else:
        sides = {"c2s": c["s2c"], "s2c": c["c2s"]}
    # tshark counts every frame; lotrace counts a segment seen again in
    # another VLAN (a duplicate copy) apart, under "copies"
    for d in ("c2s", "s2c"):
        td, ld = t[d], sides[d]
        cp = ld["copies"]
        check(f"{d}.syn", td["syn"] + td["synack"], ld["syn"] + cp["syn"])
        check(f"{d}.rst", td["rst"], ld["rst"] + cp["rst"])
        check(f"{d}.fin", td["fin"], ld["fin"] + cp["fin"])
        check(f"{d}.packets", td["packets"], ld["packets"] + cp["packets"])
        check(f"{d}.data_packets", td["data_packets"], ld["data_packets"] + cp["data_packets"])
        check(f"{d}.payload_bytes", td["payload_bytes"], ld["bytes"] + cp["bytes"])
    # what tshark calls SYN retransmissions are lotrace's retransmissions
    # plus the SYN copies (vlan-pcp-dei: 0 + 2 each way, not 2)
    c_side = c["c2s"] if c["client"] == t["client"] else c["s2c"]
    s_side = c["s2c"] if c["client"] == t["client"] else c["c2s"]
    check("syn_retransmissions", t["syn_retransmissions"],
          c["syn_retransmissions"] + c_side["copies"]["syn"])
    check("synack_retransmissions", t["synack_retransmissions"],
          c["synack_retransmissions"] + s_side["copies"]["syn"])

    check("stream", t["stream"], c.get("stream"))

    state = t["derived_state"]
    if state.startswith("MIDSTREAM_"):
        check("verdict", "mid-stream", c["verdict"])
    else:
        want = VERDICT.get(state, state)
        got = c["verdict"]
        # tshark's client for the reset verdicts is the SYN sender, as ours
        check("verdict", want, got)


ex_used = set()


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    lotrace = sys.argv[1]
    ex = load_exceptions()
    passed = failed = 0
    for capture in sys.argv[2:]:
        name = os.path.basename(capture)
        tpath = capture + ".truth.json"
        if not os.path.exists(tpath):
            continue
        with open(tpath) as f:
            truth = json.load(f)
        problems = []
        rc, objs, err = run_lotrace(lotrace, capture)
        if rc < 0 or rc >= 128:
            problems.append(f"lotrace died with signal/status {rc}")
        conns = [o for o in objs if o.get("type") == "connection"]
        summary = [o for o in objs if o.get("type") == "summary"]
        libpcap_refuses = (name, -1, "unreadable") in ex
        if libpcap_refuses:
            ex_used.add((name, -1, "unreadable"))
        unreadable = libpcap_refuses or (truth["tshark_exit_status"] != 0 and truth["frames_read"] == 0)
        cut = truth["tshark_exit_status"] != 0 and truth["frames_read"] > 0
        err_lines = [l for l in err.splitlines() if l.strip()]

        if unreadable:
            if rc != 1:
                problems.append(f"unreadable capture: exit {rc}, want 1")
            if objs:
                problems.append("unreadable capture: output on stdout")
            if len(err_lines) != 1 or not err_lines[0].startswith("lotrace: "):
                problems.append(f"unreadable capture: want one 'lotrace:' line on stderr, got {err_lines!r}")
        else:
            if cut:
                if rc != 1:
                    problems.append(f"cut capture: exit {rc}, want 1")
                if not any("ends early" in l for l in err_lines):
                    problems.append("cut capture: no 'ends early' message")
            elif rc != 0:
                problems.append(f"exit {rc}: {err.strip()}")
            if len(summary) != 1:
                problems.append("no summary object")
            streams = truth["streams"]
            if len(conns) != len(streams):
                problems.append(f"{len(streams)} tshark streams, {len(conns)} lotrace connections")
            # pair by endpoint set, in order of first packet
            by_pair = {}
            for c in sorted(conns, key=lambda c: (c["start_ns"], c["id"])):
                by_pair.setdefault(frozenset((c["client"], c["server"])), []).append(c)
            for s in sorted(streams, key=lambda s: (s["first_ts"], s["stream"])):
                lst = by_pair.get(frozenset((s["client"], s["server"])), [])
                if not lst:
                    problems.append(f"stream {s['stream']} {s['client']}->{s['server']}: not found")
                    continue
                compare_stream(name, s["stream"], s, lst.pop(0), ex, problems)
            if summary and truth.get("malformed_frames", 0) + truth.get("tcp_frames_without_stream", 0) > 0:
                if summary[0]["decode"]["problems"] == 0:
                    problems.append("tshark saw malformed frames; lotrace counted no decode problem")
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for p in problems[:20]:
                print(f"     {p}")
            if len(problems) > 20:
                print(f"     ... {len(problems) - 20} more")
        else:
            passed += 1
            print(f"ok   {name} ({len(conns)} connections)")
    seen = {os.path.basename(c) for c in sys.argv[2:]}
    for key in ex:
        if key[0] in seen and key not in ex_used:
            failed += 1
            print(f"FAIL exception {key} matched no difference: remove it")
    print(f"crosscheck: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
