#!/usr/bin/python3
"""Independent MRTD reference (specs/measurement.md §2) used by tests/unit/test_measure_tdvf.c.

Written separately from measure/predict/tdvf.c: walks the OVMF GUIDed table with QEMU's
algorithm (hw/i386/pc_sysfw_ovmf.c) and hashes the TDX module's record stream.
usage: mrtd.py OVMF.fd per-page|per-section  -> prints the MRTD hex."""
import hashlib
import struct
import sys
import uuid

FOOTER = uuid.UUID("96b582de-1fb2-45f7-baea-a366c55a082d").bytes_le
META_OFF = uuid.UUID("e47a6535-984a-4798-865e-4685a7bf8ec2").bytes_le


def sections(fw):
    assert fw[-0x30:-0x20] == FOOTER, "no footer"
    tot = struct.unpack_from("<H", fw, len(fw) - 0x32)[0] - 18
    ptr = len(fw) - 0x32
    while tot >= 18:
        guid = fw[ptr - 16:ptr]
        ln = struct.unpack_from("<H", fw, ptr - 18)[0]
        if guid == META_OFF:
            off = struct.unpack_from("<I", fw, ptr - ln)[0]
            desc = len(fw) - off
            sig, length, ver, n = struct.unpack_from("<4sIII", fw, desc)
            assert sig == b"TDVF" and ver == 1
            return [struct.unpack_from("<IIQQII", fw, desc + 16 + 32 * i) for i in range(n)]
        ptr -= ln
        tot -= ln
    raise SystemExit("no TDX metadata")


def mrtd(fw, order):
    h = hashlib.sha384()

    def add(gpa):
        h.update(b"MEM.PAGE.ADD".ljust(16, b"\0") + struct.pack("<Q", gpa) + bytes(104))

    def ext(gpa, off):
        for c in range(16):
            h.update(b"MR.EXTEND".ljust(16, b"\0") + struct.pack("<Q", gpa + c * 256) + bytes(104))
            h.update(fw[off + c * 256:off + c * 256 + 256])

    for data_off, raw, gpa, size, typ, attr in sections(fw):
        pages = size // 4096
        if order == "per-page":
            for p in range(pages):
                if not attr & 2:
                    add(gpa + p * 4096)
                if attr & 1:
                    ext(gpa + p * 4096, data_off + p * 4096)
        else:
            if not attr & 2:
                for p in range(pages):
                    add(gpa + p * 4096)
            if attr & 1:
                for p in range(pages):
                    ext(gpa + p * 4096, data_off + p * 4096)
    return h.hexdigest()


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        print(mrtd(f.read(), sys.argv[2]))
