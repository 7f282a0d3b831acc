#!/usr/bin/env python3
"""gen_pcap.py OUT [CONNS] - a large synthetic loopback capture for benchmarks.

Writes a classic pcap (EN10MB, zero MACs, as Linux `tcpdump -i lo` does) of
CONNS connections (default 100000) to 127.0.0.1:61900, interleaved 64 at a
time. Each connection: SYN, SYN-ACK, ACK, 3 data segments each way with
ACKs, FIN/ACK both ways = 14 packets, so the default is 1.4 million
packets. One in 10 connections is refused instead (SYN, RST-ACK) and one in
50 is unanswered (3 SYNs), so the verdict mix is not trivial. Deterministic.
"""
import struct
import sys


def usage_error(msg):
    sys.stderr.write("gen_pcap.py: %s\nusage: gen_pcap.py OUT [CONNS]\n" % msg)
    sys.exit(2)


def main():
    if len(sys.argv) in (2, 3) and sys.argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return
    if len(sys.argv) not in (2, 3):
        usage_error("expected an output file and, optionally, a connection count")
    out = sys.argv[1]
    if out.startswith("-"):
        usage_error("unknown option '%s': the first argument is the output file" % out)
    conns = 100000
    if len(sys.argv) == 3:
        if not sys.argv[2].isdigit() or int(sys.argv[2]) < 1:
            usage_error("invalid connection count '%s': expected a positive integer" % sys.argv[2])
        conns = int(sys.argv[2])
    t = 1_700_000_000 * 1_000_000  # microseconds
    recs = []
    f = open(out, "wb")
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    ip_c = bytes([127, 0, 0, 1])

    def pkt(ts, sport, dport, seq, ack, flags, plen):
        payload = b"x" * plen
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + plen, 0, 0x4000, 64, 6, 0, ip_c, ip_c)
        frame = b"\0" * 12 + b"\x08\x00" + ip + tcp + payload
        return struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)) + frame

    SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
    batch = 64
    for base in range(0, conns, batch):
        seqs = []
        for i in range(base, min(base + batch, conns)):
            cport = 32768 + (i % 28000)
            kind = "refused" if i % 10 == 3 else "unanswered" if i % 50 == 7 else "ok"
            c, s = 1000 + i, 500000 + i
            if kind == "refused":
                p = [(cport, 61900, c, 0, SYN, 0), (61900, cport, 0, c + 1, RST | ACK, 0)]
            elif kind == "unanswered":
                p = [(cport, 61900, c, 0, SYN, 0)] * 3
            else:
                p = [(cport, 61900, c, 0, SYN, 0), (61900, cport, s, c + 1, SYN | ACK, 0),
                     (cport, 61900, c + 1, s + 1, ACK, 0)]
                cs, ss = c + 1, s + 1
                for _ in range(3):
                    p.append((cport, 61900, cs, ss, ACK | PSH, 100)); cs += 100
                    p.append((61900, cport, ss, cs, ACK | PSH, 200)); ss += 200
                p += [(cport, 61900, cs, ss, ACK, 0), (cport, 61900, cs, ss, FIN | ACK, 0),
                      (61900, cport, ss, cs + 1, FIN | ACK, 0), (cport, 61900, cs + 1, ss + 1, ACK, 0)]
            seqs.append(p)
        # interleave the batch's connections packet by packet
        step = 0
        while any(seqs):
            for p in seqs:
                if p:
                    t += 7
                    f.write(pkt(t, *p.pop(0)))
            step += 1
    f.close()


if __name__ == "__main__":
    main()
