import assert from "node:assert/strict";
import { findMpTables, readE820Copy } from "./firmware.ts";
import { MachineError } from "./machine.ts";
import type { Machine } from "./machine.ts";
import { CHUNK_SIZE } from "./memory.ts";
import { decodeE820Table } from "./memory_map.ts";
import { buildMachine, type MachineConfig } from "./platforms.ts";
import { RegisterValue } from "./fields.ts";
import type { Snapshot } from "./fields.ts";
import { FakeCpu, fakeCpuOptions, type Op } from "./testdata/fake_cpu.ts";

// Operations.
const outb = (port: number, value: number): Op => (c) => c.env.io.write(port, 1, value);
const nop: Op = () => {};
const hlt: Op = (c) => {
  c.runState = c.ifFlag ? "halted" : "stopped";
};
const cli: Op = (c) => {
  c.ifFlag = false;
};
const print = (s: string): Op[] => [...s].map((ch) => outb(0xe9, ch.charCodeAt(0)));
const mmio32 = (addr: number, value: number): Op => (c) => c.env.bus.write(addr, 4, value, c.index);

function build(
  config: MachineConfig,
  programs: Op[][] = [[]],
): { m: Machine; cpu: FakeCpu[] } {
  const cpus: FakeCpu[] = [];
  const model = config.cpu?.model;
  const m = buildMachine(
    config,
    fakeCpuOptions((env) => {
      const c = new FakeCpu(env, programs[env.index] ?? []);
      cpus.push(c);
      return c;
    }),
  );
  assert.equal(m.cpuModel.name, model ?? m.cpuModel.name);
  return { m, cpu: cpus };
}

function field(v: unknown, name: string): bigint {
  assert.ok(v instanceof RegisterValue, `expected a RegisterValue, got ${v}`);
  return v.field(name);
}

Deno.test("firmware: MP table, e820 copy, BIOS ROM and post-BIOS device state", () => {
  const { m } = build({ board: "pc-ioapic", cpu: { model: "pentium4-xeon", count: 2 } });
  const mp = findMpTables(m.memory);
  assert.ok(mp);
  assert.equal(mp.floatingAddr, 0x9fc00);
  assert.equal(mp.imcr, false);
  assert.deepEqual(
    mp.processors.map((p) => [p.apicId, p.bsp, p.enabled, p.apicVersion, p.signature, p.features]),
    [
      [0, true, true, 0x14, 0x0f27, 0x3febfbff],
      [1, false, true, 0x14, 0x0f27, 0x3febfbff],
    ],
  );
  assert.deepEqual(mp.ioApics, [{ id: 2, version: 0x11, enabled: true, address: 0xfec00000 }]);
  const extint = mp.ioInterrupts.filter((e) => e.type === "ExtINT");
  assert.deepEqual(extint.map((e) => e.pin), [0]);
  const irq0 = mp.ioInterrupts.find((e) => e.type === "INT" && e.busIrq === 0);
  assert.equal(irq0?.pin, 2);
  assert.equal(mp.ioInterrupts.length, 16);
  assert.deepEqual(mp.localInterrupts.map((e) => [e.type, e.lint, e.apicId]), [
    ["ExtINT", 0, 0xff],
    ["NMI", 1, 0xff],
  ]);
  // e820 copy reads back as the machine's map.
  const copy = readE820Copy(m.memory)!;
  assert.deepEqual(decodeE820Table(copy, copy.length / 20), m.memoryMap.entries);
  // Reset vector and IVT.
  assert.equal(m.memory.read8(0xfffffff0), 0xea);
  assert.equal(m.memory.read32(0x08 * 4), 0xf000ff53);
  // Post-BIOS device state, read through snapshots.
  const s = m.snapshot();
  const pic = s.pic as Snapshot;
  assert.equal(Number(field((pic.master as Snapshot).imr, "ir0")), 1);
  assert.equal((pic.master as Snapshot).vector_base, 0x08);
  assert.equal((pic.slave as Snapshot).vector_base, 0x70);
  const lapic0 = (s.lapic as Snapshot)["0"] as Snapshot;
  assert.equal(field(lapic0.lvt0, "delivery"), 7n);
  assert.equal(field(lapic0.lvt0, "masked"), 0n);
  assert.equal(field(lapic0.lvt1, "delivery"), 4n);
  assert.equal(field(lapic0.lvt0, "trigger"), 0n, "MP spec A.3: edge-triggered ExtINT");
  assert.equal(field(lapic0.lvt1, "trigger"), 1n, "MP spec A.3: level-triggered NMI");
  assert.equal(field(lapic0.svr, "enabled"), 1n);
  const lapic1 = (s.lapic as Snapshot)["1"] as Snapshot;
  assert.equal(field(lapic1.svr, "enabled"), 0n);
  const pins = (s.ioapic as Snapshot).pins as Snapshot;
  for (let p = 0; p < 24; p++) {
    assert.equal(field((pins[String(p)] as Snapshot).raw ?? pins[String(p)], "masked"), 1n);
  }
});

Deno.test("firmware: the MP table can lie and the IMCR flag follows the board", () => {
  const cases: [MachineConfig, boolean | undefined, number[]][] = [
    [{ board: "pc-imcr" }, true, []],
    [{ board: "pc-imcr", mptable: { imcr: false } }, false, []],
    [{ board: "pc-ioapic", mptable: { extint_pin: 16 } }, false, [16]],
    [{ board: "pc-ioapic", mptable: { extint_pin: null } }, false, []],
    [{ board: "pc-ioapic", mptable: { present: false } }, undefined, []],
    [{ board: "pc-legacy" }, undefined, []],
  ];
  for (const [config, imcr, extint] of cases) {
    const { m } = build(config);
    const mp = findMpTables(m.memory);
    assert.equal(mp?.imcr, imcr, JSON.stringify(config));
    assert.deepEqual(
      (mp?.ioInterrupts ?? []).filter((e) => e.type === "ExtINT").map((e) => e.pin),
      extint,
    );
  }
});

/** Unmask IRQ3 on the master and raise it: where does the INTA go? */
function irq3Program(): Op[] {
  return [outb(0x21, 0xf3), (c) => c.env.io.read(0x21, 1), nop, nop, nop];
}

Deno.test("wiring: the 8259 reaches the BSP through each board's path", () => {
  const cases: [MachineConfig, Op[], number[]][] = [
    // Legacy: straight to INTR.
    [{ board: "pc-legacy" }, [], [0x0b]],
    // IMCR in PIC mode: straight to INTR even with LINT0 masked.
    [{ board: "pc-imcr", cpu: { count: 1 } }, [mmio32(0xfee00350, 0x10700)], [0x0b]],
    // IMCR in APIC mode with LINT0 masked: nothing arrives.
    [
      { board: "pc-imcr", cpu: { count: 1 } },
      [outb(0x22, 0x70), outb(0x23, 0x01), mmio32(0xfee00350, 0x10700)],
      [],
    ],
    // IMCR in APIC mode, BIOS state: LINT0 left masked in a PIC-mode configuration (MP spec §5).
    [{ board: "pc-imcr", cpu: { count: 1 } }, [outb(0x22, 0x70), outb(0x23, 0x01)], []],
    // IMCR in APIC mode, LINT0 ExtINT (what the OS programs): via the local APIC.
    [
      { board: "pc-imcr", cpu: { count: 1 } },
      [outb(0x22, 0x70), outb(0x23, 0x01), mmio32(0xfee00350, 0x700)],
      [0x0b],
    ],
    // Virtual wire A.
    [{ board: "pc-lapic" }, [], [0x0b]],
    // Virtual wire A with the APIC software-disabled: LINT0 forced masked.
    [{ board: "pc-lapic" }, [mmio32(0xfee000f0, 0x0ff)], []],
    // Virtual wire B: the IOAPIC pin is masked after the BIOS.
    [{ board: "pc-ioapic", cpu: { count: 1 } }, [], []],
    // Virtual wire B: program pin 0 ExtINT to APIC 0.
    [
      { board: "pc-ioapic", cpu: { count: 1 } },
      [
        mmio32(0xfec00000, 0x10),
        mmio32(0xfec00010, 0x700),
        mmio32(0xfec00000, 0x11),
        mmio32(0xfec00010, 0),
      ],
      [0x0b],
    ],
  ];
  for (const [config, setup, expected] of cases) {
    const { m, cpu } = build(config, [[...setup, ...irq3Program()]]);
    m.run({ until: "budget", maxInstructions: setup.length + 1 });
    m.setIrq(3, true);
    m.run({ until: "halt", maxInstructions: 100 });
    assert.deepEqual(cpu[0].vectors, expected, `${JSON.stringify(config)} ${setup.length}`);
  }
});

Deno.test("wiring: IRQ0 reaches IOAPIC pin 2 and level IRQs keep remote IRR", () => {
  const { m, cpu } = build({ board: "pc-ioapic", cpu: { count: 1 } }, [[
    mmio32(0xfec00000, 0x10 + 2 * 2),
    mmio32(0xfec00010, 0x30), // pin 2: vector 0x30, fixed, edge, unmasked
    mmio32(0xfec00000, 0x10 + 2 * 10),
    mmio32(0xfec00010, 0x8031), // pin 10: vector 0x31, level
    nop,
    nop,
    nop,
    nop,
  ]]);
  m.run({ until: "budget", maxInstructions: 4 });
  // The PIT already holds IRQ0 high since the POST programmed it: make a fresh edge.
  m.setIrq(0, false);
  m.setIrq(0, true);
  m.setIrq(10, true);
  m.run({ until: "budget", maxInstructions: 2 });
  // 0x31 first (higher vector), then 0x30 is held back by PPR: same priority class.
  assert.deepEqual(cpu[0].vectors, [0x31]);
  const remoteIrr = () => {
    const pins = (m.snapshot().ioapic as Snapshot).pins as Snapshot;
    return field(pins["10"], "remote_irr");
  };
  assert.equal(remoteIrr(), 1n);
  m.setIrq(10, false);
  m.bus.write(0xfee000b0, 4, 0, 0); // EOI: level vector 0x31 -> IOAPIC clears remote IRR
  assert.equal(remoteIrr(), 0n);
  m.run({ until: "budget", maxInstructions: 1 });
  assert.deepEqual(cpu[0].vectors, [0x31, 0x30]);
});

Deno.test("run: exit, halt, all-halted, budget and time skipping", () => {
  const { m, cpu } = build({ board: "pc-legacy" }, [[...print("hi\n"), outb(0xf4, 7), nop]]);
  const r = m.run({ until: "halt", maxInstructions: 1000 });
  assert.deepEqual(r, { reason: "exit", instructions: 4, time: 40, exitCode: 7 });
  assert.equal(m.console, "hi\n");
  assert.equal(m.run({ until: "budget", maxInstructions: 1 }).reason, "budget");
  assert.equal(m.run({ until: "halt", maxInstructions: 10 }).reason, "halted");
  assert.equal(cpu[0].runState, "stopped");
  assert.throws(() => m.run({ until: "never" as "halt", maxInstructions: 1 }), MachineError);
  assert.throws(() => m.run({ until: "halt", maxInstructions: 0 }), MachineError);

  // A HLT with the PIT ticking: time skips to the PIT's IRQ0 edges; the run ends at the exit.
  const ticks: Op[] = [
    outb(0x21, 0xfe), // unmask IRQ0: the edge latched when the POST programmed the PIT arrives
    outb(0x20, 0x20),
    hlt,
    outb(0x20, 0x20),
    hlt,
    outb(0x20, 0x20),
    outb(0xf4, 0),
  ];
  const t = build({ board: "pc-legacy" }, [ticks]);
  const res = t.m.run({ until: "exit", maxInstructions: 20_000_000 });
  assert.equal(res.reason, "exit");
  assert.equal(res.instructions, 7);
  assert.deepEqual(t.cpu[0].vectors, [0x08, 0x08, 0x08]);
  // Asleep with IRQ0 in service and no EOI: the budget bounds the idle time.
  const stuck = build({ board: "pc-legacy" }, [[outb(0x21, 0xfe), hlt]]);
  const sr = stuck.m.run({ until: "exit", maxInstructions: 1_000_000 });
  assert.equal(sr.reason, "budget");
  assert.equal(sr.instructions, 2);
  assert.ok(sr.time > 10_000_000 - 20 && sr.time <= 10_000_000, `time ${sr.time}`);
  // Mode 3 with count 65536: the output rises every 65536 / 1.193182 MHz = 54.925 ms.
  assert.ok(res.time > 2 * 54_900_000 && res.time < 2 * 54_950_000, `time ${res.time}`);
});

Deno.test("run: all-halted with two CPUs and INIT/SIPI through the ICR", () => {
  const bsp: Op[] = [
    mmio32(0xfee00310, 1 << 24),
    mmio32(0xfee00300, 0x00004500), // INIT
    mmio32(0xfee00300, 0x00004608), // SIPI vector 8
    cli,
    hlt,
  ];
  const ap: Op[] = [...print("ap\n"), cli, hlt];
  const { m, cpu } = build({ board: "pc-lapic", cpu: { count: 2 } }, [bsp, ap]);
  const r = m.run({ until: "all-halted", maxInstructions: 10_000 });
  assert.equal(r.reason, "all-halted");
  assert.equal(cpu[1].sipiVector, 8);
  assert.equal(m.console, "ap\n");
  assert.deepEqual(cpu.map((c) => c.runState), ["stopped", "stopped"]);
});

Deno.test("run: deterministic interleaving by quantum", () => {
  const prog = (ch: string): Op[] => [...print(ch.repeat(6)), cli, hlt];
  const runOnce = () => {
    const { m, cpu } = build(
      { board: "pc-lapic", cpu: { count: 2 }, timing: { quantum: 2 } },
      [prog("a"), prog("b")],
    );
    cpu[1].runState = "running";
    m.run({ until: "all-halted", maxInstructions: 1000 });
    return m.console;
  };
  assert.equal(runOnce(), "aabbaabbaabb");
  assert.equal(runOnce(), runOnce());
});

Deno.test("NMI goes to the BSP pin in PIC mode and through LINT1 otherwise", () => {
  const legacy = build({ board: "pc-legacy" }, [[nop]]);
  legacy.m.nmi();
  assert.equal(legacy.cpu[0].nmis.length, 1);
  const lapic = build({ board: "pc-lapic" }, [[nop]]);
  lapic.m.nmi();
  assert.equal(lapic.cpu[0].nmis.length, 1); // BIOS: LINT1 = NMI
});

Deno.test("IMCR board: INTR and NMI reach LINT0/LINT1 of every local APIC in both modes", () => {
  // MP spec §5: in PIC-mode configurations the 8259 INTR and NMI are wired to LINTIN0/LINTIN1 of
  // all local APICs and to the IMCR mux; the mux drives the BSP's INTR/NMI pins in PIC mode only.
  // Rows: IMCR APIC mode?, LVT LINT1 programmed on [BSP, AP] (else BIOS state: masked),
  // expected NMIs seen by [BSP, AP].
  const rows: [boolean, [boolean, boolean], [number, number]][] = [
    [false, [false, false], [1, 0]], // PIC mode, BIOS state: the mux only
    [false, [false, true], [1, 1]], // PIC mode: an AP that unmasks LINT1 sees NMI too
    [false, [true, false], [2, 0]], // PIC mode, BSP LINT1 unmasked: pin and LINT1 (why it must not be)
    [true, [false, false], [0, 0]], // APIC mode, LINT1 masked everywhere: NMI goes nowhere
    [true, [true, false], [1, 0]], // APIC mode, Linux's BSP LINT1 = NMI
    [true, [true, true], [1, 1]],
  ];
  for (const [apicMode, lint1, expected] of rows) {
    const { m, cpu } = build({ board: "pc-imcr", cpu: { count: 2 } }, [[nop], [nop]]);
    if (apicMode) {
      m.io.write(0x22, 1, 0x70);
      m.io.write(0x23, 1, 0x01);
    }
    for (const i of [0, 1]) {
      assert.equal(field(m.lapics[i].snapshot().lvt1, "masked"), 1n, "BIOS leaves LINT1 masked");
      if (!lint1[i]) continue;
      m.lapics[i].mmioWrite(0xf0, 4, 0x1ff);
      m.lapics[i].mmioWrite(0x360, 4, 0x400);
    }
    m.nmi();
    assert.deepEqual(
      [cpu[0].nmis.length, cpu[1].nmis.length],
      expected,
      JSON.stringify(
        { apicMode, lint1 },
      ),
    );
  }
});

Deno.test("IMCR board: an AP with LINT0 ExtINT sees the 8259 INTR even in PIC mode", () => {
  for (const apicMode of [false, true]) {
    const { m } = build({ board: "pc-imcr", cpu: { count: 2 } }, [[nop], [nop]]);
    if (apicMode) {
      m.io.write(0x22, 1, 0x70);
      m.io.write(0x23, 1, 0x01);
    }
    m.lapics[1].mmioWrite(0xf0, 4, 0x1ff);
    m.lapics[1].mmioWrite(0x350, 4, 0x700);
    m.io.write(0x21, 1, 0xf7); // unmask IRQ3
    m.setIrq(3, true);
    assert.equal(m.lapics[1].intrPending, true, `AP INTR, apicMode=${apicMode}`);
    assert.equal(m.lapics[0].intrPending, false, "BSP LINT0 left masked by the BIOS");
    assert.equal(m.lapics[1].acknowledge(), 0x0b);
    assert.equal(m.lapics[1].intrPending, false);
  }
});

Deno.test("IA32_APIC_BASE writes move or unmap the local APIC window", () => {
  const { m, cpu } = build({ board: "pc-lapic" }, [[nop]]);
  assert.equal(m.bus.read(0xfee00030, 4, 0), 0x00050014);
  cpu[0].env.pins.apicBaseWritten!(0xfed00900n);
  assert.equal(m.bus.read(0xfed00030, 4, 0), 0x00050014);
  assert.equal(m.bus.read(0xfee00030, 4, 0), 0xffffffff);
  cpu[0].env.pins.apicBaseWritten!(0xfee00100n); // EN = 0
  assert.equal(m.bus.read(0xfee00030, 4, 0), 0xffffffff);
  assert.equal(m.bus.read(0xfed00030, 4, 0), 0xffffffff);
});

Deno.test("loadBootsector writes 512 bytes at 0x7c00 and refuses bad sizes", () => {
  const { m } = build({ board: "pc-legacy" });
  const img = new Uint8Array(512);
  img[0] = 0xfa;
  img[510] = 0x55;
  img[511] = 0xaa;
  m.loadBootsector(img);
  assert.equal(m.memory.read8(0x7c00), 0xfa);
  assert.equal(m.memory.read16(0x7dfe), 0xaa55);
  assert.throws(() => m.loadBootsector(new Uint8Array(513)), /1 to 512 bytes: got 513/);
  assert.throws(() => m.loadBootsector(new Uint8Array(0)), MachineError);
});

Deno.test("a 1 TiB-class opteron board costs one chunk per touched MiB", () => {
  // K8 has MAXPHYADDR 40: 1023 GiB of RAM plus the 1 GiB PCI hole fill the 1 TiB space.
  const { m } = build({ board: "opteron", memory: 1023n << 30n });
  const top = m.memoryMap.end;
  assert.equal(top, 2 ** 40);
  const before = m.memory.allocatedBytes;
  assert.equal(before, 2 * CHUNK_SIZE); // the first MiB and the BIOS ROM mirror below 4 GiB
  m.bus.write(top - 8, 4, 0x12345678, 0);
  assert.equal(m.bus.read(top - 8, 4, 0), 0x12345678);
  assert.equal(m.memory.allocatedBytes - before, CHUNK_SIZE);
  assert.match(m.iomem().format(), /^100000000-ffffffffff : System RAM$/m);
  assert.doesNotMatch(m.iomem({ e820_64bit: false }).format(), /^100000000-/m);
});

Deno.test("firmware: a large MP table moves to the BIOS ROM area and is still found", () => {
  const { m } = build({ board: "opteron", cpu: { count: 60 } });
  const mp = findMpTables(m.memory);
  assert.ok(mp);
  assert.equal(mp.floatingAddr, 0x9fc00);
  assert.equal(mp.configAddr, 0xf0000);
  assert.equal(mp.processors.length, 60);
  assert.deepEqual(mp.processors.filter((p) => p.bsp).map((p) => p.apicId), [0]);
  assert.equal(mp.ioApics[0].id, 15);
  // The e820 copy is untouched by the table.
  assert.equal(decodeE820Table(readE820Copy(m.memory)!, 10).length, 10);
});
