import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { assemble } from "./asm.ts";
import { disassemble, disassembleOne, disassembleText } from "./disasm.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

for (const bits of [16, 32, 64] as const) {
  Deno.test(`disassemble: golden vectors round-trip through the assembler, bits ${bits}`, async () => {
    const url = new URL(`./testdata/nasm_vectors_${bits}.json`, import.meta.url);
    const data = JSON.parse(await Deno.readTextFile(url)) as {
      vectors: [number, string, string][];
    };
    const bad: string[] = [];
    let n = 0;
    for (const [off, src, want] of data.vectors) {
      if (/^d[bwdq] /.test(src)) continue; // data, not instructions
      n++;
      const bytes = unhex(want);
      const r = disassembleOne(bytes, 0, { bits, address: off });
      let got: string;
      if (r.length !== bytes.length) got = `length ${r.length}`;
      else {
        try {
          got = hex(assemble(r.text, { bits, org: off }).bytes);
        } catch (e) {
          got = `error: ${(e as Error).message}`;
        }
      }
      if (got !== want) bad.push(`${src} (${want}) -> ${r.text} -> ${got}`);
    }
    assert(n > 3000);
    assertEquals(bad.slice(0, 20), [], `${bad.length} failures`);
  });
}

Deno.test("disassemble: exact texts for common instructions", () => {
  const table: [16 | 32 | 64, string, string, number?][] = [
    [32, "0f22e0", "mov cr4, eax"],
    [32, "0f20c0", "mov eax, cr0"],
    [64, "0f22d8", "mov cr3, rax"],
    [32, "0f22c0", "mov cr0, eax"],
    [32, "f00f22c0", "mov cr8, eax"],
    [32, "f3a5", "rep movsd"],
    [64, "f348a5", "rep movsq"],
    [16, "f36667a5", "a32 rep movsd"],
    [32, "f3a6", "repe cmpsb"],
    [32, "f2ae", "repne scasb"],
    [32, "ea78563412" + "1000", "jmp 0x10:0x12345678"],
    [16, "66ea45230100" + "0800", "jmp dword 0x8:0x12345"],
    [32, "8b448b08", "mov eax, [ebx+ecx*4+0x8]"],
    [32, "8d5c8e08", "lea ebx, [esi+ecx*4+0x8]"],
    [32, "8b45fc", "mov eax, [ebp-0x4]"],
    [32, "8b0424", "mov eax, [esp]"],
    [32, "8b0500100000", "mov eax, [0x1000]"],
    [32, "a100100000", "mov eax, [0x1000]"],
    [64, "8b042500100000", "mov eax, [0x1000]"],
    [64, "488d0500000000", "lea rax, [rel 0x1007]", 0x1000],
    [64, "ff1510000000", "call [rel 0x1016]", 0x1000],
    [16, "8b4704", "mov ax, [bx+0x4]"],
    [16, "8b02", "mov ax, [bp+si]"],
    [16, "8b4600", "mov ax, [bp]"],
    [16, "268b04", "mov ax, [es:si]"],
    [32, "64a100000000", "mov eax, [fs:0x0]"],
    [32, "0f0110", "lgdt [eax]"],
    [16, "0f01160010", "lgdt [0x1000]"],
    [32, "0f0138", "invlpg [eax]"],
    [32, "c7000100" + "0000", "mov dword [eax], 0x1"],
    [32, "83c604", "add esi, 0x4"],
    [32, "83e0f0", "and eax, 0xfffffff0"],
    [32, "2500f0ffff", "and eax, 0xfffff000"],
    [32, "81c601000000", "add esi, strict dword 0x1"],
    [32, "83f801", "cmp eax, 0x1"],
    [32, "f6c101", "test cl, 0x1"],
    [32, "eb01", "jmp 0x3"],
    [32, "e901000000", "jmp near 0x6"],
    [32, "7405", "jz 0x7"],
    [32, "0f8400010000", "jz 0x106"],
    [16, "e9fd0f", "jmp 0x1000"],
    [32, "e8fb0f0000", "call 0x1000"],
    [32, "ffd2", "call edx"],
    [64, "ffd2", "call rdx"],
    [32, "ff28", "jmp far [eax]"],
    [64, "48ff28", "jmp far [rax]"],
    [64, "48cb", "retfq"],
    [64, "48cf", "iretq"],
    [32, "cf", "iret"],
    [32, "c3", "ret"],
    [32, "c20800", "ret 0x8"],
    [32, "6a01", "push 0x1"],
    [32, "6aff", "push 0xffffffff"],
    [32, "6878563412", "push 0x12345678"],
    [64, "4154", "push r12"],
    [64, "9c", "pushf"],
    [32, "9c", "pushf"],
    [16, "669c", "pushfd"],
    [32, "60", "pusha"],
    [32, "e460", "in al, 0x60"],
    [32, "ec", "in al, dx"],
    [32, "ef", "out dx, eax"],
    [32, "e680", "out 0x80, al"],
    [32, "fa", "cli"],
    [32, "fb", "sti"],
    [32, "f4", "hlt"],
    [32, "0f09", "wbinvd"],
    [32, "0fa2", "cpuid"],
    [32, "0f30", "wrmsr"],
    [32, "0f32", "rdmsr"],
    [32, "cc", "int3"],
    [32, "cd80", "int 0x80"],
    [32, "0f0b", "ud2"],
    [32, "8ed8", "mov ds, eax"],
    [32, "8cd8", "mov eax, ds"],
    [32, "0fb6c3", "movzx eax, bl"],
    [32, "0fbf03", "movsx eax, word [ebx]"],
    [64, "4863c1", "movsxd rax, ecx"],
    [64, "b801000000", "mov eax, 0x1"],
    [64, "a12000e0fe00000000", "mov eax, [qword 0xfee00020]"],
    [64, "48b8efcdab8967452301", "mov rax, 0x123456789abcdef"],
    [64, "48c7c0ffffffff", "mov rax, 0xffffffffffffffff"],
    [32, "d1e0", "shl eax, 1"],
    [32, "c1e004", "shl eax, 0x4"],
    [32, "d3e8", "shr eax, cl"],
    [32, "f00fb10b", "lock cmpxchg [ebx], ecx"],
    [32, "0fc8", "bswap eax"],
    [32, "87d9", "xchg ebx, ecx"],
    [32, "93", "xchg ebx, eax"],
    [32, "40", "inc eax"],
    [64, "ffc0", "inc eax"],
    [32, "0f44c3", "cmovz eax, ebx"],
    [32, "0f94c0", "setz al"],
    [32, "e2fe", "loop 0x0"],
    [32, "e3fe", "jecxz 0x0"],
    [32, "90", "nop"],
    [32, "f390", "pause"],
    [32, "c8100000", "enter 0x10, 0x0"],
    [32, "d7", "xlatb"],
    [32, "0f01e0", "smsw eax"],
    [32, "0f00d8", "ltr ax"],
    // prefixes that do not change the instruction keep nasm's prefix words
    [32, "66fa", "o16 cli"],
    [16, "66fa", "o32 cli"],
    [64, "67cc", "a32 int3"],
    [32, "67cc", "a16 int3"],
    [64, "48fc", "o64 cld"],
    [64, "4890", "xchg rax, rax"],
    [32, "6690", "xchg ax, ax"],
    [32, "666a16", "push word 0x16"],
    [32, "64ac", "fs lodsb"],
    [32, "f32ea5", "rep cs movsd"],
    [16, "f36626a5", "rep es movsd"],
    [32, "2eaa", "cs stosb"], // no effect (STOS writes ES:EDI), kept as nasm's prefix word
    [32, "2e90", "cs nop"],
  ];
  for (const [bits, h, text, address] of table) {
    const bytes = unhex(h);
    const r = disassembleOne(bytes, 0, { bits, address: address ?? 0 });
    assertEquals(r, { length: bytes.length, text }, `${bits}: ${h}`);
  }
});

Deno.test("disassemble: bytes outside the subset become db of length 1", () => {
  const table: [16 | 32 | 64, string, string][] = [
    [32, "0f", "db 0x0f"], // truncated
    [32, "0fff", "db 0x0f"], // UD0-ish, not in the subset
    [64, "60", "db 0x60"], // pusha in 64-bit mode
    [64, "ea0000000000", "db 0xea"], // far jmp ptr in 64-bit mode
    [32, "f0", "db 0xf0"], // prefix alone
    [32, "f090", "db 0xf0"], // lock nop
    [32, "d9c0", "db 0xd9"], // x87
    [32, "8b", "db 0x8b"], // missing ModRM
    [64, "40fc", "db 0x40"], // REX without effect
    [32, "0f9808", "db 0x0f"], // SETcc with a non-zero ModRM.reg
    [32, "f3f3a4", "db 0xf3"], // repeated prefix
  ];
  for (const [bits, h, text] of table) {
    assertEquals(disassembleOne(unhex(h), 0, { bits }), { length: 1, text }, h);
  }
  assertEquals(disassembleOne(new Uint8Array(0), 0, { bits: 32 }), { length: 0, text: "" });
});

Deno.test("disassemble: whole buffer with addresses", () => {
  const bytes = unhex("fa0f01152000100066ea" + "0000" + "0000" + "0800");
  const lines = disassemble(bytes.slice(0, 8), { bits: 32, address: 0x100000n });
  assertEquals(lines.map((l) => [l.address, l.length, l.text]), [
    [0x100000n, 1, "cli"],
    [0x100001n, 7, "lgdt [0x100020]"],
  ]);
  assertEquals(hex(lines[1].bytes), "0f011520001000");
  assertEquals(lines[1].offset, 1);
});

Deno.test("disassemble: programs assembled with nasm decode and re-assemble", async () => {
  const url = new URL("./testdata/nasm_programs.json", import.meta.url);
  const data = JSON.parse(await Deno.readTextFile(url)) as {
    programs: { name: string; bits: 16 | 32 | 64; source: string; hex: string }[];
  };
  const p = data.programs.find((x) => x.name === "kexec-like-64")!;
  const bytes = unhex(p.hex);
  const lines = disassemble(bytes.slice(0, 0x70), { bits: 64, address: 0x1000 });
  // every decoded instruction re-assembles at its address to its own bytes
  for (const l of lines) {
    if (l.text.startsWith("db ")) continue;
    assertEquals(hex(assemble(l.text, { bits: 64, org: l.address }).bytes), hex(l.bytes), l.text);
  }
  assertEquals(lines[0].text, "pushf");
  assert(lines.some((l) => l.text === "rep movsq"));
  assert(lines.some((l) => l.text === "wbinvd"));
  assert(lines.some((l) => l.text === "retfq"));
});

Deno.test("disassemble: random bytes never throw, and decoded text re-assembles", () => {
  let s = 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const lead = [0x0f, 0x66, 0x67, 0xf3, 0xf0, 0x48, 0x41, 0x81, 0x83, 0xff, 0xf7, 0xc7, 0x8b, 0x89];
  let decoded = 0;
  for (const bits of [16, 32, 64] as const) {
    for (let i = 0; i < 4000; i++) {
      const b = new Uint8Array(1 + (rnd() % 15));
      for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
      if (rnd() % 2) b[0] = lead[rnd() % lead.length];
      const r = disassembleOne(b, 0, { bits, address: 0x7000 });
      assert(r.length >= 1 && r.length <= b.length, `${hex(b)}: length ${r.length}`);
      if (r.text.startsWith("db ")) continue;
      decoded++;
      // the text is valid assembler input of the same length (encodings may differ from the input
      // when nasm would choose another form, e.g. 8b c3 vs 89 d8 for mov eax, ebx)
      const out = assemble(r.text, { bits, org: 0x7000 });
      assert(out.bytes.length <= r.length, `${hex(b)} -> ${r.text}`);
    }
  }
  assert(decoded > 6000);
});

Deno.test("disassembleText: the trace hook shape, negative addresses as 64-bit", () => {
  assertEquals(disassembleText(unhex("0f22e0"), 0x10002a, 32), "mov cr4, eax");
  assertEquals(disassembleText(unhex("ebfe"), -2, 64), "jmp 0xfffffffffffffffe");
  assertEquals(disassembleText(unhex("e9fbffffff"), 0x7fffffff, 32), "jmp near 0x7fffffff");
  assertEquals(disassembleText(new Uint8Array(0), 0, 16), "");
});
