#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Relax GOT-relative calls and loads in an x86-64 relocatable object, as a final-link
ld would, so the kernel's module loader (which rejects R_X86_64_GOTPCREL*) accepts it.

  call *sym@GOTPCREL(%rip)   ff 15 rel32   ->  addr32 call sym   67 e8 rel32  (PLT32)
  jmp  *sym@GOTPCREL(%rip)   ff 25 rel32   ->  jmp sym; nop      e9 rel32 90  (PLT32)
  mov  sym@GOTPCREL(%rip),%r 8b /r rel32   ->  lea  sym(%rip),%r  8d /r rel32 (PC32)

Fat LTO with the precompiled `core` keeps LLVM's RtLibUseGOT module flag, so libcalls
such as memset go through the GOT even with -Z plt=yes. Anything else is refused.
Usage: relax-gotpcrel.py OBJECT   (rewrites it in place; prints what it changed)
"""
import struct
import sys

R_PC32, R_PLT32, R_GOTPCREL, R_GOTPCRELX, R_REX_GOTPCRELX = 2, 4, 9, 41, 42


def main(path):
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit("relax-gotpcrel: not a little-endian ELF64 object")
    e_shoff, = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
    shdrs = []
    for i in range(e_shnum):
        off = e_shoff + i * e_shentsize
        (name, typ, flags, addr, offset, size, link, info, align, entsize) = struct.unpack_from(
            "<IIQQQQIIQQ", data, off)
        shdrs.append((typ, offset, size, info, entsize))
    changed = 0
    for typ, offset, size, info, entsize in shdrs:
        if typ != 4 or entsize != 24:  # SHT_RELA
            continue
        target = shdrs[info][1]
        for k in range(size // 24):
            at = offset + 24 * k
            r_offset, r_info, r_addend = struct.unpack_from("<QQq", data, at)
            rtype = r_info & 0xffffffff
            if rtype not in (R_GOTPCREL, R_GOTPCRELX, R_REX_GOTPCRELX):
                continue
            p = target + r_offset
            op = data[p - 2:p]
            if op == b"\xff\x15":
                data[p - 2:p] = b"\x67\xe8"
                new = R_PLT32
            elif op == b"\xff\x25":
                data[p - 2:p] = b"\x90\xe9"  # nop; jmp rel32 (rel32 still ends at p+4)
                new = R_PLT32
            elif data[p - 2] == 0x8b and (data[p - 1] & 0xc7) == 0x05:
                data[p - 2] = 0x8d
                new = R_PC32
            else:
                sys.exit(f"relax-gotpcrel: cannot relax {op.hex()} at {r_offset:#x}")
            struct.pack_into("<Q", data, at + 8, (r_info & ~0xffffffff) | new)
            changed += 1
    open(path, "wb").write(data)
    print(f"relax-gotpcrel: {changed} GOT-relative relocation(s) relaxed")


if __name__ == "__main__":
    main(sys.argv[1])
