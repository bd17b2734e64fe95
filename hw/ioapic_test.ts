import assert from "node:assert/strict";
import { ApicBus } from "./apic_bus.ts";
import { VirtualClock } from "./clock.ts";
import type { RegisterValue } from "./fields.ts";
import { IoApic, IOAPIC_MMIO } from "./ioapic.ts";
import { LAPIC_REGISTERS as R, LocalApic } from "./lapic.ts";
import { Trace } from "./trace.ts";

interface Cpu {
  intr: boolean;
  nmi: number;
  init: number;
  smi: number;
}

function makeSystem(cpus = 2) {
  const trace = new Trace({ ring: 16 });
  const clock = new VirtualClock();
  const bus = new ApicBus({ trace });
  const pic = { vector: 0x20, inta: 0 };
  const cpu: Cpu[] = [];
  const lapics: LocalApic[] = [];
  for (let i = 0; i < cpus; i++) {
    const c: Cpu = { intr: false, nmi: 0, init: 0, smi: 0 };
    cpu.push(c);
    const l = new LocalApic({
      trace,
      clock,
      apicId: i,
      version: 0x00050014,
      idBits: 8,
      bus,
      bsp: i === 0,
      extIntAcknowledge: () => {
        pic.inta++;
        return pic.vector;
      },
      cpu: {
        setIntr: (level) => (c.intr = level),
        nmi: () => c.nmi++,
        init: () => c.init++,
        sipi: () => {},
        smi: () => c.smi++,
      },
    });
    l.mmioWrite(R.SVR, 4, 0x1ff);
    lapics.push(l);
  }
  const ioapic = new IoApic({ trace, bus });
  return { trace, bus, ioapic, lapics, cpu, pic };
}

function ioRead(io: IoApic, index: number): number {
  io.mmioWrite(IOAPIC_MMIO.IOREGSEL, 4, index);
  return Number(io.mmioRead(IOAPIC_MMIO.IOWIN, 4));
}

function ioWrite(io: IoApic, index: number, value: number): void {
  io.mmioWrite(IOAPIC_MMIO.IOREGSEL, 4, index);
  io.mmioWrite(IOAPIC_MMIO.IOWIN, 4, value);
}

function route(io: IoApic, pin: number, low: number, dest = 0): void {
  ioWrite(io, 0x11 + 2 * pin, dest << 24);
  ioWrite(io, 0x10 + 2 * pin, low);
}

const rte = (io: IoApic, pin: number) =>
  (io.snapshot().pins as Record<string, RegisterValue>)[String(pin)];
const irr = (l: LocalApic) => l.snapshot().irr_vectors as number[];

Deno.test("ioapic reset values [82093AA-DS §3.2]", () => {
  const { ioapic } = makeSystem(0);
  assert.equal(ioRead(ioapic, 0x00), 0);
  assert.equal(ioRead(ioapic, 0x01), 0x00170011);
  assert.equal(ioRead(ioapic, 0x02), 0);
  for (let n = 0; n < 24; n++) {
    assert.equal(ioRead(ioapic, 0x10 + 2 * n), 0x00010000, `IOREDTBL[${n}] low`);
    assert.equal(ioRead(ioapic, 0x11 + 2 * n), 0, `IOREDTBL[${n}] high`);
  }
  assert.equal(ioRead(ioapic, 0x10 + 2 * 24), 0); // beyond the table
  assert.equal(Number(rte(ioapic, 23).field("masked")), 1);
  assert.equal(new IoApic({ trace: new Trace(), bus: new ApicBus(), pins: 4 }).version, 0x00030011);
});

Deno.test("ioapic register write masks and read-only bits", async (t) => {
  const table: { name: string; index: number; write: number; read: number }[] = [
    { name: "ID bits 27:24", index: 0x00, write: 0xffffffff, read: 0x0f000000 },
    { name: "VER read-only", index: 0x01, write: 0, read: 0x00170011 },
    { name: "ARB read-only", index: 0x02, write: 0xffffffff, read: 0 },
    { name: "RTE low: DELIVS and Remote IRR RO", index: 0x10, write: 0xffffffff, read: 0x1afff },
    { name: "RTE low: Linux ExtINT restore", index: 0x10, write: 0x00000700, read: 0x700 },
    { name: "RTE high: DEST only", index: 0x11, write: 0xffffffff, read: 0xff000000 },
  ];
  for (const row of table) {
    await t.step(row.name, () => {
      const { ioapic } = makeSystem(0);
      ioWrite(ioapic, row.index, row.write);
      assert.equal(ioRead(ioapic, row.index) >>> 0, row.read);
    });
  }
  await t.step("writing the ID loads ARB", () => {
    const { ioapic } = makeSystem(0);
    ioWrite(ioapic, 0, 0x02000000);
    assert.equal(ioRead(ioapic, 2), 0x02000000);
  });
});

Deno.test("ioapic IOREGSEL/IOWIN access sizes", () => {
  const { ioapic } = makeSystem(0);
  ioapic.mmioWrite(IOAPIC_MMIO.IOREGSEL, 1, 0x01);
  assert.equal(ioapic.mmioRead(IOAPIC_MMIO.IOREGSEL, 4), 1);
  assert.equal(ioapic.mmioRead(IOAPIC_MMIO.IOWIN, 4), 0x00170011);
  assert.equal(ioapic.mmioRead(IOAPIC_MMIO.IOWIN, 2), 0); // IOWIN is 32-bit only
  ioapic.mmioWrite(IOAPIC_MMIO.IOREGSEL, 4, 0x10);
  ioapic.mmioWrite(IOAPIC_MMIO.IOWIN, 1, 0x00);
  assert.equal(ioRead(ioapic, 0x10), 0x10000); // narrow write dropped
  assert.equal(ioapic.mmioRead(0x20, 4), 0);
});

Deno.test("ioapic edge: one message per active edge, masked edges are lost", async (t) => {
  const table: {
    name: string;
    low: number;
    levels: boolean[];
    delivered: number;
  }[] = [
    { name: "rising edges", low: 0x31, levels: [true, true, false, true], delivered: 2 },
    { name: "masked", low: 0x10031, levels: [true, false, true], delivered: 0 },
    { name: "active low", low: 0x2031, levels: [true, false, true, false], delivered: 2 },
  ];
  for (const row of table) {
    await t.step(row.name, () => {
      const { ioapic, lapics } = makeSystem(1);
      route(ioapic, 3, row.low);
      let count = 0;
      for (const level of row.levels) {
        ioapic.setPin(3, level);
        if (irr(lapics[0]).includes(0x31)) {
          count++;
          assert.equal(lapics[0].acknowledge(), 0x31);
          lapics[0].mmioWrite(R.EOI, 4, 0);
        }
      }
      assert.equal(count, row.delivered);
      assert.equal(Number(rte(ioapic, 3).field("remote_irr")), 0);
    });
  }
  await t.step("unmasking does not replay a lost edge", () => {
    const { ioapic, lapics } = makeSystem(1);
    route(ioapic, 4, 0x10041);
    ioapic.setPin(4, true);
    route(ioapic, 4, 0x00041);
    assert.deepEqual(irr(lapics[0]), []);
  });
});

Deno.test("ioapic level: remote IRR, EOI broadcast, re-delivery of a held line", () => {
  const { ioapic, lapics, cpu } = makeSystem(1);
  const l = lapics[0];
  ioapic.setPin(9, true); // idle (active low)
  route(ioapic, 9, 0xa051); // level, active low, vector 0x51
  assert.deepEqual(irr(l), []);
  ioapic.setPin(9, false); // active
  assert.deepEqual(irr(l), [0x51]);
  assert.deepEqual(l.snapshot().tmr_vectors, [0x51]);
  assert.equal(Number(rte(ioapic, 9).field("remote_irr")), 1);
  assert.equal(l.acknowledge(), 0x51);
  // Rewriting the entry (unmasked level, remote IRR set) sends nothing more.
  route(ioapic, 9, 0xa051);
  assert.deepEqual(irr(l), []);
  // The CPU's EOI clears ISR; TMR set -> EOI broadcast -> Remote IRR cleared -> line still held.
  l.mmioWrite(R.EOI, 4, 0);
  assert.deepEqual(irr(l), [0x51]);
  assert.equal(Number(rte(ioapic, 9).field("remote_irr")), 1);
  assert.equal(l.acknowledge(), 0x51);
  ioapic.setPin(9, true); // device deasserts
  l.mmioWrite(R.EOI, 4, 0);
  assert.equal(Number(rte(ioapic, 9).field("remote_irr")), 0);
  assert.deepEqual(irr(l), []);
  assert.equal(cpu[0].intr, false);
});

Deno.test("ioapic level: EOI with another vector leaves Remote IRR set", () => {
  const { ioapic } = makeSystem(1);
  route(ioapic, 10, 0x8052);
  ioapic.setPin(10, true);
  ioapic.eoi(0x53);
  assert.equal(Number(rte(ioapic, 10).field("remote_irr")), 1);
  ioapic.eoi(0x52);
  // still held: delivered again, Remote IRR set again
  assert.equal(Number(rte(ioapic, 10).field("remote_irr")), 1);
  ioapic.setPin(10, false);
  ioapic.eoi(0x52);
  assert.equal(Number(rte(ioapic, 10).field("remote_irr")), 0);
});

Deno.test("ioapic level: masked line waits and is delivered on unmask", () => {
  const { ioapic, lapics } = makeSystem(1);
  route(ioapic, 11, 0x18061);
  ioapic.setPin(11, true);
  assert.deepEqual(irr(lapics[0]), []);
  assert.equal(Number(rte(ioapic, 11).field("remote_irr")), 0);
  route(ioapic, 11, 0x08061);
  assert.deepEqual(irr(lapics[0]), [0x61]);
});

Deno.test("ioapic level: masking after acceptance does not recall; edge write clears Remote IRR", () => {
  const { ioapic, lapics } = makeSystem(1);
  route(ioapic, 12, 0x8062);
  ioapic.setPin(12, true);
  route(ioapic, 12, 0x18062);
  assert.deepEqual(irr(lapics[0]), [0x62]);
  assert.equal(Number(rte(ioapic, 12).field("remote_irr")), 1);
  // Linux's 82093AA EOI workaround: switch to edge (clears Remote IRR), then back to level.
  route(ioapic, 12, 0x10062);
  assert.equal(Number(rte(ioapic, 12).field("remote_irr")), 0);
  route(ioapic, 12, 0x18062);
  assert.equal(Number(rte(ioapic, 12).field("remote_irr")), 0);
});

Deno.test("ioapic level: not accepted stays send-pending and retries when a LAPIC enables", () => {
  const { ioapic, lapics } = makeSystem(1);
  const l = lapics[0];
  l.mmioWrite(R.SVR, 4, 0x0ff); // software-disabled: fixed messages are refused
  route(ioapic, 13, 0x8063);
  ioapic.setPin(13, true);
  assert.equal(Number(rte(ioapic, 13).field("status")), 1);
  assert.equal(Number(rte(ioapic, 13).field("remote_irr")), 0);
  l.mmioWrite(R.SVR, 4, 0x1ff);
  assert.equal(Number(rte(ioapic, 13).field("status")), 0);
  assert.equal(Number(rte(ioapic, 13).field("remote_irr")), 1);
  assert.deepEqual(irr(l), [0x63]);
});

Deno.test("ioapic ExtINT pin: INTR on the destination LAPIC, INTA runs the 8259", () => {
  const { ioapic, lapics, cpu, pic } = makeSystem(2);
  // Linux native_restore_boot_irq_mode: pin 0 ExtINT, edge, active high, physical, dest = BSP.
  route(ioapic, 0, 0x00000700, 1);
  lapics[1].mmioWrite(R.TPR, 4, 0xff); // ExtINT ignores task priority
  ioapic.setPin(0, true);
  assert.equal(cpu[1].intr, true);
  assert.equal(cpu[0].intr, false);
  assert.equal(Number(rte(ioapic, 0).field("remote_irr")), 0);
  pic.vector = 0x30;
  assert.equal(lapics[1].acknowledge(), 0x30);
  assert.equal(pic.inta, 1);
  assert.deepEqual(lapics[1].snapshot().isr_vectors, []);
  assert.equal(cpu[1].intr, false);
  assert.equal(Number(rte(ioapic, 0).field("delivery")), 7);
  // A software-disabled destination does not take ExtINT.
  lapics[1].mmioWrite(R.SVR, 4, 0x0ff);
  ioapic.setPin(0, false);
  ioapic.setPin(0, true);
  assert.equal(cpu[1].intr, false);
});

Deno.test("ioapic virtual wire B: each 8259 INT edge is one ExtINT, no APIC EOI needed", () => {
  const { ioapic, lapics, cpu, pic } = makeSystem(1);
  const l = lapics[0];
  l.mmioWrite(R.LVT_LINT0, 4, 0x10700); // Linux disconnect_bsp_APIC(1): LINT0 masked
  route(ioapic, 0, 0x00000700, 0);
  // Stub 8259: INT rises for an IRQ and falls during its INTA cycle.
  let ints = 0;
  const irq = (vector: number) => {
    pic.vector = vector;
    ioapic.setPin(0, true);
  };
  for (const v of [0x20, 0x21, 0x20]) {
    irq(v);
    assert.equal(cpu[0].intr, true);
    assert.equal(l.acknowledge(), v);
    ioapic.setPin(0, false); // the 8259 drops INT once the request is in service
    assert.equal(cpu[0].intr, false);
    ints++;
  }
  assert.equal(ints, 3);
  assert.equal(pic.inta, 3);
  assert.deepEqual(l.snapshot().isr_vectors, []);
  assert.equal(Number(rte(ioapic, 0).field("remote_irr")), 0);
});

Deno.test("ioapic NMI, SMI and INIT deliveries", async (t) => {
  const table: { name: string; low: number; check: (c: Cpu) => number }[] = [
    { name: "NMI", low: 0x400, check: (c) => c.nmi },
    { name: "SMI", low: 0x200, check: (c) => c.smi },
    { name: "INIT", low: 0x500, check: (c) => c.init },
    { name: "NMI level entry is sent edge", low: 0x8400, check: (c) => c.nmi },
  ];
  for (const row of table) {
    await t.step(row.name, () => {
      const { ioapic, cpu } = makeSystem(2);
      route(ioapic, 5, row.low, 1);
      ioapic.setPin(5, true);
      assert.equal(row.check(cpu[1]), 1);
      assert.equal(row.check(cpu[0]), 0);
      assert.equal(Number(rte(ioapic, 5).field("remote_irr")), 0);
    });
  }
});

Deno.test("ioapic physical and logical destinations, lowest priority", async (t) => {
  const table: { name: string; low: number; dest: number; receivers: number[] }[] = [
    { name: "physical 1", low: 0x0070, dest: 1, receivers: [1] },
    { name: "physical broadcast", low: 0x0070, dest: 0xff, receivers: [0, 1] },
    { name: "logical flat 0x02", low: 0x0870, dest: 0x02, receivers: [1] },
    { name: "logical flat 0x03", low: 0x0870, dest: 0x03, receivers: [0, 1] },
    { name: "lowest priority logical 0x03", low: 0x0970, dest: 0x03, receivers: [1] },
  ];
  for (const row of table) {
    await t.step(row.name, () => {
      const { ioapic, lapics } = makeSystem(2);
      lapics.forEach((l, i) => l.mmioWrite(R.LDR, 4, (1 << i) << 24));
      lapics[0].mmioWrite(R.TPR, 4, 0x40); // CPU 0 busier: lowest priority picks CPU 1
      route(ioapic, 6, row.low, row.dest);
      ioapic.setPin(6, true);
      const got = lapics.flatMap((l, i) => irr(l).includes(0x70) ? [i] : []);
      assert.deepEqual(got, row.receivers);
    });
  }
});

Deno.test("ioapic snapshot uses named redirection fields", () => {
  const { ioapic } = makeSystem(0);
  route(ioapic, 2, 0x0000a930, 0x0f);
  const e = rte(ioapic, 2);
  assert.equal(e.field("vector"), 0x30n);
  assert.equal(e.field("delivery"), 1n);
  assert.equal(e.field("dest_mode"), 1n);
  assert.equal(e.field("polarity"), 1n);
  assert.equal(e.field("trigger"), 1n);
  assert.equal(e.field("masked"), 0n);
  assert.equal(e.field("destination"), 0x0fn);
  // Active low with the pin at 0: asserted, sent, and accepted by nobody (no LAPICs): pending.
  assert.equal(e.field("status"), 1n);
  assert.equal(e.field("raw"), 0x0f0000000000b930n);
  assert.equal(String(ioapic.snapshot().version), "0x00170011");
});

Deno.test("ioapic rejects bad pins and options", () => {
  const { ioapic } = makeSystem(0);
  assert.throws(() => ioapic.setPin(24, true), {
    name: "RangeError",
    message: "I/O APIC pin must be 0..23: got 24",
  });
  assert.throws(() => new IoApic({ trace: new Trace(), bus: new ApicBus(), id: 16 }), RangeError);
  assert.throws(() => new IoApic({ trace: new Trace(), bus: new ApicBus(), pins: 0 }), RangeError);
});

Deno.test("ioapic reset masks every entry and keeps pin levels", () => {
  const { ioapic, lapics } = makeSystem(1);
  route(ioapic, 1, 0x8041);
  ioapic.setPin(1, true);
  ioWrite(ioapic, 0, 0x05000000);
  ioapic.reset();
  assert.equal(ioRead(ioapic, 0), 0);
  assert.equal(ioRead(ioapic, 0x12), 0x10000);
  assert.deepEqual((ioapic.snapshot().inputs as boolean[]).slice(0, 2), [false, true]);
  assert.deepEqual(irr(lapics[0]), [0x41]);
});
