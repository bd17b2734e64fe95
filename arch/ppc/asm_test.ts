import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { AsmError, assemble } from "./asm.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const asm = (src: string, org = 0) => hex(assemble(src, { org }).bytes);

interface VectorFile {
  binutils: string;
  vectors: [number, string, string][];
  rejected: string[];
}
interface ProgramFile {
  programs: { name: string; org: number; source: string; hex: string }[];
}
const load = async <T>(name: string): Promise<T> =>
  JSON.parse(await Deno.readTextFile(new URL(`./testdata/${name}`, import.meta.url)));

Deno.test("assemble: every GNU as golden vector", async () => {
  const data = await load<VectorFile>("gas_vectors.json");
  assert(data.vectors.length > 5000, "vector file looks truncated");
  const bad: string[] = [];
  for (const [addr, src, want] of data.vectors) {
    let got: string;
    try {
      got = asm(src, addr);
    } catch (e) {
      got = `error: ${(e as Error).message}`;
    }
    if (got !== want) bad.push(`${src}: want ${want}, got ${got}`);
  }
  assertEquals(bad.slice(0, 30), [], `${bad.length} mismatches`);
});

Deno.test("assemble: lines GNU as rejects are rejected with AsmError", async () => {
  const data = await load<VectorFile>("gas_vectors.json");
  assert(data.rejected.length > 500);
  const accepted: string[] = [];
  for (const src of data.rejected) {
    try {
      const r = asm(src, 0x10000);
      accepted.push(`${src} -> ${r}`);
    } catch (e) {
      assert(e instanceof AsmError, `${src}: ${e}`);
    }
  }
  assertEquals(accepted.slice(0, 30), [], `${accepted.length} accepted`);
});

Deno.test("assemble: whole programs match GNU as + ld", async () => {
  const data = await load<ProgramFile>("gas_programs.json");
  assert(data.programs.length >= 5);
  for (const p of data.programs) {
    assertEquals(asm(p.source, p.org), p.hex, p.name);
  }
});

Deno.test("assemble: labels, origin, listing and local labels", () => {
  const r = assemble(
    "start:  li r3,1  # comment\n1:      addi r3,r3,1; cmpwi r3,10\n        blt 1b\n        b 1f\n1:      .long start, 1b\n        .set K, 0x1234\nend = .\n",
    { org: 0x8000 },
  );
  assertEquals(
    hex(r.bytes),
    "38600001" + "38630001" + "2c03000a" + "4180fff8" + "48000004" + "00008000" + "00008014",
  );
  assertEquals(r.origin, 0x8000n);
  assertEquals([...r.labels], [["start", 0x8000n], ["K", 0x1234n], ["end", 0x801cn]]);
  assertEquals(r.lines, [
    { line: 1, offset: 0, length: 4 },
    { line: 2, offset: 4, length: 8 },
    { line: 3, offset: 12, length: 4 },
    { line: 4, offset: 16, length: 4 },
    { line: 5, offset: 20, length: 8 },
  ]);
});

Deno.test("assemble: forward references settle, @ha/@l against org, branch to a number is a displacement", () => {
  const src = "lis r3,data@ha\naddi r3,r3,data@l\nb 8\nba 0x100\n.org 0x8000\ndata: .long 0";
  const r = assemble(src, { org: 0x12340000 });
  assertEquals(hex(r.bytes.subarray(0, 16)), "3c6012353863800048000008" + "48000102");
  assertEquals(r.labels.get("data"), 0x12348000n);
  assertEquals(asm("b .+8\nbl .", 0x100), "4800000848000001");
});

Deno.test("assemble: errors carry line, column, file and detail", () => {
  const cases: [string, number, number, string][] = [
    ["nop\n  lix 3,1", 2, 3, "Unknown instruction: lix"],
    ["li 3,0x8000", 1, 6, "Operand out of range: 32768 (expected -32768..32767)"],
    ["li 32,0", 1, 4, "Register number out of range: 32 (expected 0..31)"],
    ["lwzu 3,4(3)", 1, 8, "Invalid register operand when updating"],
    ["b undefined_label", 1, 3, "Undefined symbol: undefined_label"],
    ["x: nop\nx: nop", 2, 1, "Symbol already defined: x"],
    ["  .byte 1\n  nop", 2, 3, "Instruction address is not a multiple of 4"],
    ["addi 3,4", 1, 1, "Wrong number of operands for addi: 2 (expected 3)"],
    ["lwz 3,4", 1, 7, "Expected a memory operand d(rA)"],
    ["b .+6", 1, 3, "Branch target not a multiple of 4: 6"],
    ['li 3,"a"', 1, 6, "Expected an expression but found a string"],
    ["blt 1b", 1, 5, "Undefined local label: 1b"],
    ["li 3,1/0", 1, 7, "Division by zero"],
    [".org 8\n.org 4", 2, 6, "Attempt to move .org backwards: 4 < 8"],
    [".foo 1", 1, 1, "Unknown directive: .foo"],
    ["bc 31,0,.", 1, 4, "Invalid conditional option: 31"],
    ["li 3,x@hi\nx=1", 1, 7, "Unknown relocation operator: @hi"],
  ];
  const bad: string[] = [];
  for (const [src, line, column, detail] of cases) {
    try {
      assemble(src);
      bad.push(`${src}: no error`);
    } catch (e) {
      assert(e instanceof AsmError && e instanceof SyntaxError, `${src}: ${e}`);
      const got = JSON.stringify([e.line, e.column, e.detail]);
      if (got !== JSON.stringify([line, column, detail])) bad.push(`${src}: ${got}`);
    }
  }
  assertEquals(bad, []);
  try {
    assemble("\nnop\nfoo 1", { file: "stub.S", lineOffset: 10, columnOffset: 4 });
  } catch (e) {
    assert(e instanceof AsmError);
    assertEquals(e.message, "stub.S:13:5: Unknown instruction: foo");
  }
});

Deno.test("assemble: pathological input gives AsmError", () => {
  for (
    const src of [
      "li 3," + "(".repeat(20000) + "1" + ")".repeat(20000),
      "li 3," + "-".repeat(20000) + "1",
      ".org 0x7fffffff",
      ".byte 1\n.align 31",
      ".space -1",
      ".fill 0x10000000, 8",
      "x = x + 1",
    ]
  ) {
    try {
      assemble(src);
      assert(false, `${src.slice(0, 40)}: no error`);
    } catch (e) {
      assert(e instanceof AsmError, `${src.slice(0, 40)}: ${e}`);
    }
  }
});

Deno.test("assemble: random input never throws anything but AsmError", () => {
  let a = 99;
  const rnd = (n: number) => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return (a >>> 8) % n;
  };
  const words = [
    "li",
    "lwz",
    "b",
    "beq+",
    "bdnz",
    "r3",
    "%r31",
    "cr7",
    "4*cr1+eq",
    "0x",
    "1b",
    "1f",
    "1:",
    "x:",
    "x",
    ".",
    "@ha",
    "@l",
    "(",
    ")",
    ",",
    "+",
    "-",
    "*",
    "/",
    "<<",
    "'",
    '"',
    "#",
    ";",
    ".long",
    ".org",
    ".align",
    ".set",
    "=",
    "rlwinm",
    "mtspr",
    "0xffffffffffffffffff",
    "99999",
    "-0x8000",
    ".ascii",
    ".fill",
    ".space",
    "1000000000",
    "slwi",
    "mfsprg",
    "\t",
    " ",
    "\n",
  ];
  for (let i = 0; i < 20000; i++) {
    let src = "";
    const n = 1 + rnd(12);
    for (let j = 0; j < n; j++) src += words[rnd(words.length)] + (rnd(3) ? " " : "");
    try {
      assemble(src, { org: rnd(2) ? 0 : 0x1000 });
    } catch (e) {
      assert(e instanceof AsmError, `${JSON.stringify(src)}: ${e}`);
    }
  }
});

Deno.test("assemble: local labels with several digits and leading zeros", () => {
  assertEquals(
    asm("10: nop\n010: b 10b\n b 10f\n10: nop"),
    "60000000" + "48000000" + "48000004" + "60000000",
  );
});
