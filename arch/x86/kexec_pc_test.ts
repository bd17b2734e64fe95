import assert from "node:assert/strict";
import { encodeMpTables, findMpTables } from "../../hw/firmware.ts";
import { PhysicalMemory } from "../../hw/memory.ts";
import { floatingPointer, ISA_MP_CONFIG } from "../../hw/testdata/mp_tables.ts";
import { findIsaIrqPin, findSmpConfig } from "./kexec_pc.ts";

/** Memory with a BDA (EBDA segment, base KiB), a floating pointer at `at` and its table. */
function machineMemory(
  options: { at: number; specRev?: number; ebdaSeg?: number; baseKiB?: number },
): PhysicalMemory {
  const mem = new PhysicalMemory({ addressSpace: 2 ** 32 });
  mem.write16(0x40e, options.ebdaSeg ?? 0x9fc0);
  mem.write16(0x413, options.baseKiB ?? 639);
  const configAddr = 0xf8000;
  mem.writeBytes(options.at, floatingPointer(configAddr, (fp) => fp[9] = options.specRev ?? 4));
  mem.writeBytes(configAddr, encodeMpTables(ISA_MP_CONFIG, { configAddr }).config);
  return mem;
}

Deno.test("findSmpConfig: Linux's scan against the firmware's", () => {
  // [case, memory, address the kernel finds (undefined: none), address findMpTables finds]
  const cases: [string, PhysicalMemory, number | undefined, number | undefined][] = [
    ["spec 1.4 in the EBDA", machineMemory({ at: 0x9fc00 }), 0x9fc00, 0x9fc00],
    ["spec 1.1 in the F segment", machineMemory({ at: 0xf5a30, specRev: 1 }), 0xf5a30, 0xf5a30],
    [
      "spec revision 2: smp_scan_config wants 1 or 4",
      machineMemory({ at: 0x9fc00, specRev: 2 }),
      undefined,
      0x9fc00,
    ],
    ["spec revision 0", machineMemory({ at: 0xf0000, specRev: 0 }), undefined, 0xf0000],
    [
      "last KiB of 512 KiB base memory, no EBDA: only the MP spec looks there",
      machineMemory({ at: 0x7fc00, ebdaSeg: 0, baseKiB: 512 }),
      undefined,
      0x7fc00,
    ],
    [
      "in the EBDA at 0x80000: both look there",
      machineMemory({ at: 0x80000, ebdaSeg: 0x8000, baseKiB: 512 }),
      0x80000,
      0x80000,
    ],
  ];
  for (const [name, mem, kernel, firmware] of cases) {
    const found = findSmpConfig(mem);
    assert.equal(found.error, undefined, name);
    assert.equal(found.mp?.floatingAddr, kernel, name);
    assert.equal(findMpTables(mem)?.floatingAddr, firmware, name);
    if (found.mp) {
      assert.deepEqual(found.mp, findMpTables(mem), `${name}: both decode the same tables`);
      assert.equal(found.mp.configAddr, 0xf8000, name);
      assert.equal(found.mp.imcr, true, name);
      assert.deepEqual(found.mp.buses, [{ id: 0, type: "ISA" }], name);
    }
  }
});

Deno.test("findSmpConfig: a broken configuration table is no table, with the reason", () => {
  const mem = machineMemory({ at: 0x9fc00 });
  mem.write8(0xf8000 + 44, 0x42); // bus entry: the checksum no longer adds up
  assert.deepEqual(findSmpConfig(mem), {
    error: "MP configuration table at 0xf8000: bad checksum",
  });
  // An invalid floating pointer earlier in the scan is skipped, not an error.
  const skip = machineMemory({ at: 0x9fc00 });
  skip.writeBytes(0x200, skip.readBytes(0x9fc00, 16));
  skip.write8(0x208, 2); // length 2 paragraphs
  assert.equal(findSmpConfig(skip).mp?.floatingAddr, 0x9fc00);
  assert.deepEqual(findSmpConfig(new PhysicalMemory({ addressSpace: 2 ** 32 })), {});
});

Deno.test("find_isa_irq_pin: first matching I/O interrupt entry from an ISA/EISA/MCA bus", () => {
  const flags = { polarity: "conforms", trigger: "conforms" } as const;
  const io = (
    busId: number,
    type: "INT" | "ExtINT",
    busIrq: number,
    pin: number,
    ioApicId = 2,
  ) => ({
    ...flags,
    busId,
    type,
    busIrq,
    pin,
    ioApicId,
  });
  const buses = [
    { id: 0, type: "PCI" },
    { id: 1, type: "ISA" },
    { id: 2, type: "EISA" },
    {
      id: 3,
      type: "MCA",
    },
    { id: 4, type: "ISAX" },
    { id: 5, type: " ISA" },
  ];
  const table = (ioInterrupts: ReturnType<typeof io>[]) =>
    ({
      floatingAddr: 0xf0000,
      configAddr: 0xf0010,
      imcr: false,
      lapicAddress: 0xfee00000,
      oemId: "",
      productId: "",
      processors: [],
      buses,
      ioApics: [{ id: 2, version: 0x11, enabled: true, address: 0xfec00000 }],
      ioInterrupts,
      localInterrupts: [{ ...flags, type: "ExtINT", busId: 1, busIrq: 0, apicId: 0xff, lint: 0 }],
    }) as Parameters<typeof findIsaIrqPin>[0];
  const cases: [string, ReturnType<typeof io>[], number][] = [
    ["ISA ExtINT on pin 0", [io(1, "INT", 0, 2), io(1, "ExtINT", 0, 0)], 0],
    ["the first match in table order wins", [io(1, "ExtINT", 0, 5), io(1, "ExtINT", 0, 0)], 5],
    ["EISA counts as ISA", [io(2, "ExtINT", 0, 3)], 3],
    ["MCA counts as ISA", [io(3, "ExtINT", 0, 4)], 4],
    // MP_bus_info compares with strncmp(str, "ISA", 3): a prefix is enough, a leading blank is not
    ["a type starting with ISA counts", [io(4, "ExtINT", 0, 1)], 1],
    ["a type with a leading blank does not", [io(5, "ExtINT", 0, 1)], -1],
    ["a PCI source bus does not", [io(0, "ExtINT", 0, 7)], -1],
    ["the source IRQ must be 0", [io(1, "ExtINT", 1, 7)], -1],
    ["the type must be ExtINT", [io(1, "INT", 0, 2)], -1],
    ["the destination IO-APIC id is ignored", [io(1, "ExtINT", 0, 6, 9)], 6],
    ["local interrupt entries are not searched", [], -1],
  ];
  for (const [name, entries, pin] of cases) {
    assert.equal(findIsaIrqPin(table(entries), 0, "ExtINT"), pin, name);
  }
  assert.equal(findIsaIrqPin(undefined, 0, "ExtINT"), -1, "no MP table");
});
