import assert from "node:assert/strict";
import {
  decodeE820Table,
  e820ReserveResources,
  encodeE820Table,
  MemoryMap,
  MemoryMapError,
  ResourceConflictError,
  ResourceTree,
} from "./memory_map.ts";
import type { E820Entry } from "./memory_map.ts";

const GIB = 0x4000_0000;

const sixGib: E820Entry[] = [
  { base: 0, size: 0x9f800, type: "ram" },
  { base: 0x9f800, size: 0x800, type: "reserved" },
  { base: 0xe0000, size: 0x20000, type: "reserved" },
  { base: 0x100000, size: 3 * GIB - 0x100000 - 0x10000, type: "ram" },
  { base: 3 * GIB - 0x10000, size: 0x8000, type: "acpi" },
  { base: 3 * GIB - 0x8000, size: 0x8000, type: "nvs" },
  { base: 0xfec00000, size: 0x1000, type: "reserved" },
  { base: 0xfee00000, size: 0x1000, type: "reserved" },
  { base: 0xfffe0000, size: 0x20000, type: "reserved" },
  { base: 4 * GIB, size: 3 * GIB, type: "ram" },
];

Deno.test("MemoryMap sorts entries and answers type queries", () => {
  const map = new MemoryMap([...sixGib].reverse());
  assert.deepEqual(map.entries.map((e) => e.base), sixGib.map((e) => e.base));
  assert.equal(map.typeAt(0x9f7ff), "ram");
  assert.equal(map.typeAt(0x9f800), "reserved");
  assert.equal(map.typeAt(0xa0000), undefined);
  assert.equal(map.typeAt(5 * GIB), "ram");
  assert.equal(map.end, 7 * GIB);
  assert.equal(map.ramBytes(), 6 * GIB - 0x100000 - 0x10000 + 0x9f800);
  assert.equal(map.covers(0x100000, 0x1000), true);
  assert.equal(map.covers(0x9f000, 0x1000), false);
  assert.equal(map.covers(3 * GIB - 0x10000, 0x8000, "acpi"), true);
});

Deno.test("MemoryMap rejects bad entries with the index and field", () => {
  const cases: [E820Entry[], number, string, RegExp][] = [
    [[{ base: 0, size: 0, type: "ram" }], 0, "size", /bad size/],
    [[{ base: -1, size: 1, type: "ram" }], 0, "base", /bad base/],
    [[{ base: 0, size: 1, type: "rom" as "ram" }], 0, "type", /unknown type: rom/],
    [
      [{ base: 0x100000, size: 0x100000, type: "ram" }, {
        base: 0x1ff000,
        size: 0x1000,
        type: "acpi",
      }],
      1,
      "base",
      /range 1 \[0x1ff000-0x1fffff\] overlaps range 0/,
    ],
    [
      [{ base: 0x300000, size: 0x100000, type: "ram" }, {
        base: 0x100000,
        size: 0x300000,
        type: "ram",
      }],
      1,
      "base",
      /overlaps range 0/,
    ],
  ];
  for (const [entries, index, field, msg] of cases) {
    assert.throws(() => new MemoryMap(entries), (e: unknown) => {
      assert.ok(e instanceof MemoryMapError);
      assert.ok(e instanceof RangeError);
      assert.equal(e.index, index);
      assert.equal(e.field, field);
      assert.match(e.message, msg);
      return true;
    });
  }
});

Deno.test("e820 zero-page encoding round-trips and matches the packed layout", () => {
  const bytes = encodeE820Table(sixGib);
  assert.equal(bytes.length, sixGib.length * 20);
  // Last entry: addr 0x100000000, size 0xC0000000, type 1.
  const last = bytes.subarray(9 * 20);
  assert.deepEqual(
    [...last],
    [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 1, 0, 0, 0],
  );
  assert.deepEqual(decodeE820Table(bytes, sixGib.length), sixGib);
  assert.throws(() => decodeE820Table(bytes, 11), /truncated/);
  const odd = new Uint8Array(20);
  odd[16] = 9;
  assert.equal(decodeE820Table(odd, 1)[0].type, "reserved");
});

Deno.test("BIOS log lines use the kernel's e820 wording", () => {
  const map = new MemoryMap(sixGib.slice(0, 2));
  assert.equal(
    map.formatBiosLog(),
    " BIOS-e820: 0000000000000000 - 000000000009f800 (usable)\n" +
      " BIOS-e820: 000000000009f800 - 00000000000a0000 (reserved)\n",
  );
});

Deno.test("iomem: e820-64bit keeps ranges above 4 GiB, the old filter drops them", () => {
  const map = new MemoryMap(sixGib);
  const straddle = new MemoryMap([
    { base: 0x100000, size: 0x1000_0000, type: "ram" },
    { base: 0xf000_0000, size: 0x2000_0000, type: "ram" },
  ]);
  const cases: [MemoryMap, boolean, string[], number][] = [
    [map, true, ["100000000-1bfffffff : System RAM"], 0],
    [map, false, [], 1],
    [straddle, true, ["f0000000-10fffffff : System RAM"], 0],
    [straddle, false, [], 1],
  ];
  for (const [m, wide, highLines, droppedCount] of cases) {
    const tree = new ResourceTree({ end: 2 ** 40 - 1 });
    const dropped = e820ReserveResources(tree, m, { e820_64bit: wide });
    assert.equal(dropped.length, droppedCount);
    const high = tree.format().split("\n").filter((l) =>
      /^[0-9a-f]+-[0-9a-f]{9,}/.test(l) && !l.startsWith(" ")
    );
    assert.deepEqual(high, highLines);
  }
});

Deno.test("iomem: /proc/iomem format with kernel and crash children", () => {
  const map = new MemoryMap(sixGib);
  const tree = new ResourceTree({ end: 2 ** 40 - 1 });
  e820ReserveResources(tree, map, {
    kernelCode: { start: 0x100000, end: 0x3fffff },
    kernelData: { start: 0x400000, end: 0x4fffff },
    crashKernel: { start: 0x1000000, end: 0x4ffffff },
  });
  tree.insert({ start: 0xfee00000, end: 0xfee00fff, name: "Local APIC" });
  tree.insert({ start: 0xfec00000, end: 0xfec003ff, name: "IOAPIC 0" });
  assert.equal(
    tree.format(),
    [
      "00000000-0009f7ff : System RAM",
      "0009f800-0009ffff : reserved",
      "000e0000-000fffff : reserved",
      "00100000-bffeffff : System RAM",
      "  00100000-003fffff : Kernel code",
      "  00400000-004fffff : Kernel data",
      "  01000000-04ffffff : Crash kernel",
      "bfff0000-bfff7fff : ACPI Tables",
      "bfff8000-bfffffff : ACPI Non-volatile Storage",
      "fec00000-fec00fff : reserved",
      "  fec00000-fec003ff : IOAPIC 0",
      "fee00000-fee00fff : Local APIC",
      "  fee00000-fee00fff : reserved",
      "fffe0000-ffffffff : reserved",
      "100000000-1bfffffff : System RAM",
      "",
    ].join("\n"),
  );
  assert.equal(tree.find("Crash kernel")?.start, 0x1000000);
});

Deno.test("ResourceTree.request fails on conflicts like request_resource", () => {
  const tree = new ResourceTree({ end: 0xffffffff });
  const ram = tree.request({ start: 0x100000, end: 0xffffff, name: "System RAM" });
  assert.throws(
    () => tree.request({ start: 0xfff000, end: 0x1000fff, name: "x" }),
    (e: unknown) => e instanceof ResourceConflictError && e.conflict === ram,
  );
  assert.throws(
    () => tree.request({ start: 0x50000, end: 0x1fffff, name: "y" }, ram),
    /not inside/,
  );
  assert.throws(
    () => tree.insert({ start: 0x800000, end: 0x1800000, name: "z" }),
    /partly overlaps/,
  );
  tree.request({ start: 0, end: 0x9ffff, name: "System RAM" });
  assert.deepEqual(tree.root.children.map((c) => c.start), [0, 0x100000]);
});
