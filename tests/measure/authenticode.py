#!/usr/bin/python3
"""Independent PE Authenticode SHA-384 (Debian python3-pefile parses the image) for
tests/unit/test_measure_pe.c. Optional QEMU setup-header patch (qemu hw/i386/x86-common.c
x86_load_linux) before hashing.
usage: authenticode.py KERNEL [--patch MEM INITRD_SIZE]   -> prints the digest hex."""
import hashlib
import struct
import sys

import pefile


def qemu_patch(data, mem, initrd_size):
    b = bytearray(data)
    proto = struct.unpack_from("<H", b, 0x206)[0]
    below_4g = min(mem, 0x80000000 if mem >= 0xB0000000 else 0xB0000000)
    if proto >= 0x20C and struct.unpack_from("<H", b, 0x236)[0] & 2:
        initrd_max = 0xFFFFFFFF
    elif proto >= 0x203:
        initrd_max = struct.unpack_from("<I", b, 0x22C)[0]
    else:
        initrd_max = 0x37FFFFFF
    initrd_max = min(initrd_max, below_4g - 0x28000 - 1)
    struct.pack_into("<I", b, 0x228, 0x20000)
    b[0x210] = 0xB0
    b[0x211] |= 0x80
    struct.pack_into("<H", b, 0x224, 0x20000 - 0x10000 - 0x200)
    if initrd_size is not None:
        struct.pack_into("<I", b, 0x218, (initrd_max - initrd_size) & ~4095)
        struct.pack_into("<I", b, 0x21C, initrd_size)
    return bytes(b)


def authenticode(data):
    pe = pefile.PE(data=data, fast_load=True)
    opt = pe.OPTIONAL_HEADER
    csum = opt.get_field_absolute_offset("CheckSum")
    sec_dir = opt.DATA_DIRECTORY[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_SECURITY"]]
    sec_off = sec_dir.get_file_offset()
    h = hashlib.sha384()
    h.update(data[:csum])
    h.update(data[csum + 4:sec_off])
    h.update(data[sec_off + 8:opt.SizeOfHeaders])
    done = opt.SizeOfHeaders
    for s in sorted(pe.sections, key=lambda s: s.PointerToRawData):
        if s.SizeOfRawData:
            h.update(data[s.PointerToRawData:s.PointerToRawData + s.SizeOfRawData])
            done += s.SizeOfRawData
    rest_end = len(data) - sec_dir.Size
    if rest_end > done:
        h.update(data[done:rest_end])
    return h.hexdigest()


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        d = f.read()
    if len(sys.argv) == 5 and sys.argv[2] == "--patch":
        d = qemu_patch(d, int(sys.argv[3]), int(sys.argv[4]))
    print(authenticode(d))
