import assert from "node:assert/strict";
import {
  buildPurgatory,
  prebuiltKey,
  PURGATORY_SYMBOLS,
  purgatoryChecksum,
  purgatoryFromBytes,
  purgatorySource,
  type PurgatorySourceOptions,
} from "./purgatory.ts";
import { PREBUILT_PURGATORY } from "./purgatory_prebuilt.ts";

const VARIANTS: PurgatorySourceOptions[] = [{ bits: 32 }, { bits: 32, clearCr4: true }, {
  bits: 64,
}];

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("purgatory: committed nasm bytes belong to the current source (rerun purgatory_gen.ts if not)", async () => {
  for (const v of VARIANTS) {
    const entry = PREBUILT_PURGATORY[prebuiltKey(v)];
    assert.ok(entry, prebuiltKey(v));
    assert.equal(entry.sourceSha256, await sha256Hex(purgatorySource(v)), prebuiltKey(v));
  }
});

Deno.test("purgatory: the project's assembler produces nasm's bytes", async () => {
  // arch/x86/asm.ts belongs to another layer; kernel/image never imports it, the test may.
  const { assemble } = await import("../../arch/x86/asm.ts");
  for (const v of VARIANTS) {
    const ours = buildPurgatory({
      ...v,
      assemble: (src, o) => assemble(src, { bits: o.bits, org: o.org }),
    });
    assert.deepEqual(ours.bytes, buildPurgatory(v).bytes, prebuiltKey(v));
  }
});

Deno.test("purgatory: symbol table, variants and layout", () => {
  const p32 = buildPurgatory({ bits: 32 });
  const p64 = buildPurgatory({ bits: 64 });
  for (const p of [p32, p64]) {
    assert.equal(p.bytes[0], 0xe9); // jmp near start
    assert.equal(p.entryOffset, 0);
    for (const s of PURGATORY_SYMBOLS) {
      if (s === "entry32") assert.equal(p.symbols[s] !== undefined, p.bits === 64);
      else if (s === "entry16") assert.equal(p.symbols[s] !== undefined, p.bits === 32);
      else assert.ok(p.symbols[s]! > 0 && p.symbols[s]! < p.bytes.length, s);
    }
    assert.equal(p.symbols.stack_arg32_2! + 4, p.symbols.stack_arg32_1);
    assert.equal(p.symbols.stack_end, p.symbols.stack_arg32_2);
    assert.equal(p.symbols.entry64_regs! % 8, 0);
  }
  assert.throws(() => purgatorySource({ bits: 64, clearCr4: true }), RangeError);
  assert.throws(() => purgatoryFromBytes(new Uint8Array(64), { bits: 32 }), /KXPG/);
  // 386-clean: no CR4 access, CPUID, BSWAP, CMOV in the 32-bit purgatory without clear_cr4.
  const hex = Array.from(p32.bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.doesNotMatch(hex.slice(0, hex.indexOf("4b585047") + 400), /0f22e0|0fa2/);
});

Deno.test("purgatory checksum: zero tails rotate only; matches a byte-by-byte reference", () => {
  const ref = (regions: { bytes: Uint8Array; size: number }[]) => {
    let s = 0;
    for (const r of regions) {
      for (let i = 0; i < r.size; i++) s = (((s << 5) | (s >>> 27)) + (r.bytes[i] ?? 0)) >>> 0;
    }
    return s;
  };
  const regions = [
    { bytes: new Uint8Array([0xff, 1, 2, 3, 0x80]), size: 4096 },
    { bytes: new Uint8Array(33).fill(0xaa), size: 37 },
    { bytes: new Uint8Array(0), size: 64 },
  ];
  assert.equal(purgatoryChecksum(regions), ref(regions));
  assert.notEqual(
    purgatoryChecksum(regions),
    purgatoryChecksum([regions[1], regions[0], regions[2]]),
  );
});
