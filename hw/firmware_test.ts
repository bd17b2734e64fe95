import assert from "node:assert/strict";
import {
  decodeMpFloatingPointer,
  encodeMpTables,
  findMpTables,
  MpTableError,
  readMpTables,
} from "./firmware.ts";
import { PhysicalMemory } from "./memory.ts";
import { floatingPointer as pointer, ISA_MP_CONFIG as CFG } from "./testdata/mp_tables.ts";

function memoryWith(addr: number, bytes: Uint8Array): PhysicalMemory {
  const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
  mem.writeBytes(addr, bytes);
  return mem;
}

Deno.test("decodeMpFloatingPointer: valid structures decode field by field", () => {
  const cases: [string, Uint8Array, object][] = [
    ["as the BIOS writes it", pointer(0x9fc10), {
      configAddr: 0x9fc10,
      specRev: 4,
      defaultConfig: 0,
      imcr: true,
    }],
    [
      "spec 1.1, no IMCR",
      pointer(0xf0000, (fp) => {
        fp[9] = 1;
        fp[12] = 0;
      }),
      { configAddr: 0xf0000, specRev: 1, defaultConfig: 0, imcr: false },
    ],
    [
      "an unknown spec revision is reported, not judged",
      pointer(0x9fc10, (fp) => {
        fp[9] = 7;
      }),
      { configAddr: 0x9fc10, specRev: 7, defaultConfig: 0, imcr: true },
    ],
    [
      "a default configuration and no table",
      pointer(0, (fp) => {
        fp[11] = 5;
        fp[12] = 0x7f; // only bit 7 is IMCRP
      }),
      { configAddr: 0, specRev: 4, defaultConfig: 5, imcr: false },
    ],
    ["a pointer above 2 GiB stays unsigned", pointer(0xfff00000), {
      configAddr: 0xfff00000,
      specRev: 4,
      defaultConfig: 0,
      imcr: true,
    }],
  ];
  for (const [name, bytes, want] of cases) {
    const mem = memoryWith(0xf5a30, bytes);
    assert.deepEqual(decodeMpFloatingPointer(mem, 0xf5a30), { addr: 0xf5a30, ...want }, name);
  }
});

Deno.test("decodeMpFloatingPointer: says why a structure is invalid", () => {
  const cases: [string, Uint8Array, string][] = [
    ["zeros", new Uint8Array(16), 'no "_MP_" signature'],
    [
      "lower-case signature",
      pointer(0x9fc10, (fp) => {
        fp[1] = 0x6d;
      }),
      'no "_MP_" signature',
    ],
    [
      "two paragraphs",
      pointer(0x9fc10, (fp) => {
        fp[8] = 2;
      }),
      "length 2 (expected 1 paragraph)",
    ],
    [
      "zero length",
      pointer(0x9fc10, (fp) => {
        fp[8] = 0;
      }),
      "length 0 (expected 1 paragraph)",
    ],
    [
      "checksum off by one",
      pointer(0x9fc10, (fp) => {
        fp[10] = (fp[10] + 1) & 0xff;
      }, { fixChecksum: false }),
      "bad checksum",
    ],
    [
      "a flipped feature bit",
      pointer(0x9fc10, (fp) => {
        fp[12] ^= 0x80;
      }, { fixChecksum: false }),
      "bad checksum",
    ],
  ];
  for (const [name, bytes, invalid] of cases) {
    const mem = memoryWith(0x9fc00, bytes);
    assert.deepEqual(decodeMpFloatingPointer(mem, 0x9fc00), { addr: 0x9fc00, invalid }, name);
  }
});

Deno.test("readMpTables: no configuration table, a table, a broken table", () => {
  const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
  const none = readMpTables(mem, {
    addr: 0x9fc00,
    configAddr: 0,
    specRev: 4,
    defaultConfig: 0,
    imcr: true,
  });
  assert.deepEqual(none, {
    floatingAddr: 0x9fc00,
    configAddr: 0,
    imcr: true,
    lapicAddress: 0xfee00000,
    oemId: "",
    productId: "",
    processors: [],
    buses: [],
    ioApics: [],
    ioInterrupts: [],
    localInterrupts: [],
  });

  const { config } = encodeMpTables({ ...CFG, lapicAddress: 0xfee10000 }, { configAddr: 0x9fc10 });
  mem.writeBytes(0x9fc10, config);
  const fp = { addr: 0x9fc00, configAddr: 0x9fc10, specRev: 4, defaultConfig: 0, imcr: false };
  const table = readMpTables(mem, fp);
  assert.equal(table.floatingAddr, 0x9fc00);
  assert.equal(table.configAddr, 0x9fc10);
  assert.equal(table.imcr, false, "the IMCR flag comes from the floating pointer");
  assert.equal(table.lapicAddress, 0xfee10000);
  assert.equal(table.oemId, "OEM");
  assert.deepEqual(table.buses, [{ id: 0, type: "ISA" }]);

  mem.write8(0x9fc10 + 44, 0x55); // inside the bus entry: checksum no longer zero
  assert.throws(() => readMpTables(mem, fp), MpTableError);
});

Deno.test("findMpTables: the first valid pointer in scan order, invalid candidates skipped", () => {
  const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
  const { config } = encodeMpTables(CFG, { configAddr: 0x9fc10 });
  mem.writeBytes(0x9fc10, config);
  // A pointer with a bad checksum in the first KiB, a valid one in the F segment: the F segment
  // wins. A valid one at 639 KiB comes before it in the scan.
  mem.writeBytes(0x100, pointer(0x9fc10, (fp) => fp[10]++, { fixChecksum: false }));
  mem.writeBytes(0xf0120, pointer(0x9fc10));
  assert.equal(findMpTables(mem)?.floatingAddr, 0xf0120);
  mem.writeBytes(0x9fc00, pointer(0, (fp) => fp[12] = 0));
  const found = findMpTables(mem);
  assert.equal(found?.floatingAddr, 0x9fc00);
  assert.equal(found?.configAddr, 0);
  assert.equal(found?.imcr, false);
  assert.deepEqual(found?.buses, []);
  // A bad configuration table behind a valid pointer is an error, not "no tables".
  mem.writeBytes(0x9fc00, pointer(0x9fc10));
  mem.write8(0x9fc10, 0);
  assert.throws(() => findMpTables(mem), MpTableError);
});
