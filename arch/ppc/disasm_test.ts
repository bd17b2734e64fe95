import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { assemble } from "./asm.ts";
import { disassemble, disassembleOne, disassembleText } from "./disasm.ts";
import { mulberry32 } from "../../testing/prng.ts";
import { INTEGER_PRIMARY_OPCODES } from "./testdata/enc.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

Deno.test("disassemble: golden vectors round-trip through the assembler", async () => {
  const url = new URL("./testdata/gas_vectors.json", import.meta.url);
  const data = JSON.parse(await Deno.readTextFile(url)) as { vectors: [number, string, string][] };
  const bad: string[] = [];
  for (const [addr, src, want] of data.vectors) {
    const r = disassembleOne(unhex(want), 0, { address: addr, relativeBranches: true });
    let got: string;
    try {
      got = hex(assemble(r.text, { org: addr }).bytes);
    } catch (e) {
      got = `error: ${(e as Error).message}`;
    }
    if (r.text.startsWith(".long") || got !== want) {
      bad.push(`${src} (${want}) -> ${r.text} -> ${got}`);
    }
  }
  assert(data.vectors.length > 5000);
  assertEquals(bad.slice(0, 30), [], `${bad.length} failures`);
});

Deno.test("disassemble: exact texts", () => {
  const table: [string, string, number?][] = [
    ["84090004", "lwzu r0,4(r9)"],
    ["94080004", "stwu r0,4(r8)"],
    ["4200fffc", "bdnz 0x100", 0x104],
    ["41820008", "beq 0x1008", 0x1000],
    ["41a20008", "beq+ 0x1008", 0x1000],
    ["4182fff8", "beq 0xff8", 0x1000],
    ["4186fff8", "beq cr1,0xff8", 0x1000],
    ["48000009", "bl 0x1008", 0x1000],
    ["4bfffffc", "b 0xffc", 0x1000],
    ["4e800020", "blr"],
    ["4e800421", "bctrl"],
    ["4e800021", "blrl"],
    ["4da20020", "beqlr+"],
    ["7d1a03a6", "mtsrr0 r8"],
    ["7d3b03a6", "mtsrr1 r9"],
    ["7c70faa6", "mfspr r3,1008"],
    ["7c7083a6", "mtibatu 0,r3"],
    ["7c7183a6", "mtibatl 0,r3"],
    ["7c7883a6", "mtdbatu 0,r3"],
    ["7c7043a6", "mtsprg 0,r3"],
    ["7ce903a6", "mtctr r7"],
    ["7ca802a6", "mflr r5"],
    ["7c6c42e6", "mftb r3"],
    ["7c6d42e6", "mftbu r3"],
    ["7c6c42a6", "mfspr r3,268"],
    ["7c7ffba6", "mtspr 1023,r3"],
    ["4c000064", "rfi"],
    ["4c00012c", "isync"],
    ["7c0004ac", "sync"],
    ["7c0006ac", "eieio"],
    ["7c00406c", "dcbst 0,r8"],
    ["7c0047ac", "icbi 0,r8"],
    ["7c0043ac", "dcbi 0,r8"],
    ["44000002", "sc"],
    ["7fe00008", "trap"],
    ["7c6001a4", "mtsr 0,r3"],
    ["7c001a64", "tlbie r3"],
    ["3860ffff", "li r3,-1"],
    ["3c601234", "lis r3,0x1234"],
    ["38640008", "addi r3,r4,8"],
    ["6083ffff", "ori r3,r4,0xffff"],
    ["70840010", "andi. r4,r4,0x10"],
    ["60000000", "nop"],
    ["7c832378", "mr r3,r4"],
    ["7c8320f8", "not r3,r4"],
    ["7c032000", "cmpw r3,r4"],
    ["2f830004", "cmpwi cr7,r3,4"],
    ["28030000", "cmplwi r3,0"],
    ["54080026", "clrrwi r8,r0,12"],
    ["540707ff", "clrlwi. r7,r0,31"],
    ["5483103a", "slwi r3,r4,2"],
    ["5483f0be", "srwi r3,r4,2"],
    ["5483083e", "rotlwi r3,r4,1"],
    ["5483104a", "rlwinm r3,r4,2,1,5"],
    ["7c642a14", "add r3,r4,r5"],
    ["7c642e15", "addo. r3,r4,r5"],
    ["7c642850", "subf r3,r4,r5"],
    ["4cc63182", "crclr 4*cr1+eq"],
    ["4c011b82", "cror lt,gt,so"],
    ["7ce000a6", "mfmsr r7"],
    ["7ce00124", "mtmsr r7"],
    ["80a4fffc", "lwz r5,-4(r4)"],
    ["80600008", "lwz r3,8(0)"],
    ["48000002", "ba 0x0"],
    ["00000000", ".long 0x0"],
    ["84630004", ".long 0x84630004"], // lwzu r3,4(r3): invalid form
    ["43e00000", ".long 0x43e00000"], // bc 31,0,.: invalid BO
    ["7c0004ad", ".long 0x7c0004ad"], // sync with Rc set
  ];
  for (const [h, want, addr] of table) {
    assertEquals(disassembleOne(unhex(h), 0, { address: addr ?? 0 }).text, want, h);
  }
});

Deno.test("disassemble: buffers, partial words and the trace hook", () => {
  const lines = disassemble(unhex("7c0802a6" + "4e800020" + "12"), { address: 0x1000 });
  assertEquals(lines.map((l) => [Number(l.address), l.length, l.text]), [
    [0x1000, 4, "mflr r0"],
    [0x1004, 4, "blr"],
    [0x1008, 1, ".byte 0x12"],
  ]);
  assertEquals(disassembleText(unhex("4bfffffc"), 0x2000), "b 0x1ffc");
  assertEquals(disassembleOne(new Uint8Array(2), 5), { length: 0, text: "" });
  assertEquals(disassembleText(unhex("48000000"), 0xfffffffc), "b 0xfffffffc");
});

Deno.test("disassemble: 100000 random words never throw and re-assemble to themselves", () => {
  const rnd = mulberry32(12345);
  const primaries = INTEGER_PRIMARY_OPCODES;
  const bytes = new Uint8Array(4);
  const bad: string[] = [];
  let decoded = 0;
  for (let i = 0; i < 100000; i++) {
    let w = rnd();
    if (i & 1) w = ((primaries[w % primaries.length] << 26) | (rnd() & 0x3ffffff)) >>> 0;
    bytes[0] = w >>> 24, bytes[1] = w >>> 16, bytes[2] = w >>> 8, bytes[3] = w;
    const r = disassembleOne(bytes, 0, { address: 0x10000, relativeBranches: true });
    if (r.text.startsWith(".long")) continue;
    decoded++;
    let got: string;
    try {
      got = hex(assemble(r.text, { org: 0x10000 }).bytes);
    } catch (e) {
      got = `error: ${(e as Error).message}`;
    }
    if (got !== hex(bytes)) bad.push(`${hex(bytes)} -> ${r.text} -> ${got}`);
  }
  assert(decoded > 25000, `decoded ${decoded}`);
  assertEquals(bad.slice(0, 20), [], `${bad.length} failures`);
});
