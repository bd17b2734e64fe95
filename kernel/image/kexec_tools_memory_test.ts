import assert from "node:assert/strict";
import { KexecToolsError } from "./errors.ts";
import {
  formatMemoryRanges,
  KexecInfo,
  type KexecMemoryRange,
  memoryRangesFromMap,
} from "./kexec_tools_memory.ts";

const ram = (start: bigint, end: bigint): KexecMemoryRange => ({ start, end, type: "ram" });
const buf = new Uint8Array(1);

Deno.test("memory ranges: sort, merge overlapping same-type, IVT clamp, inclusive ends", () => {
  const r = memoryRangesFromMap([
    { base: 0x100000n, size: 0x100000n, type: "ram" },
    { base: 0n, size: 0xa0000n, type: "ram" },
    { base: 0x180000n, size: 0x100000n, type: "ram" },
    { base: 0xf0000n, size: 0n, type: "reserved" },
    { base: 0xfec00000n, size: 0x1000n, type: "unusable" },
  ]);
  assert.deepEqual(r, [
    ram(0x400n, 0x9ffffn),
    ram(0x100000n, 0x27ffffn),
    { start: 0xfec00000n, end: 0xfec00fffn, type: "reserved" },
  ]);
  assert.equal(
    formatMemoryRanges(r),
    "MEMORY RANGES\n0000000000000400-000000000009ffff (0)\n0000000000100000-000000000027ffff (0)\n" +
      "00000000fec00000-00000000fec00fff (1)\n",
  );
  const old = memoryRangesFromMap([{ base: 0n, size: 0xa0000n, type: "ram" }], { era: "1.101" });
  assert.deepEqual(old, [ram(0x100n, 0xa0000n)]); // 1.101: clamp 0x100, exclusive end
});

Deno.test("locate_hole: bottom-up and top-down with alignment", () => {
  const info = new KexecInfo({ ranges: [ram(0x400n, 0x9fbffn), ram(0x100000n, 0x7ffffffn)] });
  assert.equal(info.locateHole(0x1000n, 16n, 0x3000n, 0xa0000n, 1), 0x3000n);
  // top-down: e - size + 1 aligned down; 0x9fbff - 0x9000 + 1 = 0x96c00 -> 0x96000
  assert.equal(info.locateHole(0x9000n, 16n, 0x3000n, 0xa0000n, -1), 0x96000n);
  assert.equal(info.locateHole(0x1000n, 0x1000000n, 0x100000n, 0xffffffffn, 1), 0x1000000n);
  assert.equal(info.locateHole(0x1000n, 0x1000000n, 0x100000n, 0xffffffffn, -1), 0x7000000n);
  assert.equal(info.locateHole(0x10000000n, 4096n, 0n, 0xffffffffn, 1), info.ulongMax);
  assert.match(info.stderr, /Could not find a free area of memory of 0x10000000 bytes/);
  assert.throws(() => info.locateHole(0x1000n, 0n, 0n, 1n, 0), KexecToolsError);
});

Deno.test("locate_hole: a free range that ends 1 byte after a segment is dropped (ms < me)", () => {
  const info = new KexecInfo({ ranges: [ram(0x1000n, 0x2000n)] });
  info.addSegment({ buf, mem: 0x1000n, memsz: 0x1000n });
  // The remaining [0x2000, 0x2000] is not a free range at all.
  assert.equal(info.locateHole(0n, 1n, 0n, info.ulongMax, 1), info.ulongMax);
});

Deno.test("locate_hole: top-down keeps scanning so the highest fitting range wins", () => {
  const info = new KexecInfo({
    ranges: [ram(0x400n, 0x9fbffn), ram(0x100000n, 0x1ffffffn), ram(0x4000000n, 0x4001fffn)],
  });
  assert.equal(info.locateHole(0x2000n, 4096n, 0n, info.ulongMax, -1), 0x4000000n);
  assert.equal(info.locateHole(0x3000n, 4096n, 0n, info.ulongMax, -1), 0x1ffd000n);
  assert.equal(info.locateHole(0x3000n, 4096n, 0n, info.ulongMax, 1), 0x1000n);
});

Deno.test("locate_hole: the result above max is refused", () => {
  const info = new KexecInfo({ ranges: [ram(0x100000n, 0x1ffffffn)] });
  // size larger than the clipped range still "fits" because of the size-1 test only when equal.
  assert.equal(info.locateHole(0x2000n, 4096n, 0x100000n, 0x100fffn, -1), info.ulongMax);
});

Deno.test("valid_memory_range: RAM only, adjacency merge of one pair, mem_min/mem_max", () => {
  const info = new KexecInfo({
    ranges: [ram(0x100000n, 0x1fffffn), ram(0x1fffffn, 0x2fffffn), ram(0x300000n, 0x3fffffn)],
    memMax: 0x3fffffn,
  });
  assert.equal(info.validMemoryRange(0x100000n, 0x1fffffn), true);
  // end of range 0 (inclusive) equals start of range 1: merged (kexec-tools' literal test)
  assert.equal(info.validMemoryRange(0x100000n, 0x2fffffn), true);
  // range 1 ends at 0x2fffff, range 2 starts at 0x300000: not "adjacent" by that test
  assert.equal(info.validMemoryRange(0x200000n, 0x300fffn), false);
  assert.equal(info.validMemoryRange(0x300000n, 0x400000n), false); // above mem_max
  assert.equal(info.validMemoryRange(0x300001n, 0x300000n), false); // s > e
});

Deno.test("add_segment: empty dropped, memsz page-rounded, bufsz clamped, bad base and range die", () => {
  const info = new KexecInfo({ ranges: [ram(0x100000n, 0x1fffffn)] });
  info.addSegment({ buf: new Uint8Array(10), mem: 0x100000n, memsz: 0n });
  assert.equal(info.segments.length, 0);
  info.addSegment({ buf: new Uint8Array(0x2000), mem: 0x100000n, memsz: 0x1001n });
  assert.equal(info.segments[0].memsz, 0x2000n);
  assert.equal(info.segments[0].bufsz, 0x1001n);
  assert.throws(
    () => info.addSegment({ buf, mem: 0x100800n, memsz: 1n }),
    /Base address: 0x100800 is not page aligned/,
  );
  assert.throws(
    () => info.addSegment({ buf, mem: 0x1ff000n, memsz: 0x2000n }),
    /Invalid memory segment 0x1ff000 - 0x200fff/,
  );
});

Deno.test("add_buffer: sorts first and dies on overlap", () => {
  const info = new KexecInfo({ ranges: [ram(0x100000n, 0x1fffffn)] });
  info.addSegment({ buf, mem: 0x104000n, memsz: 0x1000n });
  info.addSegment({ buf, mem: 0x100000n, memsz: 0x5000n });
  assert.throws(
    () => info.addBuffer({ buf, memsz: 1n, align: 1n, min: 0n, max: info.ulongMax, end: 1 }),
    (e: unknown) =>
      e instanceof KexecToolsError && e.message === "sort_segments failed" &&
      e.stderr.includes("Overlapping memory segments at 0x105000"),
  );
});

Deno.test("1.101 era: exclusive ends and the old size test give the same addresses for page maps", () => {
  for (const era of ["2.0.25", "1.101"] as const) {
    const ranges = memoryRangesFromMap([{ base: 0n, size: 0xa0000n, type: "ram" }], { era });
    const info = new KexecInfo({ ranges, era, longBits: 32 });
    assert.equal(info.locateHole(0x9000n, 16n, 0x3000n, 0xa0000n, -1), 0x97000n, era);
    assert.equal(info.locateHole(0x9000n, 16n, 0x3000n, 0xa0000n, 1), 0x3000n, era);
  }
});
