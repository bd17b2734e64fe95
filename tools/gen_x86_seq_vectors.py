#!/usr/bin/python3
"""Generate arch/x86/seq_vectors.ts: random instruction sequences run on Unicorn 2.0.1.

Run: /usr/bin/python3 tools/gen_x86_seq_vectors.py 2>/dev/null > arch/x86/seq_vectors.ts
(nasm rejects some random operand combinations; those programs are skipped.)
Needs: apt-get install -y python3-unicorn nasm. Seeded, so the output is reproducible.

Every program uses only instructions whose results are architecturally defined; an instruction
that leaves flags undefined is followed by `add edx, 0` (or `add rdx, 0`), which redefines all
six arithmetic flags, so no later instruction observes an undefined flag. EBX/RBX holds the data
page address (0x2000), ESI/EDI point into it for string instructions, ESP/RSP is the stack.
The vector records the final general registers, EFLAGS and the first 1 KiB of the data page.
"""
import random, subprocess, tempfile, os, json
from unicorn import Uc, UC_ARCH_X86, UC_MODE_16, UC_MODE_32, UC_MODE_64
from unicorn.x86_const import *

random.seed(424242)
CODE, DATA, STACK = 0x8000, 0x2000, 0x1800
ALU = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"]
CC = ["o", "no", "b", "ae", "z", "nz", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"]

def nasm(text, bits):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "a.asm"); out = os.path.join(d, "a.bin")
        open(src, "w").write(f"bits {bits}\n{text}\n")
        subprocess.run(["nasm", "-f", "bin", "-o", out, src], check=True)
        return open(out, "rb").read()

def program(bits):
    if bits == 16:
        R = ["ax", "cx", "dx", "bp", "eax", "ebp"]
        R8 = ["al", "cl", "dl", "ah", "ch", "dh"]
        R16 = ["ax", "cx", "dx", "bp"]
        fix = "add dx, 0"
    elif bits == 32:
        R = ["eax", "ecx", "edx", "ebp"]
        R8 = ["al", "cl", "dl", "ah", "ch", "dh"]
        R16 = ["ax", "cx", "dx", "bp"]
        fix = "add edx, 0"
    else:
        R = ["rax", "rcx", "rdx", "rbp", "r8", "r9", "r12", "r15", "eax", "r10d"]
        R8 = ["al", "cl", "dl", "r8b", "sil" if False else "bpl"]
        R16 = ["ax", "cx", "r9w"]
        fix = "add rdx, 0"
    r = lambda: random.choice(R)
    r32 = lambda: random.choice([x for x in R if x.startswith("e") or x.endswith("d")] or R)
    if bits == 16:
        wide = lambda: random.choice(["ax", "cx", "dx", "bp"])
    else:
        wide = lambda: random.choice([x for x in R if not (x.startswith("e") or x.endswith("d"))] if bits == 64 else R)
    d = lambda: random.randrange(0, 0x200, 4)
    imm = lambda: random.choice([0, 1, 2, 0x7f, 0x80, 0xff, 0x7fffffff, -1, -128, random.randrange(-2**31, 2**31)])
    ptr = "bx" if bits == 16 else "ebx" if bits == 32 else "rbx"
    size = "dword" if bits == 32 else "qword"
    lines = ["cld"]
    for _ in range(random.randint(8, 24)):
        k = random.randrange(45)
        a, b = r(), r()
        if k == 0: lines.append(f"{random.choice(ALU)} {a}, {b}" if (a[0] == b[0] or bits == 32 or (a.endswith('d') or a.startswith('e')) == (b.endswith('d') or b.startswith('e'))) else f"{random.choice(ALU)} {a}, {a}")
        elif k == 1: lines.append(f"{random.choice(ALU)} {a}, {imm()}")
        elif k == 2: lines.append(f"{random.choice(ALU)} [{ptr}+{d()}], {wide()}")
        elif k == 3: lines.append(f"{random.choice(ALU)} {wide()}, [{ptr}+{d()}]")
        elif k == 4: lines.append(f"{random.choice(ALU)} {random.choice(R8)}, {random.choice(R8)}")
        elif k == 5: lines.append(f"{random.choice(ALU)} {random.choice(R16)}, {random.choice(R16)}")
        elif k == 6: lines.append(f"{random.choice(['inc', 'dec', 'neg', 'not'])} {a}")
        elif k == 7: lines += [f"{random.choice(['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'])} {a}, {random.randint(1, 31)}", fix]
        elif k == 8: lines += [f"imul {wide()}, {wide()}", fix]
        elif k == 9: lines += [f"imul {wide()}, {wide()}, {random.randint(-200, 200)}", fix]
        elif k == 10: lines += [f"mul {wide()}", fix]
        elif k == 11 and bits == 16: lines.append(f"lea {wide()}, [bp+si+{random.randint(-100, 100)}]")
        elif k == 11: lines.append(f"lea {wide()}, [{wide()}+{wide()}*{random.choice([1, 2, 4, 8])}+{random.randint(-100, 100)}]")
        elif k == 12: lines.append(f"mov {wide()}, [{ptr}+{d()}]")
        elif k == 13: lines.append(f"mov [{ptr}+{d()}], {wide()}")
        elif k == 14: lines.append(f"movzx {r32()}, byte [{ptr}+{d()}]")
        elif k == 15: lines.append(f"movsx {r32()}, word [{ptr}+{d()}]")
        elif k == 16: lines += [f"push {wide()}", f"pop {wide()}"]
        elif k == 17: lines.append(f"xchg {wide()}, [{ptr}+{d()}]")
        elif k == 18: lines.append(f"cmov{random.choice(CC)} {wide()}, {wide()}")
        elif k == 19: lines.append(f"set{random.choice(CC)} {random.choice(R8)}")
        elif k == 20: lines.append(f"bswap {wide()}")
        elif k == 21: lines.append(f"xadd {wide()}, {wide()}")
        elif k == 22: lines.append(f"cmpxchg [{ptr}+{d()}], {wide()}")
        elif k == 23: lines += [f"bt{random.choice(['', 's', 'r', 'c'])} {wide()}, {random.randint(0, 31)}", fix]
        elif k == 24: lines += [f"j{random.choice(CC)} short $+3", "cmc"]
        elif k == 25: lines.append(random.choice(["lodsb", "lodsd", "stosd", "stosb", "movsd", "movsb", "cmpsb", "scasd"]))
        elif k == 26: lines += [f"mov {'cx' if bits == 16 else 'ecx'}, {random.randint(0, 40)}", random.choice(["rep movsb", "rep stosb", "rep movsd", "repe cmpsb", "repne scasb"])]
        elif k == 27: lines += [f"{random.choice(['shl', 'shr', 'sar', 'rol', 'ror'])} {wide()}, cl", fix]
        elif k == 28:
            w = random.choice([16, 32]) if bits != 64 else random.choice([16, 32, 64])
            regs_w = {16: ("ax", "dx"), 32: ("eax", "edx"), 64: ("rax", "rdx")}[w]
            lines += [f"{random.choice(['shld', 'shrd'])} {regs_w[0]}, {regs_w[1]}, {random.randint(1, w - 1 if w > 16 else 15)}", fix]
        elif k == 29:
            acc, dv, dx = {16: ("ax", "cx", "dx"), 32: ("eax", "ecx", "edx"), 64: ("rax", "rcx", "rdx")}[bits if bits != 16 else 16]
            lines += [f"xor {dx}, {dx}", f"mov {dv}, {random.randint(1, 1000)}", f"{random.choice(['div', 'idiv'])} {dv}", fix]
        elif k == 30:
            w = wide()
            lines += [f"or {w}, 1", f"{random.choice(['bsf', 'bsr'])} {wide()}, {w}", fix]
        elif k == 31: lines += [f"push {random.randint(-128, 127)}", f"pop {wide()}"]
        elif k == 32: lines += ["pushf" if bits == 16 else "pushfd" if bits == 32 else "pushfq", f"pop {wide()}"]
        elif k == 33: lines += ["call $+5" if bits != 16 else "call $+3", f"pop {wide()}"]
        elif k == 34: lines.append(random.choice(["cbw", "cwd", "cwde", "cdq"] + (["cdqe", "cqo"] if bits == 64 else [])))
        elif k == 35: lines.append(random.choice(["lahf", "sahf", "stc", "clc", "cmc"]))
        elif k == 36: lines.append(f"{random.choice(['movzx', 'movsx'])} {r32() if bits != 16 else 'ax'}, {random.choice(R8)}")
        elif k == 37: lines.append(f"xchg {wide()}, {wide()}")
        elif k == 38: lines += ["std", random.choice(["lodsb", "stosd", "movsb", "cmpsb"]), "cld"]
        elif k == 39: lines += [f"test {wide()}, {wide()}", fix]
        elif k == 40: lines += [f"{random.choice(['rcl', 'rcr'])} {wide()}, 1"]
        elif k == 41 and bits != 64: lines += ["xlatb" if bits == 16 else "xlat"]
        elif k == 42:
            bp, sp = {16: ("bp", "sp"), 32: ("ebp", "esp"), 64: ("rbp", "rsp")}[bits]
            lines += [f"mov {bp}, {sp}", f"enter {random.choice([0, 8, 16])}, {random.choice([0, 1, 2, 3])}",
                      f"mov [{bp}-2], {'ax' if bits == 16 else 'ax'}", "leave"]
        elif k == 43:
            c = {16: "cx", 32: "ecx", 64: "ecx"}[bits]
            lines += [f"mov {c}, {random.randint(1, 9)}", "cmc", random.choice(["loop $-1", "loope $-1", "loopne $-1"])]
        elif k == 44:
            lines += [f"{random.choice(['adc', 'sbb'])} {wide()}, {wide()}", f"{random.choice(['rcl', 'rcr'])} {wide()}, cl", fix]
    lines.append("hlt")
    return "\n".join(lines)

REGS = {16: [UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX, UC_X86_REG_ESP,
             UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI],
        32: [UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX, UC_X86_REG_ESP,
             UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI],
        64: [UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP,
             UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8, UC_X86_REG_R9,
             UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
             UC_X86_REG_R15]}

vectors = []
for bits in (16, 32, 64):
    count = 0
    while count < 200:
        src = program(bits)
        try:
            code = nasm(src, bits)
        except subprocess.CalledProcessError:
            continue
        n = len(REGS[bits])
        regs = [random.getrandbits(32 if bits == 16 else bits) for _ in range(n)]
        regs[3] = DATA; regs[4] = STACK; regs[6] = DATA + 0x300; regs[7] = DATA + 0x380
        flags = random.choice([0, 1, 0x8d5, 0x44]) | 2
        data = bytes(random.getrandbits(8) for _ in range(0x400))
        mu = Uc(UC_ARCH_X86, UC_MODE_16 if bits == 16 else UC_MODE_32 if bits == 32 else UC_MODE_64)
        mu.mem_map(0, 0x10000)
        mu.mem_write(CODE, code)
        mu.mem_write(DATA, data)
        for reg, v in zip(REGS[bits], regs):
            mu.reg_write(reg, v)
        mu.reg_write(UC_X86_REG_EFLAGS, flags)
        try:
            mu.emu_start(CODE, CODE + len(code) - 1, count=2000)
        except Exception:
            continue
        out = [mu.reg_read(reg) for reg in REGS[bits]]
        oflags = mu.reg_read(UC_X86_REG_EFLAGS) & 0x8d5
        odata = bytes(mu.mem_read(DATA, 0x400))
        vectors.append({"bits": bits, "src": src, "code": code.hex(), "regs": [hex(x) for x in regs],
                        "flags": hex(flags), "data": data.hex(), "out": [hex(x) for x in out],
                        "oflags": hex(oflags), "odata": odata.hex()})
        count += 1

print("// Generated by tools/gen_x86_seq_vectors.py with Unicorn 2.0.1 (python3-unicorn) and nasm.")
print("// Do not edit: rerun `/usr/bin/python3 tools/gen_x86_seq_vectors.py > arch/x86/seq_vectors.ts`.")
print("/**\n * Random instruction sequences with their final registers, arithmetic flags and data page,")
print(" * produced by Unicorn; see the generator for the rules that keep every result defined.\n *")
print(" * @example\n * ```ts\n * import { SEQ_VECTORS } from \"./seq_vectors.ts\";\n * SEQ_VECTORS.length > 0; // true\n * ```\n *\n * @module\n */")
print("")
print("/** One program. */")
print("export interface SeqVector {\n  bits: 16 | 32 | 64;\n  src: string;\n  code: string;\n  regs: string[];\n  flags: string;\n  data: string;\n  out: string[];\n  oflags: string;\n  odata: string;\n}\n")
print("/** All programs. */")
print("export const SEQ_VECTORS: SeqVector[] = " + json.dumps(vectors, indent=0) + ";")
