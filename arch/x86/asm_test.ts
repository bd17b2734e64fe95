import {
  deepEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { AsmError, assemble } from "./asm.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const asm = (src: string, bits: 16 | 32 | 64 = 32, org = 0) =>
  hex(assemble(src, { bits, org }).bytes);

interface VectorFile {
  nasm: string;
  bits: 16 | 32 | 64;
  vectors: [number, string, string, string][];
  rejected: string[];
}

async function loadVectors(bits: number): Promise<VectorFile> {
  const url = new URL(`./testdata/nasm_vectors_${bits}.json`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

for (const bits of [16, 32, 64] as const) {
  Deno.test(`assemble: every nasm golden vector, bits ${bits}`, async () => {
    const data = await loadVectors(bits);
    assert(data.vectors.length > 3000, "vector file looks truncated");
    const bad: string[] = [];
    for (const [off, src, want] of data.vectors) {
      let got: string;
      try {
        got = hex(assemble(src, { bits, org: off }).bytes);
      } catch (e) {
        got = `error: ${(e as Error).message}`;
      }
      if (got !== want) bad.push(`${src}: want ${want}, got ${got}`);
    }
    assertEquals(bad.slice(0, 20), [], `${bad.length} mismatches`);
  });

  Deno.test(`assemble: cpu directive accepts each line from nasm's level on, bits ${bits}`, async () => {
    const LEVELS = ["8086", "186", "286", "386", "486", "586", "686", "p3", "p4", "x64"];
    const data = await loadVectors(bits);
    const bad: string[] = [];
    const first = bits === 16 ? 0 : bits === 32 ? 3 : 9;
    for (const [off, src, , level] of data.vectors) {
      const n = LEVELS.indexOf(level);
      assert(n >= first, `${src}: level ${level}`);
      try {
        assemble(`cpu ${level}\n${src}`, { bits, org: off });
      } catch (e) {
        bad.push(`${src}: rejected at cpu ${level}: ${(e as Error).message}`);
      }
      if (n > first) {
        try {
          assemble(`cpu ${LEVELS[n - 1]}\n${src}`, { bits, org: off });
          bad.push(`${src}: accepted at cpu ${LEVELS[n - 1]}, nasm needs ${level}`);
        } catch (e) {
          assert(e instanceof AsmError);
        }
      }
    }
    assertEquals(bad.slice(0, 20), [], `${bad.length} mismatches`);
  });

  Deno.test(`assemble: lines nasm rejects are rejected too, bits ${bits}`, async () => {
    const data = await loadVectors(bits);
    const accepted: string[] = [];
    for (const src of data.rejected) {
      try {
        assemble(src, { bits });
        accepted.push(src);
      } catch (e) {
        assert(e instanceof AsmError, `${src}: ${e}`);
      }
    }
    assertEquals(accepted, []);
  });
}

Deno.test("assemble: whole programs are byte-identical to nasm", async () => {
  const url = new URL("./testdata/nasm_programs.json", import.meta.url);
  const data = JSON.parse(await Deno.readTextFile(url)) as {
    programs: { name: string; source: string; hex: string }[];
  };
  assert(data.programs.length >= 6);
  for (const p of data.programs) {
    assertEquals(hex(assemble(p.source).bytes), p.hex, p.name);
  }
});

Deno.test("assemble: labels, forward references and short/near jump choice", () => {
  const r = assemble("start: jmp fwd\ntimes 10 nop\nfwd: jmp start", { bits: 32, org: 0x1000 });
  assertEquals(hex(r.bytes), "eb0a" + "90".repeat(10) + "ebf2");
  assertEquals(r.labels.get("start"), 0x1000n);
  assertEquals(r.labels.get("fwd"), 0x100cn);
  assertEquals(r.origin, 0x1000n);
  // a forward jump over 128 bytes needs the near form
  assertEquals(asm("jmp far_away\ntimes 128 nop\nfar_away:", 32).slice(0, 10), "e980000000");
  assertEquals(asm("jz x\ntimes 200 nop\nx:", 16).slice(0, 8), "0f84c800");
  assertEquals(asm("x: times 130 nop\njnz x", 32).slice(-12), "0f8578ffffff");
});

Deno.test("assemble: local labels are scoped to the previous global label", () => {
  const r = assemble(
    "a:\n.loop: dec ecx\njnz .loop\nb:\n.loop: jmp .loop\njmp a.loop",
    { bits: 32 },
  );
  assertEquals(hex(r.bytes), "4975fdebfeebf9");
  assertEquals(r.labels.get("a.loop"), 0n);
  assertEquals(r.labels.get("b.loop"), 3n);
});

Deno.test("assemble: equ, expressions and number forms", () => {
  assertEquals(asm("x equ 0x10\ny equ x*2+1\nmov eax, y"), "b821000000");
  assertEquals(asm("mov eax, (1 << 4) | 0b11 ^ 1"), "b812000000");
  assertEquals(asm("mov eax, 10h + 0x10 + 0o10 + 10q + 1010b + 0b10 + 1_000"), "b824040000");
  assertEquals(asm("dq -1 / 2"), "ffffffffffffff7f"); // nasm '/' is unsigned
  assertEquals(asm("mov eax, -7 // 2"), "b8fdffffff"); // '//' is signed
  assertEquals(asm("mov eax, 7 % 4 + ~0 + 1"), "b803000000");
  assertEquals(asm("mov eax, 'ab'"), "b861620000");
  assertEquals(asm("db 'ab', 0\ndw 'abc'\ndd 'x'", 32), "6162006162630078000000");
  assertEquals(asm("dq -2"), "feffffffffffffff");
  assertEquals(asm("db `a\\tb\\x41`"), "61096241");
});

Deno.test("assemble: $, $$, times and align", () => {
  assertEquals(asm("nop\ntimes 4-($-$$) db 0xcc\ndd $", 32, 0x7c00), "90cccccc047c0000");
  assertEquals(asm("db 1\nalign 4\ndb 2\nalign 8, db 0xee\ndb 3"), "0190909002eeeeee03");
  assertEquals(asm("db 1\nalignb 4\ndb 2"), "0100000002");
  assertEquals(asm("db 1\nresw 2\ndb 2"), "010000000002");
  assertEquals(asm("times 3 db $-$$\n", 32), "000000"); // `$` is the start of the line
  assertEquals(asm("times 2 push eax"), "5050");
  // boot sector idiom
  const boot = assemble("org 0x7c00\njmp $\ntimes 510-($-$$) db 0\ndw 0xaa55", { bits: 16 });
  assertEquals(boot.bytes.length, 512);
  assertEquals(hex(boot.bytes.slice(0, 2)), "ebfe");
  assertEquals(hex(boot.bytes.slice(510)), "55aa");
});

Deno.test("assemble: directives and mode switches", () => {
  assertEquals(
    asm("[bits 16]\nmov ax, 1\nbits 32\nmov ax, 1\nuse64\nmov rax, 1"),
    "b80100" + "66b80100" + "b801000000",
  );
  assertEquals(asm("cpu 386\nsection .text\nglobal x\nx: ret"), "c3");
  assertEquals(asm("default rel\nlea rax, [x]\nx: ret", 64), "488d0500000000c3");
  assertEquals(asm("default rel\nlea rax, [abs 0x10]", 64), "488d042510000000");
  assertEquals(asm("label_no_colon db 1\nmov al, [label_no_colon]", 32), "01a000000000");
  assertEquals(asm("rep\nmovsb"), "f3a4");
});

Deno.test("assemble: RIP-relative operands to absolute addresses", () => {
  // deliberate extension: [rel number] is relative to that absolute address (nasm encodes it absolute)
  assertEquals(asm("mov eax, [rel 0x1010]", 64, 0x1000), "8b050a000000");
});

function errorOf(src: string, opts: Parameters<typeof assemble>[1] = {}): AsmError {
  try {
    assemble(src, opts);
  } catch (e) {
    assert(e instanceof AsmError, `not an AsmError: ${e}`);
    assert(e instanceof SyntaxError);
    return e;
  }
  throw new Error(`no error for ${JSON.stringify(src)}`);
}

Deno.test("assemble: errors carry messages and positions", () => {
  const table: [string, number, number, RegExp, Parameters<typeof assemble>[1]?][] = [
    ["nop\n  movz eax, ebx", 2, 3, /^Unknown instruction: movz/],
    ["mov eax, foo", 1, 10, /^Undefined label: foo/],
    ["x:\njmp .nowhere", 2, 5, /^Undefined label: x\.nowhere/],
    ["mov al, 300", 1, 9, /^Value does not fit in 8 bits: 300/],
    ["db 1, 256", 1, 7, /^Value does not fit in 8 bits: 256/],
    ["pusha", 1, 1, /^Instruction not valid in 64-bit mode: pusha/, { bits: 64 }],
    ["mov eax, bx", 1, 10, /^Operand size mismatch/],
    ["mov [eax], 1", 1, 5, /^Operation size not specified: mov/],
    ["mov rax, 1", 1, 5, /outside 64-bit mode/, { bits: 32 }],
    ["jmp short x\ntimes 200 nop\nx:", 1, 1, /^Short jump out of range/],
    ["loop x\ntimes 200 nop\nx:", 1, 1, /^Short jump out of range/],
    ["x: nop\nx: nop", 2, 1, /^Label redefined: x/],
    ["mov eax, [ebx+ecx+edx]", 1, 10, /^Invalid effective address/],
    ["mov eax, [esp*2]", 1, 10, /^Invalid effective address/],
    ["add eax, 1 +", 1, 13, /^Expected an expression but found end of line/],
    ["mov eax, 'abc", 1, 10, /^Unterminated string/],
    ["times -1 nop", 1, 1, /^TIMES value is negative: -1/],
    ["mov eax, 1/0", 1, 11, /^Division by zero/],
    ["mov ah, r8b", 1, 1, /Cannot use ah/, { bits: 64 }],
  ];
  for (const [src, line, column, re, opts] of table) {
    const e = errorOf(src, opts ?? { bits: 32 });
    assert(re.test(e.detail), `${src}: ${e.detail}`);
    assertEquals([e.line, e.column], [line, column], `${src}: ${e.message}`);
  }
  // inc ah is fine without REX; mov ah, sil is not
  assertEquals(asm("inc ah", 64), "fec4");
  assertThrows(() => assemble("mov ah, sil", { bits: 64 }), AsmError);
});

Deno.test("assemble: lineOffset, columnOffset and file shift error positions", () => {
  const e = errorOf("nop\nbogus eax", { lineOffset: 10, columnOffset: 4, file: "case.yaml" });
  assertEquals([e.line, e.column, e.file], [12, 5, "case.yaml"]);
  assertEquals(e.message, "case.yaml:12:5: Unknown instruction: bogus");
  const f = errorOf("bogus eax");
  assertEquals(f.message, "Unknown instruction: bogus (line 1, column 1)");
  // like nasm, a lone word is a label without a colon
  assertEquals(assemble("bogus").labels.get("bogus"), 0n);
});

Deno.test("assemble: listing maps lines to offsets", () => {
  const r = assemble("bits 32\nstart:\n  mov eax, 1 ; comment\n\n  ret", {});
  assertEquals(r.lines, [{ line: 3, offset: 0, length: 5 }, { line: 5, offset: 5, length: 1 }]);
});

Deno.test("assemble: random input never escapes as a non-AsmError", () => {
  // seeded xorshift PRNG
  let s = 0x12345678;
  const rnd = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const words = [
    "mov",
    "add",
    "jmp",
    "eax",
    "rax",
    "al",
    "[",
    "]",
    "+",
    "*",
    "4",
    ",",
    "byte",
    "dword",
    "0x10",
    "'",
    ":",
    "x",
    ".x",
    "$",
    "$$",
    "times",
    "db",
    "(",
    ")",
    "-",
    "cs",
    "rep",
    "lock",
    "far",
    "short",
    "equ",
    "align",
    "push",
    "lea",
    "esp",
    "ebp",
    "r12",
    "bits",
    "16",
    "org",
    "1/0",
    "~",
    "<<",
    "`",
    "\\",
    ";",
    '"',
    "call",
    "ret",
    "int",
    "in",
    "dx",
    "cr0",
    "movsb",
    "1_0",
    "0b2",
    "10h",
    "xchg",
    "%define",
    "%assign",
    "%undef",
    "section",
    ".bss",
    "cpu",
    "386",
    "=",
    "==",
    "<",
    "&&",
    "fs",
    "qword",
    "nosplit",
    "rel",
    "abs",
    "default",
    "o16",
    "a32",
    "resb",
    "dq",
    "1.5",
    "?",
  ];
  for (let i = 0; i < 3000; i++) {
    const n = 1 + rnd(8);
    const lines: string[] = [];
    for (let l = 0; l < 1 + rnd(3); l++) {
      const parts: string[] = [];
      for (let j = 0; j < n; j++) parts.push(words[rnd(words.length)]);
      lines.push(parts.join(rnd(2) ? " " : ""));
    }
    const src = lines.join("\n");
    for (const bits of [16, 32, 64] as const) {
      try {
        assemble(src, { bits });
      } catch (e) {
        if (!(e instanceof AsmError)) throw new Error(`${JSON.stringify(src)}: ${e}`);
      }
    }
  }
});

for (const bits of [16, 32, 64] as const) {
  Deno.test(`assemble: lines nasm warns about give nasm's bytes or an AsmError, bits ${bits}`, async () => {
    const data = JSON.parse(
      await Deno.readTextFile(new URL(`./testdata/nasm_vectors_${bits}.json`, import.meta.url)),
    ) as { warned: [number, string, string][] };
    assert(data.warned.length > 100);
    const bad: string[] = [];
    let same = 0;
    for (const [off, src, want] of data.warned) {
      try {
        const got = hex(assemble(src, { bits, org: off }).bytes);
        if (got !== want) bad.push(`${src}: want ${want}, got ${got}`);
        else same++;
      } catch (e) {
        if (!(e instanceof AsmError)) bad.push(`${src}: ${e}`);
      }
    }
    assertEquals(bad, []);
    // 85, 82 and 118 of these lines (bits 16, 32, 64) assemble to nasm's bytes today; far fewer
    // would mean the assembler started refusing lines it used to encode correctly.
    assert(same >= 80, `only ${same} warned lines give nasm's bytes`);
  });
}

Deno.test("assemble: oversized or deeply nested input fails with AsmError", () => {
  for (
    const src of [
      "times 0x10000000 nop",
      "resb 0x10000000",
      "align 0x100000000",
      "mov eax, " + "(".repeat(20000) + "1" + ")".repeat(20000),
    ]
  ) {
    errorOf(src, { bits: 32 });
  }
});

Deno.test("assemble: the kexec relocation stubs match their committed nasm output", async () => {
  const { RELOCATE_KERNEL_32_KEXEC3, RELOCATE_KERNEL_32_2613 } = await import(
    "./relocate_kernel_32.ts"
  );
  const { RELOCATE_KERNEL_64_KEXEC3, RELOCATE_KERNEL_64_2613 } = await import(
    "./relocate_kernel_64.ts"
  );
  const { RELOCATE_GOLDEN } = await import("./relocate_kernel_golden.ts");
  const table: [string, string][] = [
    ["i386/kexec3", RELOCATE_KERNEL_32_KEXEC3],
    ["i386/2.6.13", RELOCATE_KERNEL_32_2613],
    ["x86_64/kexec3", RELOCATE_KERNEL_64_KEXEC3],
    ["x86_64/2.6.13", RELOCATE_KERNEL_64_2613],
  ];
  for (const [key, src] of table) assertEquals(hex(assemble(src).bytes), RELOCATE_GOLDEN[key], key);
});

Deno.test("assemble: seeded random programs are byte-identical to nasm (multi-pass sizing)", async () => {
  const url = new URL("./testdata/nasm_random_programs.json", import.meta.url);
  const data = JSON.parse(await Deno.readTextFile(url)) as {
    programs: { seed: number; source: string; hex: string }[];
  };
  assert(data.programs.length >= 250);
  const bad: number[] = [];
  for (const p of data.programs) {
    let got: string;
    try {
      got = hex(assemble(p.source).bytes);
    } catch (e) {
      got = String(e);
    }
    if (got !== p.hex) bad.push(p.seed);
  }
  assertEquals(bad, []);
});

Deno.test("assemble: %define, %idefine, %xdefine, %undef and %assign", () => {
  assertEquals(asm("%define BASE 0x1000\nmov eax, BASE+4"), "b804100000");
  assertEquals(asm("%define REG eax ; comment\nmov REG, 1"), "b801000000");
  assertEquals(asm("%assign N 3\n%assign N N+1\nmov eax, N"), "b804000000");
  assertEquals(asm("%idefine Foo 5\nmov eax, FOO"), "b805000000");
  assertEquals(asm("%define X 1\n%undef X\nX: nop"), "90");
  assertEquals(asm("%define S 'ab'\ndb S, 'S'"), "616253"); // not expanded inside strings
  assertEquals(asm("%define A B\n%define B 7\nmov eax, A"), "b807000000");
  assertEquals(asm("%define K 2\nmov eax, [ebx+K*4]"), "8b4308");
  const m = errorOf("nop\n  %macro m 0", { bits: 32 });
  assertEquals([m.detail, m.line, m.column], [
    "Preprocessor directive not supported: %macro",
    2,
    3,
  ]);
  assert(/parameters are not supported/.test(errorOf("%define F(x) x+1").detail));
  assert(/constant expression/.test(errorOf("%assign Q lbl\nlbl:").detail));
});

Deno.test("assemble: sections follow nasm's bin layout", () => {
  const r = assemble(
    "org 0x1000\nmov eax, msg\nsection .data\nmsg: db 1\nsection .text\nret\nsection .bss\nbuf: resb 4\nsection .text\nmov eax, buf",
    { bits: 32 },
  );
  assertEquals(hex(r.bytes), "b80c100000c3b81010000000" + "01");
  assertEquals(r.labels.get("msg"), 0x100cn);
  assertEquals(r.labels.get("buf"), 0x1010n);
  assertEquals(r.lines.map((l) => [l.line, l.offset, l.length]), [
    [2, 0, 5],
    [6, 5, 1],
    [10, 6, 5],
    [4, 12, 1],
  ]);
  assert(/nobits section \.bss/.test(errorOf("section .bss\ndb 1", { bits: 32 }).detail));
  assert(/attribute not supported: vstart/.test(errorOf("section .data vstart=0x100").detail));
});

Deno.test("assemble: cpu levels gate instructions like nasm", () => {
  // below the 386 nasm has no Jcc rel16: it skips a near JMP with the opposite condition
  assertEquals(asm("cpu 8086\njz $+0x1000", 16), "7503e9fb0f");
  assertEquals(asm("cpu 8086\njz x\ntimes 100 nop\nx:", 16).slice(0, 4), "7464");
  const e = errorOf("cpu 486\ncpuid", { bits: 32 });
  assertEquals([e.detail, e.line, e.column], [
    "Instruction not supported by cpu 486: cpuid (needs cpu 586)",
    2,
    1,
  ]);
  assert(/Cannot use 32-bit mode with cpu 286/.test(errorOf("cpu 286\nbits 32").detail));
  assert(/Unknown cpu: foo/.test(errorOf("cpu foo").detail));
  assertEquals(asm("cpu 8086\no32 nop", 16), "6690"); // explicit prefixes are not checked
  assertEquals(asm("cpu x86-64\nbits 64\nsyscall", 16), "0f05");
});

Deno.test("assemble: comparison and logical operators (nasm precedence)", () => {
  assertEquals(
    asm("db 1 < 2, 2 < 1, -1 < 0, 3 == 3, 3 != 3, 4 <> 5, 2 >= 2, 2 <= 1, 3 > 2"),
    "010001010001010001",
  );
  assertEquals(
    asm("db 1 || 0, 0 || 0, 1 ^^ 1, 0 ^^ 1, 2 && 3, 1 | 2 == 3, 6 & 3 < 4"),
    "01000001010101",
  );
  assertEquals(asm("times (5 > 3) * 2 nop"), "9090");
});

Deno.test("assemble: invalid options are RangeErrors", () => {
  assertThrows(() => assemble("nop", { bits: 8 as 16 }), RangeError);
  assertThrows(() => assemble("nop", { org: 1.5 }), RangeError);
});

Deno.test("assemble: segment override prefix words", () => {
  assertEquals(
    asm("es movsb\nrep fs movsb\nfs rep movsb\ngs mov eax, [ebx]\ncs nop\nfs"),
    "26a4f364a4f364a4658b032e9064",
  );
  assert(
    /Conflicting segment overrides/.test(errorOf("fs mov eax, [gs:ebx]", { bits: 32 }).detail),
  );
});
