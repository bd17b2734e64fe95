import assert from "node:assert/strict";
import { encodeMpTables, findMpTables } from "../../hw/firmware.ts";
import { PhysicalMemory } from "../../hw/memory.ts";
import { floatingPointer, ISA_MP_CONFIG } from "../../hw/testdata/mp_tables.ts";
import { findSmpConfig } from "./kexec_pc.ts";

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
