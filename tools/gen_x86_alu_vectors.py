#!/usr/bin/python3
"""Generate arch/x86/alu_vectors.ts: per-instruction register/flag vectors from Unicorn 2.0.1.

Run: /usr/bin/python3 tools/gen_x86_alu_vectors.py > arch/x86/alu_vectors.ts
Needs: apt-get install -y python3-unicorn nasm. Seeded, so the output is reproducible.
Each vector records the flags mask that the architecture defines for that instruction and
operands (undefined flags are masked out), so the test checks architectural behaviour only.
"""
import random, subprocess, tempfile, os, json
from unicorn import Uc, UC_ARCH_X86, UC_MODE_32, UC_MODE_64
from unicorn.x86_const import *

random.seed(20261123)
ALL = 0x8D5            # CF PF AF ZF SF OF
NOAF = 0x8C5
CF, PF, AF, ZF, SF, OF = 1, 4, 0x10, 0x40, 0x80, 0x800

def nasm(text, bits):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "a.asm"); out = os.path.join(d, "a.bin")
        open(src, "w").write(f"bits {bits}\n{text}\n")
        subprocess.run(["nasm", "-f", "bin", "-o", out, src], check=True)
        return open(out, "rb").read()

EDGE32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
          0xffffffff, 0xfffffffe, 0x12345678, 0x0f0f0f0f]

def val32():
    return random.choice(EDGE32) if random.random() < 0.5 else random.getrandbits(32)

def val64():
    r = random.random()
    if r < 0.3:
        return random.choice([0, 1, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff,
                              0xffffffff, 0x100000000, 0x7fffffff, 0x80000000])
    return random.getrandbits(64)

REGS32 = [UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX]
REGS64 = [UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX]

def run(code, bits, regs, flags):
    mu = Uc(UC_ARCH_X86, UC_MODE_32 if bits == 32 else UC_MODE_64)
    mu.mem_map(0x1000, 0x1000)
    mu.mem_write(0x1000, code)
    names = REGS32 if bits == 32 else REGS64
    for r, v in zip(names, regs):
        mu.reg_write(r, v)
    mu.reg_write(UC_X86_REG_EFLAGS, flags | 2)
    mu.emu_start(0x1000, 0x1000 + len(code), count=1)
    return [mu.reg_read(r) for r in names], mu.reg_read(UC_X86_REG_EFLAGS)

vectors = []

def add(text, bits, mask_fn, gen=None, n=12):
    code = nasm(text, bits)
    for _ in range(n):
        if gen:
            regs = gen()
        else:
            v = val32 if bits == 32 else val64
            regs = [v(), v(), v(), v()]
        flags = random.choice([0, CF, ALL, 0x8d5 & ~CF, AF | CF])
        try:
            out, oflags = run(code, bits, regs, flags)
        except Exception:
            continue  # #DE etc.: not a vector
        mask = mask_fn(regs)
        vectors.append({"asm": text, "bits": bits, "code": code.hex(),
                        "in": [hex(x) for x in regs], "flags": hex(flags | 2),
                        "out": [hex(x) for x in out], "oflags": hex(oflags), "mask": hex(mask)})

for bits, (a, b) in [(32, ("eax", "ebx")), (32, ("ax", "bx")), (32, ("al", "bl")), (32, ("ah", "bl")),
                     (64, ("rax", "rbx")), (64, ("eax", "ebx"))]:
    for op in ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "test"]:
        logic = op in ("or", "and", "xor", "test")
        add(f"{op} {a}, {b}", bits, lambda r, logic=logic: NOAF if logic else ALL)
    for op in ["inc", "dec", "neg", "not"]:
        add(f"{op} {a}", bits, lambda r, op=op: 0 if op == "not" else ALL)

def cnt_gen(bits, cnts):
    def g():
        v = val32 if bits == 32 else val64
        return [v(), v(), random.choice(cnts), v()]
    return g

for bits, (a, w) in [(32, ("eax", 32)), (32, ("ax", 16)), (32, ("al", 8)), (64, ("rax", 64))]:
    mod = 64 if w == 64 else 32
    for op in ["shl", "shr", "sar", "rol", "ror", "rcl", "rcr"]:
        def mask(r, op=op, w=w, mod=mod):
            c = (r[2] & 0xff) % mod
            if c == 0:
                return ALL
            if op in ("rol", "ror"):
                return CF | (OF if c == 1 else 0)
            if op in ("rcl", "rcr"):
                return CF | (OF if c == 1 else 0)
            if c > w:
                return ZF | SF | PF  # CF undefined when count > width
            return CF | ZF | SF | PF | (OF if c == 1 else 0)
        add(f"{op} {a}, cl", bits, mask, cnt_gen(bits, [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 255]), n=20)
    for op in ["shl", "shr", "sar", "rol"]:
        add(f"{op} {a}, 1", bits, lambda r, op=op: (CF | OF) if op == "rol" else (CF | OF | ZF | SF | PF))

for bits, regs in [(32, ("eax", "ebx")), (32, ("ax", "bx")), (64, ("rax", "rbx"))]:
    a, b = regs
    for op in ["shld", "shrd"]:
        w = 64 if a == "rax" else 32 if a == "eax" else 16
        def mask(r, w=w):
            c = (r[2] & 0xff) % (64 if w == 64 else 32)
            if c == 0:
                return ALL
            if c > w:
                return 0
            return CF | ZF | SF | PF | (OF if c == 1 else 0)
        add(f"{op} {a}, {b}, cl", bits, mask, cnt_gen(bits, [0, 1, 2, 5, 8, 15, 16, 17, 31, 33, 63]), n=16)

for bits, src in [(32, "ebx"), (32, "bx"), (32, "bl"), (64, "rbx")]:
    add(f"mul {src}", bits, lambda r: CF | OF)
    add(f"imul {src}", bits, lambda r: CF | OF)
    def dgen(bits=bits, src=src):
        v = val32 if bits == 32 else val64
        d = v() or 1
        return [v(), d, v(), random.choice([0, 1, v()]) if random.random() < 0.5 else 0]
    add(f"div {src}", bits, lambda r: 0, dgen, n=20)
    add(f"idiv {src}", bits, lambda r: 0, dgen, n=20)
for bits, (a, b) in [(32, ("eax", "ebx")), (32, ("ax", "bx")), (64, ("rax", "rbx"))]:
    add(f"imul {a}, {b}", bits, lambda r: CF | OF)
    add(f"imul {a}, {b}, 0x7f", bits, lambda r: CF | OF)
    add(f"bsf {a}, {b}", bits, lambda r: ZF)
    add(f"bsr {a}, {b}", bits, lambda r: ZF)
    for op in ["bt", "bts", "btr", "btc"]:
        add(f"{op} {a}, {b}", bits, lambda r: CF)
        add(f"{op} {a}, 5", bits, lambda r: CF)
    add(f"xadd {a}, {b}", bits, lambda r: ALL)
    add(f"cmpxchg {b}, {a.replace('a', 'c') if a != 'rax' else 'rcx'}", bits, lambda r: ALL)
for bits, a in [(32, "eax"), (64, "rax")]:
    add(f"bswap {a}", bits, lambda r: ALL)
    add("cdq" if bits == 32 else "cqo", bits, lambda r: ALL)
    add("cwde" if bits == 32 else "cdqe", bits, lambda r: ALL)
for t in ["daa", "das"]:
    add(t, 32, lambda r: CF | AF | ZF | SF | PF)
for t in ["aaa", "aas"]:
    add(t, 32, lambda r: CF | AF)
for t in ["sahf", "lahf", "cmc", "stc", "clc", "setz al", "setl bl", "setbe cl", "setp dl", "seto al",
          "cmovz eax, ebx", "cmovg ecx, edx", "cmovae eax, edx", "movzx eax, bl", "movsx eax, bx",
          "movsx eax, bl", "xchg eax, ebx", "lea eax, [ebx+ecx*4+8]", "lea ax, [ebx+ecx*2-3]"]:
    add(t, 32, lambda r: ALL)
for t in ["movsxd rax, ebx", "lea rax, [rbx+rcx*8-1]", "mov eax, ebx", "cmovnz rax, rbx", "movzx rax, bx"]:
    add(t, 64, lambda r: ALL)

print("// Generated by tools/gen_x86_alu_vectors.py with Unicorn 2.0.1 (python3-unicorn) and nasm.")
print("// Do not edit: rerun `/usr/bin/python3 tools/gen_x86_alu_vectors.py > arch/x86/alu_vectors.ts`.")
print("/**\n * Instruction vectors for the ALU tests: registers EAX/EBX/ECX/EDX (RAX.. in 64-bit mode) and")
print(" * EFLAGS before and after one instruction; `mask` selects the flags the architecture defines.\n *")
print(" * @example\n * ```ts\n * import { ALU_VECTORS } from \"./alu_vectors.ts\";\n * ALU_VECTORS.length > 0; // true\n * ```\n *\n * @module\n */")
print("")
print("/** One vector: hex strings. */")
print("export interface AluVector {\n  asm: string;\n  bits: 32 | 64;\n  code: string;\n  in: string[];\n  flags: string;\n  out: string[];\n  oflags: string;\n  mask: string;\n}\n")
print("/** All vectors. */")
print("export const ALU_VECTORS: AluVector[] = " + json.dumps(vectors, indent=0) + ";")
