import assert from "node:assert/strict";
import {
  boardCpuModel,
  BoardError,
  boards,
  buildMachine,
  closest,
  type MachineConfig,
  planMachine,
} from "./platforms.ts";
import { fakeCpuOptions, idleCpu, X86_MODEL_INFO } from "./testdata/fake_cpu.ts";

const options = fakeCpuOptions(idleCpu);

Deno.test("every built-in board builds with its defaults", () => {
  for (const name of Object.keys(boards)) {
    const m = buildMachine({ board: name }, options);
    const b = boards[name];
    assert.equal(m.cpus.length, b.defaultCount, name);
    assert.equal(m.cpuModel.name, b.defaultCpu, name);
    assert.equal(m.memoryMap.ramBytes() > b.defaultMemory - 0x200000, true, name);
    assert.equal(m.lapics.length, b.localApic ? b.defaultCount : 0, name);
    assert.equal(m.ioapic !== undefined, b.ioapic, name);
    assert.equal(m.imcr !== undefined, b.imcr, name);
  }
  assert.equal(boardCpuModel({ board: "pc-legacy" }), "i486");
  assert.equal(boardCpuModel({ board: "pc-legacy", cpu: { model: "i386" } }), "i386");
});

Deno.test("x86-64 boards lay RAM above 4 GiB around the PCI hole", () => {
  const plan = planMachine({ board: "opteron" }, options);
  const ram = plan.memoryMap.entries.filter((e) => e.type === "ram");
  assert.deepEqual(ram.map((e) => [e.base, e.base + e.size]), [
    [0, 0x9fc00],
    [0x100000, 0xbfff0000],
    [0x1_0000_0000, 0x1_c000_0000],
  ]);
  assert.equal(plan.memoryMap.typeAt(0xbfff0000), "acpi");
  assert.equal(plan.memoryMap.typeAt(0xbfff8000), "nvs");
  assert.equal(plan.memoryMap.typeAt(0xfec00000), "reserved");
  assert.equal(plan.memoryMap.typeAt(0xfee00000), "reserved");
  assert.equal(plan.memoryMap.typeAt(0xd0000000), undefined); // PCI hole
  const legacy = planMachine({ board: "pc-legacy", memory: 16n << 20n }, options);
  assert.deepEqual(
    legacy.memoryMap.entries.map((e) => [e.base, e.size, e.type]),
    [
      [0, 0x9fc00, "ram"],
      [0x9fc00, 0x400, "reserved"],
      [0xe0000, 0x20000, "reserved"],
      [0x100000, 0xf00000, "ram"],
      [0xfffe0000, 0x20000, "reserved"],
    ],
  );
});

Deno.test("impossible machines throw BoardError with the config path", () => {
  const cases: [MachineConfig, string, RegExp][] = [
    [
      { board: "pc-ioapci" },
      "machine.board",
      /Unknown board: pc-ioapci \(did you mean "pc-ioapic"\?\)/,
    ],
    [{ board: "pc-legacy", cpu: { model: "i468" } }, "machine.cpu.model", /did you mean "i486"/],
    [{ board: "pc-legacy", cpu: { count: 2 } }, "machine.cpu.count", /2 CPUs need local APICs/],
    [
      { board: "pc-legacy", cpu: { model: "pentium", count: 2 } },
      "machine.cpu.count",
      /need local APICs/,
    ],
    [
      { board: "pc-ioapic", cpu: { model: "i486" } },
      "machine.cpu.model",
      /no local APIC: an IOAPIC/,
    ],
    [
      { board: "pc-legacy", wiring: { pic_output: "ioapic" } },
      "machine.wiring.pic_output",
      /i486 has no local APIC: an IOAPIC needs local APICs/,
    ],
    [
      { board: "pc-legacy", wiring: { pic_output: "lint0" } },
      "machine.wiring.pic_output",
      /virtual wire A needs LINT0/,
    ],
    [{ board: "opteron", cpu: { model: "pentium4-xeon" } }, "machine.cpu.model", /no long mode/],
    [{ board: "xeon-nocona", cpu: { model: "i386" } }, "machine.cpu.model", /no long mode/],
    [{ board: "pc-ioapic", cpu: { count: 0 } }, "machine.cpu.count", /1\.\.255/],
    [{ board: "pc-ioapic", cpu: { count: 256 } }, "machine.cpu.count", /1\.\.255/],
    [{ board: "pc-imcr", cpu: { count: 15 } }, "machine.cpu.count", /4-bit APIC IDs of pentium/],
    [{ board: "pc-legacy", memory: 4n << 30n }, "machine.memory", /beyond the 32-bit physical/],
    [{ board: "xeon-nocona", memory: 64n << 30n }, "machine.memory", /MAXPHYADDR 36/],
    [{ board: "opteron", memory: 1n << 40n }, "machine.memory", /MAXPHYADDR 40/],
    [{ board: "pc-legacy", memory: 1n << 20n }, "machine.memory", /at least 2 MiB/],
    [
      { board: "pc-legacy", memory: 16777217 },
      "machine.memory",
      /not a whole number of pages: 0x1000001 bytes \(expected a multiple of 4 KiB\)$/,
    ],
    [
      { board: "opteron", memory: (6n << 30n) + 0x800n },
      "machine.memory",
      /expected a multiple of 4 KiB/,
    ],
    [
      {
        board: "pc-legacy",
        memory: [
          { base: 0n, size: 0x9fc00n, type: "ram" },
          { base: 0x9fbffn, size: 0x401n, type: "reserved" },
        ],
      },
      "machine.memory[1].base",
      /range 1 \[0x9fbff-0x9ffff\] overlaps range 0/,
    ],
    [
      {
        board: "pc-lapic",
        memory: [
          { base: 0n, size: 0x9f000n, type: "ram" },
          { base: 0x100000n, size: 0x1000000n, type: "ram" },
          { base: 0x800000n, size: 0x1000n, type: "acpi" },
        ],
      },
      "machine.memory[2].base",
      /range 2 \[0x800000-0x800fff\] overlaps range 1/,
    ],
    [
      { board: "pc-lapic", memory: [{ base: 0x100000n, size: 0x1000000000n, type: "ram" }] },
      "machine.memory[0].size",
      /beyond the 36-bit physical address space/,
    ],
    [
      { board: "pc-lapic", memory: [{ base: 0xfe000000n, size: 0x1000000n, type: "ram" }] },
      "machine.memory[0].base",
      /overlaps the local APICs/,
    ],
    [
      { board: "pc-legacy", memory: [{ base: 0xc0000n, size: 0x40000n, type: "ram" }] },
      "machine.memory[0].base",
      /overlaps the BIOS ROM at 0xe0000/,
    ],
    [
      { board: "pc-lapic", memory: [{ base: 0xff000000n, size: 0x1000000n, type: "ram" }] },
      "machine.memory[0].base",
      /overlaps the BIOS ROM at 0xfffe0000/,
    ],
    [
      { board: "pc-lapic", memory: [{ base: 0x100000n, size: 0n, type: "ram" }] },
      "machine.memory[0].size",
      /bad size/,
    ],
    [
      { board: "pc-ioapic", wiring: { extint_pin: 24 } },
      "machine.wiring.extint_pin",
      /ExtINT pin 24 is beyond the IOAPIC's 24 pins/,
    ],
    [
      { board: "pc-ioapic", wiring: { extint_pin: 3 } },
      "machine.wiring.extint_pin",
      /already carries ISA IRQ3/,
    ],
    [{ board: "pc-lapic", wiring: { extint_pin: 0 } }, "machine.wiring.extint_pin", /no IOAPIC/],
    [{ board: "pc-ioapic", wiring: { ioapic_pins: 8 } }, "machine.wiring.ioapic_pins", /16\.\.64/],
    [
      { board: "pc-legacy", mptable: { present: true } },
      "machine.mptable.present",
      /describes local APICs/,
    ],
    [{ board: "pc-lapic", mptable: { extint_pin: 0 } }, "machine.mptable.extint_pin", /no IOAPIC/],
    [
      { board: "pc-ioapic", mptable: { present: false, imcr: true } },
      "machine.mptable.imcr",
      /not present/,
    ],
    [{ board: "pc-ioapic", timing: { quantum: 0 } }, "machine.timing.quantum", /positive/],
  ];
  for (const [config, path, message] of cases) {
    assert.throws(() => planMachine(config, options), (e: unknown) => {
      assert.ok(e instanceof BoardError, `${path}: ${e}`);
      assert.ok(e instanceof RangeError);
      assert.equal(e.path, path, e.message);
      assert.match(e.message, message);
      assert.ok(e.message.startsWith(`${path}: `));
      return true;
    });
  }
});

Deno.test("explicit e820 ranges may be byte-granular, a total RAM size is whole pages", () => {
  const ranges = [
    { base: 0n, size: 0x9fc00n, type: "ram" },
    { base: 0x9fc00n, size: 0x400n, type: "reserved" },
    { base: 0xf0000n, size: 0x10000n, type: "reserved" },
    { base: 0x100000n, size: 0xeff123n, type: "ram" },
    { base: 0xfff123n, size: 0xeddn, type: "acpi" },
  ] as const;
  const plan = planMachine({ board: "pc-legacy", memory: [...ranges] }, options);
  assert.deepEqual(
    plan.memoryMap.entries.map((e) => [e.base, e.size, e.type]),
    ranges.map((r) => [Number(r.base), Number(r.size), r.type]),
  );
  for (const size of [2n << 20n, (16n << 20n) + 0x1000n, 0x1ffff000n]) {
    // Everything but the EBDA KiB and the 0xA0000-0xFFFFF hole is RAM.
    const p = planMachine({ board: "pc-legacy", memory: size }, options);
    assert.equal(p.memoryMap.ramBytes(), Number(size) - 0x400 - 0x60000, String(size));
  }
});

Deno.test("a resolved CPU that differs from cpu.model is refused", () => {
  assert.throws(
    () =>
      planMachine({ board: "pc-legacy", cpu: { model: "i386" } }, {
        cpu: { factory: idleCpu, info: X86_MODEL_INFO.i486 },
      }),
    (e: unknown) => e instanceof BoardError && e.path === "machine.cpu.model",
  );
});

Deno.test("wiring overrides change which devices exist", () => {
  const p = planMachine(
    { board: "pc-lapic", wiring: { pic_output: "ioapic", extint_pin: 16 } },
    options,
  );
  assert.equal(p.ioapic?.pins, 24);
  assert.equal(p.extintPin, 16);
  assert.deepEqual(
    p.mp?.ioInterrupts.filter((e) => e.type === "ExtINT").map((e) => e.pin),
    [16],
  );
  const legacy386 = planMachine({ board: "pc-legacy", cpu: { model: "i386" } }, options);
  assert.equal(legacy386.localApic, false);
  assert.equal(legacy386.mp, undefined);
  assert.equal(legacy386.elcr, false);
});

Deno.test("closest suggests only near names", () => {
  assert.equal(closest("opteorn", ["opteron", "i386"]), "opteron");
  assert.equal(closest("zzzzzz", ["opteron", "i386"]), undefined);
});
