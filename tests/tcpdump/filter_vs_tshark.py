#!/usr/bin/env python3
"""filter_vs_tshark.py LOTRACE CAPTURE... - a pcap-filter expression given to
lotrace selects the same connections as tshark's equivalent display filter.

For each capture lotrace can read and each (pcap-filter, display filter)
pair below, the connections lotrace reports (`lotrace -r CAPTURE EXPR
--json`) must be, as a set of {endpoint, endpoint} pairs, exactly the TCP
conversations of the packets tshark's display filter keeps (one tshark run
per capture, a -z conv,tcp table per display filter). ICMP and
ICMPv6 errors quote TCP headers that tshark dissects as TCP and libpcap
does not, so the display filters exclude them. Prints ok/FAIL lines.
"""
import concurrent.futures
import json
import re
import subprocess
import sys

# libpcap's tcp[] reads IPv4 only, and its protocol words do not look
# inside VLAN tags (tcpdump needs "vlan and ..."): the display filters say so.
PAIRS = [
    ("tcp port 80 or tcp port 6666", "tcp.port == 80 || tcp.port == 6666"),
    ("ip6", "ipv6 && tcp"),
    ("ip and tcp", "ip && !ipv6 && tcp"),
    ("tcp[tcpflags] & tcp-syn != 0", "ip && !ipv6 && tcp.flags.syn == 1"),
    ("tcp[tcpflags] & (tcp-rst|tcp-fin) != 0", "ip && !ipv6 && (tcp.flags.reset == 1 || tcp.flags.fin == 1)"),
    ("tcp portrange 1-1024 and less 100", "tcp && ((tcp.srcport >= 1 && tcp.srcport <= 1024) || (tcp.dstport >= 1 && tcp.dstport <= 1024)) && frame.len <= 100"),
    ("src net 127.0.0.0/8 or src host ::1", "ip.src == 127.0.0.0/8 || ipv6.src == ::1"),
]


def lotrace_conns(lotrace, cap, expr):
    r = subprocess.run([lotrace, "-r", cap, expr, "--json"], capture_output=True, text=True)
    conns = set()
    for line in r.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("type") != "connection":
            continue
        a = (rec["client_addr"], rec["client_port"])
        b = (rec["server_addr"], rec["server_port"])
        conns.add(frozenset([a, b]))
    return r.returncode, conns


# what every display filter below is narrowed to
BASE = "tcp && !icmp && !icmpv6 && !vlan && (%s)"
CONV = re.compile(r"^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s")


def tshark_conns(cap, dfilters):
    """One tshark pass over cap: the TCP conversations of every TCP packet
    (from its fields, the innermost header's when tunnelled), and for each
    display filter the conversations of the packets it keeps (a -z conv,tcp
    table each; the tables see every packet, whatever -Y prints)."""
    args = ["tshark", "-n", "-r", cap, "-Y", BASE % "tcp", "-T", "fields",
            "-E", "separator=/t", "-e", "ip.src", "-e", "ipv6.src",
            "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst",
            "-e", "tcp.dstport"]
    for d in dfilters:
        args += ["-z", "conv,tcp," + BASE % d]
    r = subprocess.run(args, capture_output=True, text=True)
    every, tables, cur, in_fields = set(), {}, None, True
    for line in r.stdout.splitlines():
        if line.startswith("===="):
            in_fields = False  # the tables follow the packets' fields
        elif in_fields:
            f = line.split("\t")
            if len(f) < 6 or not f[2]:
                continue
            # the innermost header when tunnelled: the last value
            src = (f[0] or f[1]).split(",")[-1]
            dst = (f[3] or f[4]).split(",")[-1]
            every.add(frozenset([(src, int(f[2].split(",")[-1])),
                                 (dst, int(f[5].split(",")[-1]))]))
        elif line.startswith("Filter:"):
            cur = tables.setdefault(line[len("Filter:"):], set())
        elif cur is not None:
            m = CONV.match(line)
            if m:
                cur.add(frozenset([(m.group(1), int(m.group(2))),
                                   (m.group(3), int(m.group(4)))]))
    return every, {d: tables.get(BASE % d, set()) for d in dfilters}


def check(lotrace, cap):
    """The ok/FAIL/skip lines of one capture."""
    name = cap.rsplit("/", 1)[-1]
    every, want = tshark_conns(cap, [d for _, d in PAIRS])
    rc, base = lotrace_conns(lotrace, cap, "tcp")
    if rc != 0 or base != every:
        # refused or read differently without any filter: cli.sh and
        # crosscheck.py judge those; here only the filter is tested
        return ["skip filter: %s (unfiltered connections differ)" % name]
    out = []
    for expr, dfilter in PAIRS:
        rc, got = lotrace_conns(lotrace, cap, expr)
        w = want[dfilter]
        label = "filter '%s' on %s: %d connections" % (expr, name, len(w))
        if rc == 0 and got == w:
            out.append("ok   " + label)
        else:
            out.append("FAIL %s: exit %d, lotrace only %s, tshark only %s" % (
                label, rc, sorted(map(sorted, got - w))[:3],
                sorted(map(sorted, w - got))[:3]))
    return out


def main():
    lotrace, caps = sys.argv[1], sys.argv[2:]
    # two captures at a time (tshark's start-up is most of the time)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for lines in pool.map(lambda c: check(lotrace, c), caps):
            print("\n".join(lines), flush=True)


main()
