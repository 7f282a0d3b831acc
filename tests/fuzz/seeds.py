#!/usr/bin/env python3
"""seeds.py OUTDIR CAPTURE... - seed corpora for the fuzz targets.

Writes OUTDIR/engine/* (the record format of fuzz_engine.c: a header byte
with the link type, then u8 type, u16 time step, u16 length, frame bytes)
and OUTDIR/file/* (small capture files for fuzz_file.c: the first 48
frames of each capture, as they are, pcap or pcapng, gzip kept).
pcapng captures are converted with editcap for the engine seeds; a
capture that cannot be read is skipped (several public ones are broken
on purpose, and go to the file corpus whole instead).
"""
import gzip
import os
import struct
import subprocess
import sys
import tempfile

# fuzz_engine.c dlts[]: EN10MB NULL LOOP RAW LINUX_SLL LINUX_SLL2 IPV4 IPV6
DLT_INDEX = {1: 0, 0: 1, 108: 2, 101: 3, 12: 3, 14: 3, 113: 4, 276: 5,
             228: 6, 229: 7}
MAX_FRAMES = 48
SMALL = 16384


def read_pcap(raw):
    """(linktype, [(ts_ns, frame bytes)]) of a classic pcap, or None."""
    if len(raw) < 24:
        return None
    magic = raw[:4]
    forms = {b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
             b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1)}
    if magic not in forms:
        return None
    e, mult = forms[magic]
    linktype = struct.unpack(e + "I", raw[20:24])[0] & 0x0fffffff
    off, frames = 24, []
    while off + 16 <= len(raw) and len(frames) < MAX_FRAMES:
        sec, frac, incl, _orig = struct.unpack(e + "IIII", raw[off:off + 16])
        off += 16
        if incl > 65535 or off + incl > len(raw):
            break
        frames.append((sec * 1000000000 + frac * mult, raw[off:off + incl]))
        off += incl
    return linktype, frames


def time_step(delta_ns):
    """The u16 step of fuzz_engine.c closest to delta_ns."""
    if delta_ns < 0:
        return (3 << 14) | min(0x3fff, -delta_ns // 1000000)
    for unit, ns in ((0, 1000), (1, 1000000), (2, 1000000000)):
        if delta_ns // ns <= 0x3fff:
            return (unit << 14) | (delta_ns // ns)
    return (2 << 14) | 0x3fff


def engine_seed(linktype, frames, optbits):
    out = bytearray([DLT_INDEX[linktype] | optbits])
    last = frames[0][0] if frames else 0
    for ts, frame in frames:
        out += struct.pack(">BHH", 0, time_step(ts - last), len(frame))
        out += frame
        last = ts
    return bytes(out)


def load(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return raw, None
    if raw[:4] == b"\x0a\x0d\x0d\x0a":
        with tempfile.NamedTemporaryFile(suffix=".pcap") as t:
            r = subprocess.run(["editcap", "-F", "pcap", path, t.name],
                               capture_output=True)
            if r.returncode != 0:
                return raw, None
            return raw, read_pcap(open(t.name, "rb").read())
    return raw, read_pcap(raw)


def first_frames(path, dst):
    """A copy of path cut to its first MAX_FRAMES frames (format kept)."""
    if os.path.getsize(path) <= SMALL:
        with open(path, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
        return
    r = subprocess.run(["editcap", "-r", path, dst, "1-%d" % MAX_FRAMES],
                       capture_output=True)
    if r.returncode != 0 or not os.path.exists(dst):
        with open(path, "rb") as f, open(dst, "wb") as g:
            g.write(f.read(SMALL))  # a cut file is a fine seed too


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "engine"), exist_ok=True)
    os.makedirs(os.path.join(out, "file"), exist_ok=True)
    for path in sys.argv[2:]:
        name = os.path.basename(path)
        first_frames(path, os.path.join(out, "file", "seed-" + name))
        _raw, parsed = load(path)
        if not parsed or parsed[0] not in DLT_INDEX or not parsed[1]:
            continue
        linktype, frames = parsed
        # plain, and with a 16-flow table plus the port filter
        for optbits, tag in ((0, ""), (0x28, "-small")):
            with open(os.path.join(out, "engine", "seed-" + name + tag), "wb") as f:
                f.write(engine_seed(linktype, frames, optbits))


if __name__ == "__main__":
    main()
