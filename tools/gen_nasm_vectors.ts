/**
 * Generates the x86 assembler golden vectors from nasm.
 *
 * Usage (from the repository root):
 *   deno run --allow-run=nasm --allow-read=/tmp --allow-write=arch/x86/testdata,/tmp tools/gen_nasm_vectors.ts
 *
 * For each mode (16, 32, 64) it writes a source with one instruction per line covering every
 * supported instruction form, assembles it with `nasm -f bin -l <lst>` (default optimisation,
 * -Ox), drops the lines nasm rejects or warns about (recorded as `rejected` / `warned`), and
 * writes `arch/x86/testdata/nasm_vectors_<bits>.json` with `[offset, source, hex]` per line.
 * It also assembles the whole programs below into `arch/x86/testdata/nasm_programs.json`.
 *
 * @module
 */

const OUT = "arch/x86/testdata";
const TMP = await Deno.makeTempDir({ dir: "/tmp", prefix: "nasmvec" });

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(args[0], { args: args.slice(1) }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

const nasmVersion = (await run(["nasm", "-v"])).out.trim();

type Bits = 16 | 32 | 64;

function regs(bits: Bits) {
  const r8 = ["al", "cl", "dl", "bl", "ah", "bh"];
  const r16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
  const r32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
  if (bits !== 64) return { r8, r16, r32, r64: [] as string[] };
  return {
    r8: [...r8, "spl", "bpl", "sil", "dil", "r8b", "r11b", "r15b"],
    r16: [...r16, "r8w", "r13w"],
    r32: [...r32, "r8d", "r12d", "r15d"],
    r64: ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r12", "r13", "r15"],
  };
}

function mems(bits: Bits): string[] {
  const m16 = [
    "[bx]",
    "[bp]",
    "[si]",
    "[di]",
    "[bx+si]",
    "[bx+di]",
    "[bp+si]",
    "[bp+di]",
    "[si+bx]",
    "[bx+4]",
    "[bp-2]",
    "[si+0x1234]",
    "[bx+si+0x7f]",
    "[bp+di-0x80]",
    "[di+0x80]",
    "[0x1234]",
    "[bp+0]",
    "[es:bx]",
    "[fs:si+2]",
    "[ss:bp+di+0x100]",
  ];
  const m32 = [
    "[eax]",
    "[ebp]",
    "[esp]",
    "[esp+4]",
    "[ebp-4]",
    "[eax+0x12345678]",
    "[edi+0x80]",
    "[esi-0x80]",
    "[eax+ebx]",
    "[eax+ebx*2]",
    "[eax+ecx*4+8]",
    "[esi+edi*8-0x100]",
    "[ebx*4]",
    "[ecx*4+0x1000]",
    "[eax*2]",
    "[eax*3]",
    "[ebx*8+ebp]",
    "[ebp+eax]",
    "[esp+ebp*2]",
    "[eax+esp]",
    "[gs:eax]",
    "[cs:ebp+8]",
    "[ds:esp]",
  ];
  const m64 = [
    "[rax]",
    "[rbp]",
    "[rsp]",
    "[r12]",
    "[r13]",
    "[rsp+8]",
    "[r13-8]",
    "[r12+0x1000]",
    "[rax+rbx*4]",
    "[r8+r9*8+0x10]",
    "[r12+r13*2]",
    "[rbp+rsi]",
    "[rcx*8+0x100]",
    "[r14*2]",
    "[rax+0x7fffffff]",
    "[rdi-0x80000000]",
    "[0x1000]",
    "[rel $+0x100]",
    "[rel $-0x20]",
    "[eax]",
    "[ebx+ecx*4+8]",
    "[r15d]",
    "[fs:rax]",
    "[gs:0x28]",
  ];
  if (bits === 16) return [...m16, "[eax]", "[ebx+ecx*4+8]", "[esp]"];
  if (bits === 32) return [...m32, "[bx+si]", "[bp+8]", "[0x12345678]", "[0x10]"];
  return m64;
}

const IMMS = [
  "0",
  "1",
  "-1",
  "0x7f",
  "0x80",
  "-0x80",
  "-0x81",
  "0xff",
  "0x100",
  "0x1234",
  "0x7fff",
  "-0x8000",
  "0xffff",
  "0x12345678",
  "0x7fffffff",
  "-0x80000000",
  "0xffffffff",
];

function pick<T>(a: T[], n: number): T[] {
  if (a.length <= n) return a;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(a[Math.floor((i * a.length) / n)]);
  return out;
}

function genLines(bits: Bits): string[] {
  const L: string[] = [];
  const { r8, r16, r32, r64 } = regs(bits);
  const M = mems(bits);
  const Ms = pick(M, 10);
  const sizes: [string, string[]][] = [["byte", r8], ["word", r16], ["dword", r32]];
  if (bits === 64) sizes.push(["qword", r64]);
  const allRegs = [...r8, ...r16, ...r32, ...r64];
  const gp = sizes.filter(([s]) => s !== "byte");
  const alu = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];

  // ALU and MOV, TEST
  for (const op of [...alu, "mov", "test"]) {
    for (const [sz, rs] of sizes) {
      for (const a of rs) for (const b of pick(rs, 4)) L.push(`${op} ${a}, ${b}`);
      for (const m of op === "add" || op === "mov" ? M : Ms) {
        L.push(`${op} ${m}, ${rs[1]}`);
        L.push(`${op} ${rs[3]}, ${m}`);
        if (op === "mov") L.push(`${op} ${rs[0]}, ${m}`, `${op} ${m}, ${rs[0]}`);
      }
      for (const i of IMMS) {
        L.push(`${op} ${rs[0]}, ${i}`, `${op} ${rs[2]}, ${i}`, `${op} ${sz} ${Ms[1]}, ${i}`);
      }
      L.push(`${op} ${sz} ${M[5]}, strict ${sz} 1`, `${op} ${rs[0]}, strict ${sz} 1`);
      if (sz !== "byte") L.push(`${op} ${rs[1]}, byte 1`, `${op} ${rs[0]}, ${sz} 1`);
    }
  }
  if (bits === 64) {
    for (
      const i of [
        "0x100000000",
        "0xffffffff80000000",
        "0x123456789abcdef0",
        "-0x7fffffff",
        "0xffffffffffffffff",
      ]
    ) {
      L.push(`mov rax, ${i}`, `mov r9, ${i}`, `mov qword [rax], ${i}`, `add rax, ${i}`);
    }
    L.push("mov rax, strict qword 1", "mov rcx, qword 1");
  }
  // moffs
  for (const [, rs] of sizes) {
    L.push(`mov ${rs[0]}, [0x1234]`, `mov [0x1234], ${rs[0]}`, `mov ${rs[0]}, [es:0x10]`);
  }
  // segment registers
  const sregs = ["es", "cs", "ss", "ds", "fs", "gs"];
  for (const s of sregs) {
    L.push(
      `mov ${s}, ax`,
      `mov ${s}, eax`,
      `mov ax, ${s}`,
      `mov eax, ${s}`,
      `mov ${s}, [bx]`,
      `mov [eax], ${s}`,
    );
    L.push(`mov ${s}, word ${M[3]}`, `mov word ${M[4]}, ${s}`, `push ${s}`, `pop ${s}`);
    if (bits === 64) L.push(`mov ${s}, rax`, `mov rax, ${s}`, `mov ${s}, r9w`);
    L.push(`push word ${s}`, `push dword ${s}`);
  }
  // control and debug registers
  for (const c of ["cr0", "cr2", "cr3", "cr4", "cr8", "dr0", "dr3", "dr6", "dr7"]) {
    for (const r of bits === 64 ? ["rax", "rbx", "r9"] : ["eax", "ebx", "edi"]) {
      L.push(`mov ${c}, ${r}`, `mov ${r}, ${c}`);
    }
  }
  // movzx / movsx / movsxd
  for (const op of ["movzx", "movsx"]) {
    for (const [, rs] of gp) {
      for (const s of [...pick(r8, 5), ...pick(r16, 3)]) L.push(`${op} ${rs[2]}, ${s}`);
      for (const m of Ms) L.push(`${op} ${rs[1]}, byte ${m}`, `${op} ${rs[0]}, word ${m}`);
    }
  }
  if (bits === 64) {
    for (const r of ["eax", "r9d", "esp"]) L.push(`movsxd rax, ${r}`, `movsxd r10, ${r}`);
    for (const m of Ms) L.push(`movsxd rcx, dword ${m}`);
  }
  // lea
  for (const [, rs] of gp) for (const m of M) L.push(`lea ${rs[2]}, ${m}`);
  // inc dec neg not mul div idiv imul (1 op)
  for (const op of ["inc", "dec", "neg", "not", "mul", "div", "idiv", "imul"]) {
    for (const [sz, rs] of sizes) {
      for (const r of rs) L.push(`${op} ${r}`);
      for (const m of pick(Ms, 4)) L.push(`${op} ${sz} ${m}`);
    }
  }
  for (const [, rs] of gp) {
    for (const r of pick(rs, 4)) {
      L.push(`imul ${rs[0]}, ${r}`, `imul ${r}, ${rs[1]}`);
      for (const i of ["2", "-1", "0x7f", "0x80", "0x1234", "-0x81"]) {
        L.push(`imul ${r}, ${rs[2]}, ${i}`, `imul ${r}, ${i}`);
      }
    }
    for (const m of pick(Ms, 4)) {
      L.push(`imul ${rs[1]}, ${m}`, `imul ${rs[1]}, ${m}, 3`, `imul ${rs[1]}, ${m}, 0x300`);
    }
  }
  // shifts
  for (const op of ["rol", "ror", "rcl", "rcr", "shl", "sal", "shr", "sar"]) {
    for (const [sz, rs] of sizes) {
      for (const r of pick(rs, 3)) {
        L.push(`${op} ${r}, 1`, `${op} ${r}, cl`, `${op} ${r}, 4`, `${op} ${r}, 0x1f`);
      }
      for (const m of pick(Ms, 3)) {
        L.push(`${op} ${sz} ${m}, 1`, `${op} ${sz} ${m}, cl`, `${op} ${sz} ${m}, 7`);
      }
    }
  }
  for (const op of ["shld", "shrd"]) {
    for (const [, rs] of gp) {
      for (const r of pick(rs, 3)) L.push(`${op} ${r}, ${rs[1]}, 4`, `${op} ${r}, ${rs[2]}, cl`);
      for (const m of pick(Ms, 3)) L.push(`${op} ${m}, ${rs[3]}, 1`, `${op} ${m}, ${rs[3]}, cl`);
    }
  }
  // bit ops
  for (const op of ["bt", "bts", "btr", "btc"]) {
    for (const [sz, rs] of gp) {
      for (const r of pick(rs, 3)) {
        L.push(`${op} ${r}, ${rs[1]}`, `${op} ${r}, 5`, `${op} ${r}, 0x1f`);
      }
      for (const m of pick(Ms, 3)) L.push(`${op} ${m}, ${rs[2]}`, `${op} ${sz} ${m}, 3`);
    }
  }
  for (const op of ["bsf", "bsr"]) {
    for (const [, rs] of gp) {
      for (const r of pick(rs, 3)) L.push(`${op} ${r}, ${rs[1]}`);
      for (const m of pick(Ms, 3)) L.push(`${op} ${rs[2]}, ${m}`);
    }
  }
  for (const r of [...r32, ...r64]) L.push(`bswap ${r}`);
  // xchg, xadd, cmpxchg
  for (const [sz, rs] of sizes) {
    for (const a of rs) for (const b of pick(rs, 3)) L.push(`xchg ${a}, ${b}`);
    for (const m of pick(Ms, 4)) {
      L.push(
        `xchg ${m}, ${rs[1]}`,
        `xchg ${rs[2]}, ${m}`,
        `xadd ${m}, ${rs[1]}`,
        `cmpxchg ${m}, ${rs[2]}`,
      );
      L.push(`lock xadd ${m}, ${rs[0]}`, `lock cmpxchg ${m}, ${rs[3]}`, `lock add ${sz} ${m}, 1`);
    }
    for (const r of pick(rs, 3)) L.push(`xadd ${r}, ${rs[1]}`, `cmpxchg ${r}, ${rs[2]}`);
  }
  for (const m of pick(Ms, 4)) {
    L.push(`cmpxchg8b ${m}`, `lock cmpxchg8b qword ${m}`, `cmpxchg16b ${m}`);
  }
  // cmov, set, jcc
  const ccs = [
    "o",
    "no",
    "b",
    "c",
    "nae",
    "ae",
    "nb",
    "nc",
    "e",
    "z",
    "ne",
    "nz",
    "be",
    "na",
    "a",
    "nbe",
    "s",
    "ns",
    "p",
    "pe",
    "np",
    "po",
    "l",
    "nge",
    "ge",
    "nl",
    "le",
    "ng",
    "g",
    "nle",
  ];
  for (const cc of ccs) {
    L.push(
      `cmov${cc} ${r32[0]}, ${r32[3]}`,
      `cmov${cc} ${r16[1]}, ${M[2]}`,
      `set${cc} al`,
      `set${cc} byte ${M[4]}`,
    );
    if (bits === 64) L.push(`cmov${cc} r9, [rax]`, `set${cc} r10b`);
    for (const t of ["$+2", "$+0x10", "$-0x10", "$+0x81", "$-0x7e", "$+0x1000", "$-0x1000"]) {
      L.push(`j${cc} ${t}`);
    }
    L.push(`j${cc} short $+5`, `j${cc} near $+5`);
  }
  // push / pop
  for (const r of [...r16, ...r32, ...r64]) L.push(`push ${r}`, `pop ${r}`);
  for (const m of pick(M, 8)) {
    for (const sz of ["word", "dword", "qword"]) L.push(`push ${sz} ${m}`, `pop ${sz} ${m}`);
    L.push(`push ${m}`);
  }
  for (const i of IMMS) L.push(`push ${i}`, `push word ${i}`, `push dword ${i}`, `push qword ${i}`);
  L.push("push strict dword 1", "push byte 1", "push strict word 1");
  // no-operand
  L.push(
    "cld",
    "std",
    "cli",
    "sti",
    "clc",
    "stc",
    "cmc",
    "hlt",
    "nop",
    "pause",
    "int3",
    "int1",
    "into",
    "ud2",
    "cpuid",
    "rdmsr",
    "wrmsr",
    "rdtsc",
    "wbinvd",
    "invd",
    "clts",
    "leave",
    "lahf",
    "sahf",
    "xlatb",
    "cbw",
    "cwde",
    "cdqe",
    "cwd",
    "cdq",
    "cqo",
    "pusha",
    "popa",
    "pushaw",
    "popaw",
    "pushad",
    "popad",
    "pushf",
    "popf",
    "pushfw",
    "popfw",
    "pushfd",
    "popfd",
    "pushfq",
    "popfq",
    "iret",
    "iretw",
    "iretd",
    "iretq",
    "ret",
    "retf",
    "retfw",
    "retfd",
    "retfq",
    "ret 8",
    "ret 0x1234",
    "retf 4",
    "retn",
    "syscall",
    "sysenter",
    "sysexit",
    "mfence",
    "lfence",
    "sfence",
    "swapgs",
  );
  // string ops
  for (const s of ["movs", "cmps", "stos", "lods", "scas", "ins", "outs"]) {
    for (const x of ["b", "w", "d", "q"]) {
      L.push(`${s}${x}`, `rep ${s}${x}`);
      if (s === "cmps" || s === "scas") {
        L.push(`repe ${s}${x}`, `repne ${s}${x}`, `repz ${s}${x}`, `repnz ${s}${x}`);
      }
      L.push(`a16 ${s}${x}`, `a32 rep ${s}${x}`);
    }
  }
  L.push("xlat", "lock inc dword [eax]", "o16 movsd", "o32 iret");
  for (const sg of ["es", "cs", "ss", "ds", "fs", "gs"]) {
    L.push(
      `${sg} lodsb`,
      `rep ${sg} movsd`,
      `${sg} rep movsb`,
      `repe ${sg} cmpsb`,
      `${sg} outsb`,
      `${sg} mov eax, [ebx]`,
    );
    L.push(`lock ${sg} add [eax], ebx`, `${sg} nop`, `${sg} stosb`, `${sg} mov eax, [${sg}:ebx]`);
  }
  // int, enter, in/out
  L.push(
    "int 0x10",
    "int 3",
    "int 0x80",
    "int 0xff",
    "enter 0x10, 0",
    "enter 0x1234, 3",
    "enter 0, 1",
  );
  for (const r of ["al", "ax", "eax"]) {
    L.push(`in ${r}, 0x60`, `in ${r}, dx`, `out 0x80, ${r}`, `out dx, ${r}`, `in ${r}, 0xe9`);
  }
  // system
  for (const m of pick(M, 10)) {
    L.push(`lgdt ${m}`, `lidt ${m}`, `sgdt ${m}`, `sidt ${m}`, `invlpg ${m}`, `clflush ${m}`);
    L.push(`lldt ${m}`, `ltr ${m}`, `sldt ${m}`, `str ${m}`, `lmsw ${m}`, `smsw ${m}`);
    L.push(`lgdt [${m.slice(1, -1)}]`, `lldt word ${m}`);
  }
  for (const r of ["ax", "bx", "eax", "ecx", "rax", "r9", "r9w"]) {
    L.push(`lldt ${r}`, `ltr ${r}`, `sldt ${r}`, `str ${r}`, `lmsw ${r}`, `smsw ${r}`);
  }
  // jmp / call
  for (
    const t of [
      "$+2",
      "$+0x10",
      "$-0x10",
      "$+0x81",
      "$-0x7e",
      "$+0x1000",
      "$-0x1000",
      "0x10",
      "0x1000",
    ]
  ) {
    L.push(`jmp ${t}`, `call ${t}`, `jmp short ${t}`, `jmp near ${t}`, `call near ${t}`);
  }
  L.push("jmp word $+0x200", "jmp dword $+0x200", "call word $+0x200", "call dword $+0x200");
  for (const r of [...pick(r16, 3), ...pick(r32, 3), ...pick(r64, 4)]) {
    L.push(`jmp ${r}`, `call ${r}`);
  }
  for (const m of pick(M, 8)) {
    L.push(
      `jmp ${m}`,
      `call ${m}`,
      `jmp word ${m}`,
      `jmp dword ${m}`,
      `jmp qword ${m}`,
      `call qword ${m}`,
    );
    L.push(
      `jmp far ${m}`,
      `call far ${m}`,
      `jmp far dword ${m}`,
      `jmp far word ${m}`,
      `jmp far qword ${m}`,
    );
    L.push(`call far dword ${m}`);
  }
  L.push(
    "jmp 0x10:0x12345678",
    "jmp 0x08:0x1234",
    "jmp dword 0x08:0x00012345",
    "jmp word 0x08:0x1234",
    "call 0x18:0x100",
    "call dword 0x18:0x100000",
    "jmp 0xf000:0xfff0",
  );
  for (const op of ["loop", "loope", "loopz", "loopne", "loopnz", "jcxz", "jecxz", "jrcxz"]) {
    for (const t of ["$", "$+0x10", "$-0x7e", "$+0x81"]) L.push(`${op} ${t}`);
  }
  L.push("loop $, cx", "loop $, ecx", "loop $, rcx");
  // data directives (single line)
  L.push(
    "db 1",
    "db 1, 2, 3",
    "db 'abc', 0",
    "dw 0x1234",
    "dw 'a'",
    "dw 'abc'",
    "dd 0x12345678",
    "dd 'ab'",
  );
  L.push("dq 0x123456789abcdef0", "db -1", "dw -2", "dd -3", "dq -4", "db 'a'+1", "dd 1 << 20 | 5");
  L.push(
    "db 0x10h",
    "dw 10h",
    "dd 0b1010",
    "dd 1010b",
    "dd 0o17",
    "dd 17q",
    "dd 1_000_000",
    "db `a\\n`",
  );
  // more address forms with explicit displacement sizes
  if (bits !== 64) L.push("mov eax, [dword eax+1]", "mov eax, [byte eax+0]", "mov eax, [eax+0]");
  else {L.push(
      "mov eax, [dword rax+1]",
      "mov eax, [byte rax+0]",
      "mov rax, [rax+0]",
      "mov rax, [abs 0x10]",
    );}
  // REX byte registers with high bytes
  if (bits === 64) {
    L.push("mov ah, sil", "mov al, sil", "mov sil, 1", "add dil, r8b", "mov spl, [rax]");
  }
  // base/index choice, register order and scale spellings, odd forms
  const [a, b, c] = bits === 16
    ? ["eax", "ebx", "esi"]
    : bits === 32
    ? ["eax", "ebx", "esi"]
    : ["rax", "rbx", "rsi"];
  L.push(
    `mov eax, [${c}*1+${b}]`,
    `mov eax, [4*${c}+${b}]`,
    `mov eax, [${b}+${c}*1]`,
    `mov eax, [${c}+${b}*1]`,
    `mov eax, [${a}*1]`,
    `lea eax, [${a}*8+${a}]`,
    `lea eax, [${a}*9]`,
    `lea eax, [${a}*5+8]`,
    `mov eax, [${a}+${a}]`,
    `mov eax, [nosplit ${a}*2]`,
    `mov eax, [${b}-${c}+2*${c}]`,
    `mov eax, [(${b})+(4)]`,
    "movsx rax, ecx",
    "movsx rax, dword [rbx]",
    "jmp far 0x10:0x1000",
    "mov byte [eax], 'a'",
    "cmp al, 'z'",
    "mov eax, 'abcd'",
    "push 'ab'",
    "add dword [eax], byte -1",
    "add [eax], byte 5",
  );
  if (bits === 64) {
    for (const r of ["al", "ax", "eax", "rax"]) {
      L.push(
        `mov ${r}, [qword 0xfee00020]`,
        `mov [qword 0x123456789abc], ${r}`,
        `mov ${r}, [abs qword 0x100]`,
      );
    }
    L.push("mov ecx, [qword 0x100]", "mov eax, [fs:qword 0x100]");
  }
  // all registers against one memory shape
  for (const r of allRegs) {
    L.push(`mov ${r}, [${bits === 16 ? "bx" : bits === 32 ? "ebx" : "rbx"}]`);
  }
  return L;
}

interface Listing {
  ok: Map<number, { offset: number; hex: string }>;
}

function parseListing(text: string): Listing {
  const ok = new Map<number, { offset: number; hex: string }>();
  for (const row of text.split("\n")) {
    // relocated fields are shown in brackets: [00000000]
    const m = /^\s*(\d+)\s([0-9A-F]{8})\s([0-9A-F[\]()]+)-?\s/.exec(row + " ");
    if (!m) continue;
    const ln = Number(m[1]);
    // the listing shows relocated fields before relocation (not the final bytes): skip such lines
    const hex = /[[\]()]/.test(m[3]) ? "?" : m[3];
    const e = ok.get(ln);
    if (e) e.hex += hex;
    else ok.set(ln, { offset: parseInt(m[2], 16), hex });
  }
  return { ok };
}

/** Bytes nasm emits for lines it only warns about (each assembled alone at offset 0). */
async function warnedBytes(bits: Bits, lines: string[]): Promise<[number, string, string][]> {
  const out: [number, string, string][] = [];
  for (const line of lines) {
    const asm = `${TMP}/w.asm`;
    await Deno.writeTextFile(asm, `bits ${bits}\n${line}\n`);
    const r = await run(["nasm", "-f", "bin", "-o", `${TMP}/w.bin`, asm]);
    if (r.code !== 0) continue;
    const bin = await Deno.readFile(`${TMP}/w.bin`);
    out.push([0, line, [...bin].map((b) => b.toString(16).padStart(2, "0")).join("")]);
  }
  return out;
}

async function assembleLines(bits: Bits, lines: string[]) {
  let keep = [...lines];
  const rejected: string[] = [];
  const warned: string[] = [];
  for (let round = 0; round < 20; round++) {
    const src = `bits ${bits}\n` + keep.join("\n") + "\n";
    const asm = `${TMP}/v${bits}.asm`;
    await Deno.writeTextFile(asm, src);
    const r = await run([
      "nasm",
      "-f",
      "bin",
      "-l",
      `${TMP}/v${bits}.lst`,
      "-o",
      `${TMP}/v${bits}.bin`,
      asm,
    ]);
    const bad = new Set<number>();
    const badWarn = new Set<number>();
    for (const row of r.err.split("\n")) {
      const m = /:(\d+): (error|warning)/.exec(row);
      if (!m) continue;
      const idx = Number(m[1]) - 2;
      if (idx < 0) continue;
      (m[2] === "error" ? bad : badWarn).add(idx);
    }
    if (r.code === 0 && bad.size === 0 && badWarn.size === 0) {
      const lst = parseListing(await Deno.readTextFile(`${TMP}/v${bits}.lst`));
      const vectors: [number, string, string][] = [];
      keep.forEach((s, i) => {
        const e = lst.ok.get(i + 2);
        if (e && !e.hex.includes("?")) vectors.push([e.offset, s, e.hex.toLowerCase()]);
      });
      return { vectors, rejected, warned: await warnedBytes(bits, warned) };
    }
    if (bad.size === 0 && badWarn.size === 0) throw new Error(`nasm failed: ${r.err}`);
    const next: string[] = [];
    keep.forEach((s, i) => {
      if (bad.has(i)) rejected.push(s);
      else if (badWarn.has(i)) warned.push(s);
      else next.push(s);
    });
    keep = next;
  }
  throw new Error("too many rounds");
}

const PROGRAMS: { name: string; bits: Bits; source: string }[] = [
  {
    name: "real-to-protected-to-long",
    bits: 16,
    source: `org 0x7c00
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    lgdt [gdt_desc]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword 0x08:pm32
bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x90000
    mov eax, cr4
    or eax, 1 << 5
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 1 << 8
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp 0x18:lm64
bits 64
lm64:
    mov rax, 0x123456789
    lea rsi, [rel msg]
    mov dx, 0xe9
.loop:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .loop
.done:
    hlt
    jmp .done
msg: db "hello", 10, 0
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
    dq 0x00af9a000000ffff
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt
align 4096, db 0
pml4: times 512 dq 0
`,
  },
  {
    name: "relocation-loop",
    bits: 32,
    source: `org 0x100000
%define PAGE_MASK 0xfffff000
%idefine Dest 0x200000
%assign WORDS 0
%assign WORDS WORDS + 4
relocate:
    push ebx
    push esi
    mov esi, [esp+12]
    mov ecx, [esp+16]
    xor ebx, ebx
.next:
    mov eax, [esi+ebx*4]
    test eax, eax
    jz .skip
    add dword [eax], relocate - 0x100000
.skip:
    inc ebx
    cmp ebx, ecx
    jb .next
    mov edi, DEST
    and edi, PAGE_MASK
    add edi, WORDS * 4
    mov esi, payload
    mov ecx, (payload_end - payload + 3) / 4
    cld
    rep movsd
    pop esi
    pop ebx
    ret
times 0x80 - ($ - $$) db 0xcc
payload:
    dd relocate, .x, payload_end
.x: dw 0x55aa
payload_end:
`,
  },
  {
    name: "sections",
    bits: 32,
    source: `org 0x8000
section .text
start:
    mov esi, message
    mov ecx, message_len
    mov edi, buffer
    rep movsb
    jmp done
section .data
message: db "sections work", 0
message_len equ $ - message
section .bss
buffer: resb 64
counter: resd 1
section .text
done:
    inc dword [counter]
    hlt
section .rodata align=16
table: dd start, done, message, buffer
`,
  },
  {
    name: "kexec-like-64",
    bits: 64,
    source: `default rel
    org 0x1000
entry:
    pushfq
    push rbx
    mov rbx, cr4
    and rbx, ~(1 << 7)
    mov cr4, rbx
    mov rax, cr0
    btr eax, 31
    mov cr0, rax
    mov rcx, [page_count]
    mov rsi, [src]
    mov rdi, [dst]
    cld
    rep movsq
    wbinvd
    lea rax, [next]
    push 0x10
    push rax
    retfq
next:
    pop rbx
    popfq
    call rdx
    jmp far [farptr]
    times 16 int3
page_count: dq 512
src: dq 0x200000
dst: dq 0x300000
farptr: dq next
    dw 0x10
`,
  },
];

// Label-relative operands: nasm keeps full-size immediates/displacements for relocatable values
// (a label, `$`, label+constant) and shrinks constants (label differences, `$-$$`, equ numbers).
for (const bits of [16, 32, 64] as Bits[]) {
  const r = regs(bits);
  const acc = bits === 16 ? "ax" : "eax";
  const b = bits === 16 ? "bx" : bits === 32 ? "ebx" : "rbx";
  const body = [
    "org 0x7c00",
    "lbl:",
    `mov ${acc}, lbl`,
    `mov ${acc}, lbl2`,
    `add ${acc}, lbl`,
    `add ${r.r32[3]}, lbl2 - lbl`,
    `add ${acc}, lbl - 0x7c00`,
    `add ${acc}, $ - $$`,
    `add ${acc}, five`,
    `push lbl`,
    `push lbl2 - lbl`,
    `push five`,
    `imul ${r.r16[1]}, ${r.r16[2]}, lbl`,
    `shl ${acc}, lbl - lbl + 1`,
    `shl ${acc}, one`,
    `mov ${acc}, [${b}+lbl]`,
    `mov ${acc}, [${b}+lbl-lbl]`,
    `mov ${acc}, [${b}+lbl2-lbl]`,
    `mov ${acc}, [lbl]`,
    `mov [lbl], al`,
    `cmp byte [lbl+1], 3`,
    `lea ${bits === 16 ? "si" : "esi"}, [${b}+five]`,
    `mov al, lbl2 - lbl2 + 7`,
    "jmp lbl",
    "jmp fwd",
    "jz lbl",
    "call fwd",
    "times 0x90 nop",
    "fwd:",
    "jnz lbl",
    "loop fwd",
    "times 3 db ($ - $$) & 0xff",
    "jmp 0x7c10",
    "call 0x1000",
    "jz 0x7c00",
    "dw lbl, lbl2 - lbl",
    "dd lbl2",
    ...(bits === 64
      ? [
        "mov rax, lbl",
        "mov rcx, lbl2 - lbl",
        "lea rax, [rel lbl]",
        "mov eax, [rel fwd]",
        "push qword [rel lbl2]",
      ]
      : []),
    "lbl2:",
    "five equ 5",
    "one equ lbl2 - lbl2 + 1",
  ];
  PROGRAMS.push({ name: `label-operands-${bits}`, bits, source: body.join("\n") + "\n" });
}

// Seeded random programs mixing labels, forward references, equ, times, align and jumps of all
// reaches: they exercise nasm's multi-pass size optimisation (kept only when nasm is silent).
function randomProgram(seed: number): { bits: Bits; source: string } {
  let s = (seed * 2654435761) >>> 0 || 1;
  const rnd = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const pick = <T>(a: T[]) => a[rnd(a.length)];
  const bits = pick([16, 32, 64] as Bits[]);
  const acc = bits === 16 ? "ax" : "eax";
  const bx = bits === 16 ? "bx" : bits === 32 ? "ebx" : "rbx";
  const cx = bits === 16 ? "cx" : "ecx";
  const nl = 3 + rnd(6);
  const labels = Array.from({ length: nl }, (_, i) => `L${i}`);
  const lines: string[] = [];
  if (rnd(2)) lines.push(`org ${pick(["0x7c00", "0x100000", "0x1000", "0x10"])}`);
  let li = 0;
  for (let i = 0; i < 40; i++) {
    const r = rnd(24);
    const L = pick(labels);
    if (r === 0 && li < nl) lines.push(`${labels[li++]}:`);
    else if (r === 1) lines.push(`${pick(["jmp", "jz", "jnz", "jc", "call", "ja", "jl"])} ${L}`);
    else if (r === 2) lines.push(`times ${rnd(140)} ${pick(["nop", "db 1", "dw 2"])}`);
    else if (r === 3) lines.push(`align ${pick([2, 4, 8, 16])}`);
    else if (r === 4) {
      lines.push(`mov ${acc}, ${pick([L, "C1", "C2", "C3", `${L}-L0`, "$-$$", "0x80"])}`);
    } else if (r === 5) {
      lines.push(`add ${acc}, ${pick([L, "C1", "C2", "C3", `${L}-L0`, "$-$$", "-1", "0x7f"])}`);
    } else if (r === 6) lines.push(`mov ${acc}, [${bx}+${pick([L, "C1", "C2", `${L}-L0`, "4"])}]`);
    else if (r === 7) lines.push(`push ${pick([L, "C1", "C2", `${L}-L0`, "0x100"])}`);
    else if (r === 8) lines.push(`.loc${i}: dec ${cx}`, `jnz .loc${i}`);
    else if (r === 9) lines.push(`loop ${pick(labels.slice(0, Math.max(li, 1)))}`);
    else if (r === 10) lines.push(`db ${pick(["'abc'", "C1", "0", "(C3 >> 4) & 0xff"])}`);
    else if (r === 11) lines.push(`dd ${pick([L, "C3", `${L}-L0`])}`);
    else if (r === 12) lines.push("jmp short $+2");
    else if (r === 13) lines.push(`cmp byte [${L}], C1`);
    else if (r === 14) lines.push(`lea ${acc}, [${bx}*4+${L}]`);
    else if (r === 15) lines.push(`imul ${acc}, ${acc}, ${pick(["C1", "C3", `${L}-L0`, L])}`);
    else if (r === 16 && bits === 64) {
      lines.push(`lea rax, [rel ${L}]`, `mov rcx, ${pick([L, "C3", "0x123456789"])}`);
    } else if (r === 17) lines.push(`shl ${acc}, ${pick(["1", "C1", "L1-L1+1"])}`);
    else if (r === 18) lines.push(`mov ${acc}, [${L}]`);
    else if (r === 19) lines.push(`jmp ${pick(["near", "short"])} ${L}`);
    else if (r === 20) lines.push(`dw ${pick(["C1", `${L}-L0`, "$-$$"])}, 0x55aa`);
    else if (r === 21) lines.push(`test ${acc}, ${pick(["C3", "C1", "0x8000"])}`);
    else if (r === 22 && rnd(2)) {
      const sec = pick([".data", ".bss", "more"]);
      const body = sec === ".bss"
        ? `resb ${rnd(40)}`
        : pick(["db 1, 2, 3", `dd ${L}`, `times ${rnd(90)} db 7`]);
      lines.push(`section ${sec}`, `D${i}: ${body}`, "section .text", `mov ${acc}, D${i}`);
    } else {
      lines.push(
        pick(["ret", "cli", "hlt", "rep movsb", `xor ${acc}, ${acc}`, `inc ${cx}`, "cld"]),
      );
    }
  }
  while (li < nl) lines.push(`${labels[li++]}:`);
  lines.push("C1 equ 5", "C2 equ L1 - L0", "C3 equ 0x1234");
  return { bits, source: `bits ${bits}\n` + lines.join("\n") + "\n" };
}

const randomPrograms: { seed: number; source: string; hex: string }[] = [];
for (let seed = 1; randomPrograms.length < 300 && seed < 2000; seed++) {
  const { source } = randomProgram(seed);
  await Deno.writeTextFile(`${TMP}/r.asm`, source);
  const r = await run(["nasm", "-f", "bin", "-o", `${TMP}/r.bin`, `${TMP}/r.asm`]);
  if (r.code !== 0 || r.err.includes("warning")) continue;
  const bin = await Deno.readFile(`${TMP}/r.bin`);
  randomPrograms.push({
    seed,
    source,
    hex: [...bin].map((b) => b.toString(16).padStart(2, "0")).join(""),
  });
}
await Deno.writeTextFile(
  `${OUT}/nasm_random_programs.json`,
  JSON.stringify({
    nasm: nasmVersion,
    command: "nasm -f bin -o out.bin in.asm",
    programs: randomPrograms,
  }) +
    "\n",
);
console.log(`random programs: ${randomPrograms.length}`);

const CPU_LEVELS = ["8086", "186", "286", "386", "486", "586", "686", "p3", "p4", "x64"];

/** The lowest nasm `cpu` level that accepts each line (assembled with `cpu L` before `bits`). */
async function minCpuLevels(bits: Bits, lines: string[]): Promise<string[]> {
  const min: (string | undefined)[] = lines.map(() => undefined);
  for (const [n, level] of CPU_LEVELS.entries()) {
    if ((bits === 32 && n < 3) || (bits === 64 && level !== "x64")) continue;
    const bad = new Set<number>();
    // nasm stops after the first pass with errors: drop failing lines and retry until clean
    for (let round = 0; round < 30; round++) {
      const idx = lines.map((_, i) => i).filter((i) => !bad.has(i));
      await Deno.writeTextFile(
        `${TMP}/lv.asm`,
        `cpu ${level}\nbits ${bits}\n` + idx.map((i) => lines[i]).join("\n") + "\n",
      );
      const r = await run(["nasm", "-f", "bin", "-o", `${TMP}/lv.bin`, `${TMP}/lv.asm`]);
      let errors = 0;
      for (const row of r.err.split("\n")) {
        const m = /:(\d+): error/.exec(row);
        if (m) {
          bad.add(idx[Number(m[1]) - 3]);
          errors++;
        }
      }
      if (!errors) break;
    }
    lines.forEach((_, i) => {
      if (min[i] === undefined && !bad.has(i)) min[i] = level;
    });
  }
  return min.map((m) => m ?? "any");
}

for (const bits of [16, 32, 64] as Bits[]) {
  const lines = genLines(bits);
  const { vectors: plain, rejected, warned } = await assembleLines(bits, lines);
  const levels = await minCpuLevels(bits, plain.map((v) => v[1]));
  const vectors = plain.map((v, i) => [...v, levels[i]]);
  const data = {
    generator:
      "deno run --allow-run=nasm --allow-read=/tmp --allow-write=arch/x86/testdata,/tmp tools/gen_nasm_vectors.ts",
    command: `nasm -f bin -l out.lst -o out.bin in.asm (source starts with 'bits ${bits}')`,
    cpuLevels: "4th field: lowest `cpu` level nasm accepts the line at (`cpu L` then `bits N`)",
    nasm: nasmVersion,
    bits,
    vectors,
    rejected,
    warned,
  };
  await Deno.writeTextFile(
    `${OUT}/nasm_vectors_${bits}.json`,
    JSON.stringify(data, null, 0).replace(/\],\[/g, "],\n[") + "\n",
  );
  console.log(
    `bits ${bits}: ${vectors.length} vectors, ${rejected.length} rejected, ${warned.length} warned`,
  );
}

const progs = [];
for (const p of PROGRAMS) {
  const src = `bits ${p.bits}\n` + p.source;
  await Deno.writeTextFile(`${TMP}/p.asm`, src);
  const r = await run(["nasm", "-f", "bin", "-o", `${TMP}/p.bin`, `${TMP}/p.asm`]);
  if (r.code !== 0 || r.err.includes("warning")) throw new Error(`${p.name}: ${r.err}`);
  const bin = await Deno.readFile(`${TMP}/p.bin`);
  progs.push({
    name: p.name,
    bits: p.bits,
    source: src,
    hex: [...bin].map((b) => b.toString(16).padStart(2, "0")).join(""),
  });
}
await Deno.writeTextFile(
  `${OUT}/nasm_programs.json`,
  JSON.stringify(
    { nasm: nasmVersion, command: "nasm -f bin -o out.bin in.asm", programs: progs },
    null,
    1,
  ) + "\n",
);
await Deno.remove(TMP, { recursive: true });
