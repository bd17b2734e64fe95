// Mutation fuzzing: corrupted images must only ever produce the typed errors, never a crash.
import assert from "node:assert/strict";
import { buildBzImage, parseBzImage } from "./bzimage.ts";
import { buildDol, parseDol } from "./dol.ts";
import { buildElf, EM_386, EM_X86_64, parseElf } from "./elf.ts";
import { ImageFormatError, KexecOptionError, KexecToolsError } from "./errors.ts";
import { loadWithKexecTools } from "./kexec_tools.ts";
import type { MemoryMapEntry } from "./kexec_tools_memory.ts";

const MAP: MemoryMapEntry[] = [
  { base: 0n, size: 0x9fc00n, type: "ram" },
  { base: 0x100000n, size: 0x3f00000n, type: "ram" },
];

function xorshift(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const payload = new Uint8Array(0x2000).map((_, i) => i & 0xff);
const SEEDS: [string, Uint8Array][] = [
  ["bzImage 2.02", buildBzImage({ version: 0x0202, payload })],
  ["bzImage 2.15/64", buildBzImage({ version: 0x020f, payload, xloadflags: 3 })],
  [
    "ELF32",
    buildElf({
      elfClass: 32,
      machine: EM_386,
      entry: 0x100000n,
      segments: [{ paddr: 0x100000n, data: payload }, {
        paddr: 0x200000n,
        data: payload.subarray(0, 64),
        memsz: 0x3000n,
      }],
    }),
  ],
  [
    "ELF64",
    buildElf({
      elfClass: 64,
      machine: EM_X86_64,
      entry: 0x100000n,
      segments: [{ paddr: 0x100000n, data: payload }],
    }),
  ],
  [
    "DOL",
    buildDol({
      text: [{ address: 0x80003100, data: payload.subarray(0, 0x400) }],
      data: [{ address: 0x80010000, data: payload.subarray(0, 0x80) }],
      entry: 0x80003100,
    }),
  ],
];

function mutate(rand: () => number, src: Uint8Array): Uint8Array {
  let b = src.slice();
  const n = 1 + (rand() % 4);
  for (let k = 0; k < n; k++) {
    const op = rand() % 5;
    // Header bytes are where the interesting fields are: bias mutations towards the start.
    const pos = rand() % 2 ? rand() % Math.min(b.length, 0x280) : rand() % b.length;
    if (op === 0) b[pos] ^= 1 << (rand() % 8);
    else if (op === 1) b[pos] = rand() & 0xff;
    else if (op === 2 && pos + 4 <= b.length) {
      new DataView(b.buffer).setUint32(pos & ~3, rand(), rand() % 2 === 0);
    } else if (op === 3 && pos + 4 <= b.length) {
      new DataView(b.buffer).setUint32(
        pos & ~3,
        [0, 0xffffffff, 0x80000000, 0x1000][rand() % 4],
        true,
      );
    } else b = b.subarray(0, Math.max(1, pos));
  }
  return b;
}

const typed = (e: unknown) =>
  e instanceof ImageFormatError || e instanceof KexecToolsError || e instanceof KexecOptionError;

Deno.test("fuzz: mutated images produce typed errors or a valid load, never a crash", () => {
  const rand = xorshift(0x6b657865);
  let loads = 0;
  let errors = 0;
  const counts = new Map<string, number>();
  for (let iter = 0; iter < 1500; iter++) {
    const [name, seed] = SEEDS[iter % SEEDS.length];
    const bytes = mutate(rand, seed);
    for (const f of [parseBzImage, parseElf, parseDol] as ((b: Uint8Array) => unknown)[]) {
      try {
        f(bytes);
      } catch (e) {
        assert.ok(e instanceof ImageFormatError, `${name} iter ${iter}: ${f.name}: ${e}`);
        assert.ok(e.offset >= 0 && e.offset <= bytes.length + 0x100, `${name}: offset ${e.offset}`);
      }
    }
    for (const build of ["x86_64", "i386"] as const) {
      try {
        const r = loadWithKexecTools(bytes, {
          memoryMap: MAP,
          build,
          commandLine: "console=ttyS0",
        });
        for (const s of r.segments) {
          assert.equal(s.mem % 4096n, 0n);
          assert.ok(s.bufsz <= s.memsz);
        }
        loads++;
      } catch (e) {
        assert.ok(typed(e), `${name} iter ${iter} (${build}): ${e instanceof Error ? e.stack : e}`);
        const k = (e as Error).constructor.name;
        counts.set(k, (counts.get(k) ?? 0) + 1);
        errors++;
      }
    }
  }
  // The fuzzer exercises both outcomes and every error class that can arise from images.
  assert.ok(loads > 50, `loads ${loads}`);
  assert.ok(errors > 50, `errors ${errors}`);
  assert.ok(
    (counts.get("ImageFormatError") ?? 0) > 0 && (counts.get("KexecToolsError") ?? 0) > 0,
    JSON.stringify([...counts]),
  );
});
