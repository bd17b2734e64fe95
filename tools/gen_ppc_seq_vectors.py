#!/usr/bin/python3
"""Generate arch/ppc/seq_vectors.ts: golden load/store sequences from Unicorn (PPC32 big-endian,
CPU model 750CL v2.0): D/X-form loads and stores with update and indexed forms, byte-reversed,
lmw/stmw, lswi/lswx/stswi/stswx, dcbz, lwarx/stwcx., misaligned accesses.

Each case: 1-4 instructions at 0x1000 with r0..r31 preset (r3 = pointer into the 64-byte data
area at 0x2000..0x203F, r4 = small index), XER and CR set by a guest prologue
(mtxer r30; mtcrf 0xff,r31) and read back by an epilogue (mfxer r30; mfcr r31), because
Unicorn's XER/CR register API bypasses QEMU's split fields.
Vector: [code words, regs in (32), data in (hex, 64 bytes), regs out (32), data out (hex)].

Cases with a misaligned lmw/stmw/lwarx/stwcx. are dropped (a code hook checks the EA): the 750 raises an alignment exception for misaligned lmw, stmw, lwarx
and stwcx. (750UM), which QEMU/Unicorn does not model.
Misaligned ordinary loads and stores come from odd displacements and indexes.

Run: /usr/bin/python3 tools/gen_ppc_seq_vectors.py (Unicorn 2.0.1; seed 7500, deterministic).
"""
import random
from unicorn import Uc, UC_ARCH_PPC, UC_MODE_PPC32, UC_MODE_BIG_ENDIAN
from unicorn.ppc_const import *

rng = random.Random(7500)
DATA = 0x2000

def d(op, rt, ra, imm):
    return (op << 26) | (rt << 21) | (ra << 16) | (imm & 0xffff)

def x(rt, ra, rb, xo, rc=0):
    return (31 << 26) | (rt << 21) | (ra << 16) | (rb << 11) | (xo << 1) | rc

def reg():
    return rng.choice([5, 6, 7, 8, 9, 10, 11, 12])

def disp(size):
    return rng.randrange(0, 32 - size + 1) & ~(rng.choice([0, 0, size - 1]))

def template():
    k = rng.randrange(9)
    if k == 0:  # D-form loads/stores
        op = rng.choice([32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45])
        size = {32: 4, 36: 4, 34: 1, 38: 1}.get(op & ~1, 2)
        return [d(op, reg(), 3, disp(size))]
    if k == 1:  # X-form
        xo = rng.choice([23, 55, 87, 119, 279, 311, 343, 375, 151, 183, 215, 247, 407, 439,
                         534, 662, 790, 918])
        return [x(reg(), 3, 4, xo)]
    if k == 2:
        rt = rng.randrange(20, 32)
        if rng.random() < 0.5:
            return [d(46, rt, 3, rng.randrange(0, 64 - 4 * (32 - rt) + 1) & ~3)]
        return [d(47, rt, 3, rng.randrange(0, 64 - 4 * (32 - rt) + 1) & ~3)]
    if k == 3:  # lswi/stswi
        nb = rng.randrange(1, 17)
        return [x(reg(), 3, nb, rng.choice([597, 725]))]
    if k == 4:  # lswx/stswx with XER[BC] set by the prologue
        return [x(reg(), 3, 4, rng.choice([533, 661]))]
    if k == 5:
        return [x(0, 3, 4, 1014)]  # dcbz
    if k == 6:
        return [x(5, 0, 3, 20), x(6, 0, 3, 150, 1)]  # lwarx r5,0,r3 ; stwcx. r6,0,r3
    if k == 7:
        return [x(6, 0, 3, 150, 1)]  # stwcx. without reservation
    return [d(14, 3, 3, rng.choice([-4, 4, 8])), d(32, reg(), 3, rng.choice([0, 1, 2, 3]))]

uc = Uc(UC_ARCH_PPC, UC_MODE_PPC32 | UC_MODE_BIG_ENDIAN)
uc.ctl_set_cpu_model(UC_CPU_PPC32_750CL_V2_0)
uc.mem_map(0, 0x10000)
from unicorn import UC_HOOK_CODE

misaligned = [False]

def on_code(uc, address, size, _):
    w = int.from_bytes(uc.mem_read(address, 4), "big")
    op, xo = w >> 26, (w >> 1) & 0x3ff
    ra = (w >> 16) & 31
    base = uc.reg_read(UC_PPC_REG_0 + ra) if ra else 0
    if op in (46, 47):
        ea = base + ((w & 0xffff) ^ 0x8000) - 0x8000
    elif op == 31 and xo in (20, 150):
        ea = base + uc.reg_read(UC_PPC_REG_0 + ((w >> 11) & 31))
    else:
        return
    if ea & 3:
        misaligned[0] = True

uc.hook_add(UC_HOOK_CODE, on_code)
vectors = []
while len(vectors) < 600:
    code = []
    for _ in range(rng.randrange(1, 4)):
        code += template()
    regs = [rng.getrandbits(32) for _ in range(32)]
    regs[3] = DATA + rng.choice([0, 4, 8, 16])  # word aligned, see below
    regs[4] = rng.choice([0, 4, 8, 12, 3, 5])
    regs[30] = rng.choice([0, 0x20000000, 0x80000000]) | rng.randrange(0, 17)  # XER with BC
    regs[31] = rng.getrandbits(32)
    data = bytes(rng.getrandbits(8) for _ in range(64))
    pro = [x(30, 1, 0, 467), (31 << 26) | (31 << 21) | (0xff << 12) | (144 << 1)]
    epi = [x(30, 1, 0, 339), x(31, 0, 0, 19)]
    words = pro + code + epi
    uc.mem_write(0x1000, b"".join(w.to_bytes(4, "big") for w in words))
    uc.mem_write(DATA - 64, bytes(64 * 3))
    uc.mem_write(DATA, data)
    uc.ctl_remove_cache(0x1000, 0x1000 + 4 * len(words))
    for i, v in enumerate(regs):
        uc.reg_write(UC_PPC_REG_0 + i, v)
    misaligned[0] = False
    try:
        uc.emu_start(0x1000, 0x1000 + 4 * len(words), 0, len(words))
    except Exception:
        continue  # an exception (e.g. an invalid form or alignment): not a golden case
    if uc.reg_read(UC_PPC_REG_PC) != 0x1000 + 4 * len(words) or misaligned[0]:
        continue
    if bytes(uc.mem_read(DATA - 64, 64)) != bytes(64) or bytes(uc.mem_read(DATA + 64, 64)) != bytes(64):
        continue  # wrote outside the data area
    out = [uc.reg_read(UC_PPC_REG_0 + i) & 0xffffffff for i in range(32)]
    vectors.append((code, regs, data.hex(), out, bytes(uc.mem_read(DATA, 64)).hex()))

lines = ["/**",
         " * Golden load/store sequences, generated by Unicorn 2.0.1 (CPU model 750CL v2.0) with",
         " * `/usr/bin/python3 tools/gen_ppc_seq_vectors.py`. Do not edit.",
         " *",
         " * Each case: [code, regs in (r0..r31; r30 = XER, r31 = CR), data at 0x2000 (hex),",
         " * regs out (r30 = XER, r31 = CR after the case), data out].",
         " *",
         " * @module",
         " */",
         "",
         "/** One golden case. */",
         "export type PpcSeqVector = readonly [",
         "  code: readonly number[],",
         "  regsIn: readonly number[],",
         "  dataIn: string,",
         "  regsOut: readonly number[],",
         "  dataOut: string,",
         "];",
         "",
         "/** The cases. */",
         "export const PPC_SEQ_VECTORS: readonly PpcSeqVector[] = ["]
h = lambda v: "0x%x" % v
for code, regs, di, out, do in vectors:
    lines.append("  [[%s], [%s], \"%s\", [%s], \"%s\"]," % (
        ", ".join(map(h, code)), ", ".join(map(h, regs)), di, ", ".join(map(h, out)), do))
lines.append("];")
open("arch/ppc/seq_vectors.ts", "w").write("\n".join(lines) + "\n")
print(len(vectors), "vectors")
