import assert from "node:assert/strict";
import { ApicBus } from "./apic_bus.ts";
import { VirtualClock } from "./clock.ts";
import { ESR_BITS, LAPIC_REGISTERS as R, LocalApic, LocalApicBank } from "./lapic.ts";
import type { RegisterValue } from "./fields.ts";
import { Trace } from "./trace.ts";

/** What a CPU saw on its pins. */
interface PinLog {
  intr: boolean;
  nmi: number;
  init: number;
  sipi: number[];
  smi: number;
}

interface ModelSpec {
  name: string;
  version: number;
  idBits: 4 | 8;
}

const P4: ModelSpec = { name: "pentium4", version: 0x00050014, idBits: 8 };
const P6: ModelSpec = { name: "p6", version: 0x00040011, idBits: 4 };
const PENTIUM: ModelSpec = { name: "pentium", version: 0x00030010, idBits: 4 };

interface System {
  clock: VirtualClock;
  bus: ApicBus;
  trace: Trace;
  apics: LocalApic[];
  pins: PinLog[];
  inta: { count: number; vector: number };
}

function makeSystem(ids: number[], model: ModelSpec = P4, busFrequencyHz?: number): System {
  const clock = new VirtualClock();
  const trace = new Trace({ ring: 16 });
  const bus = new ApicBus({ trace });
  const inta = { count: 0, vector: 0x08 };
  const pins: PinLog[] = [];
  const apics = ids.map((apicId, i) => {
    const log: PinLog = { intr: false, nmi: 0, init: 0, sipi: [], smi: 0 };
    pins.push(log);
    return new LocalApic({
      trace,
      clock,
      apicId,
      version: model.version,
      idBits: model.idBits,
      bus,
      bsp: i === 0,
      busFrequencyHz,
      extIntAcknowledge: () => {
        inta.count++;
        return inta.vector;
      },
      cpu: {
        setIntr: (level) => (log.intr = level),
        nmi: () => log.nmi++,
        init: () => log.init++,
        sipi: (v) => log.sipi.push(v),
        smi: () => log.smi++,
      },
    });
  });
  return { clock, bus, trace, apics, pins, inta };
}

const rd = (a: LocalApic, off: number) => Number(a.mmioRead(off, 4));
const wr = (a: LocalApic, off: number, v: number) => a.mmioWrite(off, 4, v);
const enable = (a: LocalApic, vector = 0xff) => wr(a, R.SVR, 0x100 | vector);
const readEsr = (a: LocalApic) => {
  wr(a, R.ESR, 0);
  return rd(a, R.ESR);
};
const lvt = (a: LocalApic, name: string) => a.snapshot()[name] as RegisterValue;
const field = (a: LocalApic, reg: string, f: string) => Number(lvt(a, reg).field(f));

// ------------------------------------------------------------------------------------------------
// Reset values per model [SDM3 "Local APIC State After Power-Up or Reset"], reference §3.2/§3.9.

Deno.test("lapic reset values per model", async (t) => {
  const table: {
    model: ModelSpec;
    id: number;
    idReg: number;
    lvts: Record<number, number | "reserved">;
  }[] = [
    {
      model: P4,
      id: 0x12,
      idReg: 0x12000000,
      lvts: { 0x320: 0x10000, 0x330: 0x10000, 0x340: 0x10000, 0x350: 0x10000, 0x360: 0x10000 },
    },
    {
      model: P6,
      id: 3,
      idReg: 0x03000000,
      lvts: { 0x320: 0x10000, 0x330: "reserved", 0x340: 0x10000, 0x370: 0x10000 },
    },
    {
      model: PENTIUM,
      id: 1,
      idReg: 0x01000000,
      lvts: { 0x320: 0x10000, 0x330: "reserved", 0x340: "reserved", 0x350: 0x10000 },
    },
  ];
  for (const row of table) {
    await t.step(row.model.name, () => {
      const { apics } = makeSystem([row.id], row.model);
      const a = apics[0];
      const expect: [number, number][] = [
        [R.ID, row.idReg],
        [R.VERSION, row.model.version],
        [R.TPR, 0],
        [R.APR, 0],
        [R.PPR, 0],
        [R.LDR, 0],
        [R.DFR, 0xffffffff],
        [R.SVR, 0xff],
        [R.ESR, 0],
        [R.ICR_LOW, 0],
        [R.ICR_HIGH, 0],
        [R.LVT_ERROR, 0x10000],
        [R.TIMER_INITIAL, 0],
        [R.TIMER_CURRENT, 0],
        [R.TIMER_DIVIDE, 0],
      ];
      for (let i = 0; i < 8; i++) {
        expect.push([R.ISR0 + i * 16, 0], [R.TMR0 + i * 16, 0], [R.IRR0 + i * 16, 0]);
      }
      for (const [off, v] of expect) assert.equal(rd(a, off), v, `offset ${off.toString(16)}`);
      for (const [off, v] of Object.entries(row.lvts)) {
        if (v === "reserved") {
          assert.equal(rd(a, Number(off)), 0, `reserved LVT ${off}`);
        } else assert.equal(rd(a, Number(off)), v, `LVT ${Number(off).toString(16)}`);
      }
      assert.equal(a.apicBase, 0xfee00900n);
      const snap = a.snapshot();
      assert.equal((snap.svr as RegisterValue).field("enabled"), 0n);
      assert.equal(snap.enabled, true);
      assert.equal(snap.base, 0xfee00000);
    });
  }
});

Deno.test("lapic AP base MSR has no BSP bit; LVT count follows the version register", () => {
  const { apics } = makeSystem([0, 1], P4);
  assert.equal(apics[1].apicBase, 0xfee00800n);
  assert.equal(apics[0].lvtCount, 6);
  assert.equal(makeSystem([0], P6).apics[0].lvtCount, 5);
  assert.equal(makeSystem([0], PENTIUM).apics[0].lvtCount, 4);
});

Deno.test("lapic constructor rejects impossible models", () => {
  const base = makeSystem([0]);
  const opts = {
    trace: base.trace,
    clock: base.clock,
    bus: new ApicBus(),
    bsp: true,
    extIntAcknowledge: () => 0,
    cpu: { setIntr() {}, nmi() {}, init() {}, sipi() {} },
  };
  assert.throws(() => new LocalApic({ ...opts, apicId: 16, version: 0x40011, idBits: 4 }), {
    name: "RangeError",
    message: "Local APIC ID must fit in 4 bits: got 16",
  });
  assert.throws(
    () => new LocalApic({ ...opts, apicId: 0, version: 0x00080014, idBits: 8 }),
    RangeError,
  );
  assert.throws(
    () => new LocalApic({ ...opts, apicId: 0, version: 0x14, idBits: 6 as 8 }),
    RangeError,
  );
});

// ------------------------------------------------------------------------------------------------
// Read-only bits, register widths.

Deno.test("lapic read-only bits and register masks", async (t) => {
  const table: { name: string; model: ModelSpec; off: number; write: number; read: number }[] = [
    // Linux disconnect_bsp_APIC writes 0x5700 (delivery status and remote IRR set): RO bits.
    { name: "LINT0 RO bits 12/14", model: P4, off: R.LVT_LINT0, write: 0x5700, read: 0x0700 },
    { name: "LINT1 NMI", model: P4, off: R.LVT_LINT1, write: 0x5400, read: 0x0400 },
    { name: "LINT0 all writable", model: P4, off: R.LVT_LINT0, write: 0xffffffff, read: 0x1a7ff },
    { name: "timer mode + vector", model: P4, off: R.LVT_TIMER, write: 0xffffffff, read: 0x300ff },
    { name: "error vector+mask", model: P4, off: R.LVT_ERROR, write: 0xffffffff, read: 0x100ff },
    { name: "thermal", model: P4, off: R.LVT_THERMAL, write: 0xffffffff, read: 0x107ff },
    { name: "perf", model: P6, off: R.LVT_PERF, write: 0xffffffff, read: 0x107ff },
    { name: "version RO", model: P4, off: R.VERSION, write: 0, read: 0x00050014 },
    { name: "PPR RO", model: P4, off: R.PPR, write: 0xff, read: 0 },
    { name: "IRR RO", model: P4, off: R.IRR0 + 0x10, write: 0xffffffff, read: 0 },
    { name: "ISR RO", model: P4, off: R.ISR0 + 0x70, write: 0xffffffff, read: 0 },
    { name: "current count RO", model: P4, off: R.TIMER_CURRENT, write: 1234, read: 0 },
    { name: "DFR 27:0 read as 1", model: P4, off: R.DFR, write: 0x0, read: 0x0fffffff },
    { name: "LDR 31:24", model: P4, off: R.LDR, write: 0xffffffff, read: 0xff000000 },
    { name: "TPR 7:0", model: P4, off: R.TPR, write: 0xffffffff, read: 0xff },
    { name: "ID 8 bits (xAPIC)", model: P4, off: R.ID, write: 0xffffffff, read: 0xff000000 },
    { name: "ID 4 bits (P6)", model: P6, off: R.ID, write: 0xffffffff, read: 0x0f000000 },
    { name: "SVR xAPIC", model: P4, off: R.SVR, write: 0x3f0, read: 0x1f0 },
    { name: "SVR P6 3:0 = 1, focus", model: P6, off: R.SVR, write: 0x3f0, read: 0x3ff },
    { name: "divide bits 0,1,3", model: P4, off: R.TIMER_DIVIDE, write: 0xff, read: 0xb },
    { name: "ICR high 31:24", model: P4, off: R.ICR_HIGH, write: 0xffffffff, read: 0xff000000 },
  ];
  for (const row of table) {
    await t.step(row.name, () => {
      const { apics } = makeSystem([0], row.model);
      const a = apics[0];
      if (row.off !== R.SVR) enable(a);
      wr(a, row.off, row.write);
      assert.equal(rd(a, row.off) >>> 0, row.read);
    });
  }
});

Deno.test("lapic APR exists on P6 only; APR/RRD accesses never set ESR bit 7", async (t) => {
  for (const [model, apr] of [[P6, 0x40], [P4, 0]] as const) {
    await t.step(model.name, () => {
      const { apics } = makeSystem([0], model);
      const a = apics[0];
      enable(a);
      wr(a, R.TPR, 0x40);
      assert.equal(rd(a, R.APR), apr);
      wr(a, R.APR, 0x12);
      wr(a, R.RRD, 0x12);
      assert.equal(rd(a, R.RRD), 0);
      assert.equal(readEsr(a), 0);
    });
  }
});

Deno.test("lapic ICR delivery status reads idle after a send", () => {
  const { apics } = makeSystem([0, 1]);
  enable(apics[1]);
  wr(apics[0], R.ICR_HIGH, 0x01000000);
  wr(apics[0], R.ICR_LOW, 0x1040); // status bit written as 1, fixed vector 0x40
  assert.equal(rd(apics[0], R.ICR_LOW), 0x0040);
  assert.equal(Number(lvt(apics[0], "icr").field("destination")), 1);
});

Deno.test("lapic narrow reads return register bytes; narrow writes are dropped", () => {
  const { apics } = makeSystem([0x12]);
  const a = apics[0];
  assert.equal(a.mmioRead(R.ID + 3, 1), 0x12);
  assert.equal(a.mmioRead(R.VERSION, 2), 0x0014);
  assert.equal(a.mmioRead(R.VERSION + 2, 1), 0x05);
  assert.equal(a.mmioRead(R.VERSION + 4, 4), 0); // bytes 4..15 of a slot
  a.mmioWrite(R.TPR, 1, 0x20);
  assert.equal(rd(a, R.TPR), 0);
  a.mmioWrite(R.TPR + 4, 4, 0x20);
  assert.equal(rd(a, R.TPR), 0);
});

// ------------------------------------------------------------------------------------------------
// Software disable (SVR bit 8).

Deno.test("lapic software disable forces LVT masks and keeps them set", () => {
  const { apics } = makeSystem([0], P4);
  const a = apics[0];
  enable(a);
  const lvts = [R.LVT_TIMER, R.LVT_THERMAL, R.LVT_PERF, R.LVT_LINT0, R.LVT_LINT1, R.LVT_ERROR];
  for (const off of lvts) wr(a, off, 0x30);
  for (const off of lvts) assert.equal(rd(a, off) & 0x10000, 0);
  wr(a, R.SVR, 0x0ff); // software disable
  for (const off of lvts) assert.equal(rd(a, off), 0x10030, `LVT ${off.toString(16)} masked`);
  for (const off of lvts) wr(a, off, 0x40); // attempts to unmask are ignored
  for (const off of lvts) assert.equal(rd(a, off), 0x10040, `LVT ${off.toString(16)} still masked`);
  enable(a); // re-enabling does not unmask
  for (const off of lvts) assert.equal(rd(a, off), 0x10040);
  wr(a, R.LVT_LINT0, 0x700);
  assert.equal(rd(a, R.LVT_LINT0), 0x700);
});

Deno.test("lapic software-disabled APIC blocks the 8259 on LINT0 (virtual wire A broken)", () => {
  const { apics, pins, inta } = makeSystem([0], P4);
  const a = apics[0];
  // BIOS virtual-wire setup: enabled, LINT0 ExtINT unmasked.
  enable(a);
  wr(a, R.LVT_LINT0, 0x700);
  a.setLint(0, true);
  assert.equal(pins[0].intr, true);
  a.setLint(0, false);
  assert.equal(pins[0].intr, false);
  // The old kernel software-disables the APIC (as Linux's lapic_shutdown/disable_local_APIC).
  wr(a, R.SVR, 0x0ff);
  assert.equal(field(a, "lvt0", "masked"), 1);
  assert.equal(field(a, "lvt0", "delivery"), 7);
  a.setLint(0, true); // the 8259 raises INT: nothing reaches the CPU
  assert.equal(pins[0].intr, false);
  assert.equal(a.intrPending, false);
  assert.equal(inta.count, 0);
  // Re-enabling alone does not help: LINT0 stays masked until rewritten.
  enable(a);
  assert.equal(pins[0].intr, false);
  wr(a, R.LVT_LINT0, 0x700); // level already high: ExtINT is level-sensitive
  assert.equal(pins[0].intr, true);
});

Deno.test("lapic software-disabled: fixed messages discarded, NMI/INIT/SIPI accepted, IRR held", () => {
  const { apics, pins, bus } = makeSystem([0, 1], P4);
  const [a, b] = apics;
  enable(b);
  const fixed = {
    vector: 0x41,
    delivery: "fixed" as const,
    destMode: "physical" as const,
    dest: 1,
    trigger: "edge" as const,
    level: true,
  };
  assert.equal(bus.send(fixed), 1);
  wr(b, R.SVR, 0xff); // disable with 0x41 pending
  assert.equal(bus.send({ ...fixed, vector: 0x42 }), 0);
  assert.deepEqual(b.snapshot().irr_vectors, [0x41]); // held
  assert.equal(pins[1].intr, true); // held IRR still needs handling by the CPU [SDM3]
  assert.equal(b.acknowledge(), 0x41);
  assert.equal(bus.send({ ...fixed, delivery: "nmi" }), 1);
  assert.equal(pins[1].nmi, 1);
  assert.equal(bus.send({ ...fixed, delivery: "startup", vector: 0x9a }), 1);
  assert.deepEqual(pins[1].sipi, [0x9a]);
  assert.equal(bus.send({ ...fixed, delivery: "smi" }), 1);
  assert.equal(pins[1].smi, 1);
  // Lowest priority skips software-disabled APICs: A is disabled too, so no one accepts.
  assert.equal(bus.send({ ...fixed, delivery: "lowest", dest: 0xff }), 0);
  assert.equal(a.softwareEnabled, false);
});

// ------------------------------------------------------------------------------------------------
// LINT0 / LINT1.

Deno.test("lapic LINT0 ExtINT end to end: INTA goes to the 8259, IRR/ISR untouched", () => {
  const { apics, pins, inta } = makeSystem([0], P4);
  const a = apics[0];
  enable(a);
  wr(a, R.TPR, 0xf0); // ExtINT ignores task priority
  wr(a, R.LVT_LINT0, 0x0700);
  a.setLint(0, true);
  assert.equal(pins[0].intr, true);
  inta.vector = 0x20;
  assert.equal(a.acknowledge(), 0x20);
  assert.equal(inta.count, 1);
  const s = a.snapshot();
  assert.deepEqual(s.irr_vectors, []);
  assert.deepEqual(s.isr_vectors, []);
  assert.equal(pins[0].intr, true); // level-sensitive: still high until the 8259 drops INT
  a.setLint(0, false);
  assert.equal(pins[0].intr, false);
  // Active-low polarity inverts the input.
  wr(a, R.LVT_LINT0, 0x2700);
  assert.equal(pins[0].intr, true);
});

Deno.test("lapic LINT1 NMI is edge-triggered and maskable by the LVT", () => {
  const { apics, pins } = makeSystem([0], P4);
  const a = apics[0];
  enable(a);
  wr(a, R.LVT_LINT1, 0x400);
  a.setLint(1, true);
  a.setLint(1, true);
  assert.equal(pins[0].nmi, 1);
  a.setLint(1, false);
  a.setLint(1, true);
  assert.equal(pins[0].nmi, 2);
  a.setLint(1, false);
  wr(a, R.LVT_LINT1, 0x10400);
  a.setLint(1, true);
  assert.equal(pins[0].nmi, 2);
  assert.equal(pins[0].intr, false);
});

Deno.test("lapic LINT0 fixed level uses remote IRR; EOI re-delivers a held line", () => {
  const { apics, pins } = makeSystem([0], P4);
  const a = apics[0];
  enable(a);
  wr(a, R.LVT_LINT0, 0x8031); // fixed, level, vector 0x31
  a.setLint(0, true);
  assert.equal(field(a, "lvt0", "remote_irr"), 1);
  assert.deepEqual(a.snapshot().tmr_vectors, [0x31]);
  assert.equal(a.acknowledge(), 0x31);
  assert.deepEqual(a.snapshot().irr_vectors, []);
  wr(a, R.LVT_LINT0, 0x8031); // rewriting does not redeliver while remote IRR is set
  assert.deepEqual(a.snapshot().irr_vectors, []);
  wr(a, R.EOI, 0); // line still held: remote IRR cleared, delivered again
  assert.deepEqual(a.snapshot().irr_vectors, [0x31]);
  assert.equal(field(a, "lvt0", "remote_irr"), 1);
  assert.equal(a.acknowledge(), 0x31);
  a.setLint(0, false);
  wr(a, R.EOI, 0);
  assert.equal(field(a, "lvt0", "remote_irr"), 0);
  assert.deepEqual(a.snapshot().irr_vectors, []);
  assert.equal(pins[0].intr, false);
});

Deno.test("lapic LINT0 fixed edge delivers once per rising edge", () => {
  const { apics } = makeSystem([0], P4);
  const a = apics[0];
  enable(a);
  wr(a, R.LVT_LINT0, 0x0032);
  a.setLint(0, true);
  assert.equal(a.acknowledge(), 0x32);
  wr(a, R.EOI, 0);
  assert.deepEqual(a.snapshot().irr_vectors, []);
  assert.deepEqual(a.snapshot().tmr_vectors, []);
  a.setLint(0, false);
  a.setLint(0, true);
  assert.deepEqual(a.snapshot().irr_vectors, [0x32]);
});

Deno.test("lapic LINT INIT delivery INITs the core and the APIC", () => {
  const { apics, pins } = makeSystem([5], P4);
  const a = apics[0];
  enable(a);
  wr(a, R.TPR, 0x40);
  wr(a, R.LVT_LINT1, 0x500);
  a.setLint(1, true);
  assert.equal(pins[0].init, 1);
  assert.equal(rd(a, R.TPR), 0);
  assert.equal(rd(a, R.SVR), 0xff);
});

// ------------------------------------------------------------------------------------------------
// Priorities.

Deno.test("lapic TPR/PPR gate dispatch by priority class", () => {
  const { apics, pins, bus } = makeSystem([0], P4);
  const a = apics[0];
  enable(a);
  const send = (vector: number) =>
    bus.send({
      vector,
      delivery: "fixed",
      destMode: "physical",
      dest: 0,
      trigger: "edge",
      level: true,
    });
  wr(a, R.TPR, 0x35);
  send(0x3f); // same class as TPR: held
  assert.equal(pins[0].intr, false);
  assert.equal(rd(a, R.PPR), 0x35);
  wr(a, R.TPR, 0x2f);
  assert.equal(pins[0].intr, true);
  assert.equal(a.acknowledge(), 0x3f);
  assert.equal(rd(a, R.PPR), 0x30); // ISR class wins over TPR
  send(0x35); // same class as in-service: held
  assert.equal(pins[0].intr, false);
  send(0x51); // higher class nests
  assert.equal(pins[0].intr, true);
  assert.equal(a.acknowledge(), 0x51);
  assert.deepEqual(a.snapshot().isr_vectors, [0x3f, 0x51]);
  wr(a, R.EOI, 0); // clears the highest (0x51)
  assert.deepEqual(a.snapshot().isr_vectors, [0x3f]);
  wr(a, R.EOI, 0);
  assert.equal(pins[0].intr, true);
  assert.equal(a.acknowledge(), 0x35);
});

Deno.test("lapic returns the spurious vector when INTR is withdrawn before INTA", async (t) => {
  for (const [model, svr, spurious] of [[P4, 0x1e7, 0xe7], [P6, 0x1e0, 0xef]] as const) {
    await t.step(model.name, () => {
      const { apics, pins, bus } = makeSystem([0], model);
      const a = apics[0];
      wr(a, R.SVR, svr);
      bus.send({
        vector: 0x61,
        delivery: "fixed",
        destMode: "physical",
        dest: 0,
        trigger: "edge",
        level: true,
      });
      assert.equal(pins[0].intr, true);
      wr(a, R.TPR, 0x80); // masks it before the CPU acknowledges
      assert.equal(a.acknowledge(), spurious);
      assert.deepEqual(a.snapshot().isr_vectors, []);
      assert.deepEqual(a.snapshot().irr_vectors, [0x61]);
    });
  }
});

// ------------------------------------------------------------------------------------------------
// IPIs.

function icr(a: LocalApic, high: number, low: number): void {
  wr(a, R.ICR_HIGH, high << 24);
  wr(a, R.ICR_LOW, low);
}

Deno.test("lapic IPIs: fixed physical, broadcast, shorthands", async (t) => {
  const table: { name: string; dest: number; low: number; receivers: number[] }[] = [
    { name: "physical to 2", dest: 2, low: 0x0040, receivers: [2] },
    { name: "physical broadcast 0xFF", dest: 0xff, low: 0x0040, receivers: [0, 1, 2] },
    { name: "physical to absent 7", dest: 7, low: 0x0040, receivers: [] },
    { name: "self", dest: 2, low: 0x40040, receivers: [0] },
    { name: "all incl. self", dest: 0, low: 0x80040, receivers: [0, 1, 2] },
    { name: "all but self", dest: 0, low: 0xc0040, receivers: [1, 2] },
    { name: "level trigger goes out edge (xAPIC)", dest: 1, low: 0xc040, receivers: [1] },
  ];
  for (const row of table) {
    await t.step(row.name, () => {
      const { apics } = makeSystem([0, 1, 2], P4);
      for (const a of apics) enable(a);
      icr(apics[0], row.dest, row.low);
      const got = apics.flatMap((a, i) =>
        (a.snapshot().irr_vectors as number[]).includes(0x40) ? [i] : []
      );
      assert.deepEqual(got, row.receivers);
      // [SDM3 xAPIC "Valid Combinations" note 2]: a level trigger bit is overridden to edge.
      assert.deepEqual(apics[1].snapshot().tmr_vectors, []);
    });
  }
});

Deno.test("lapic IPIs: logical flat and cluster destinations", async (t) => {
  const table: {
    name: string;
    dfr: number;
    ldrs: number[];
    dest: number;
    receivers: number[];
  }[] = [
    { name: "flat single", dfr: 0xffffffff, ldrs: [0x01, 0x02, 0x04], dest: 0x02, receivers: [1] },
    { name: "flat set", dfr: 0xffffffff, ldrs: [0x01, 0x02, 0x04], dest: 0x05, receivers: [0, 2] },
    {
      name: "flat broadcast",
      dfr: 0xffffffff,
      ldrs: [0x01, 0x02, 0x04],
      dest: 0xff,
      receivers: [0, 1, 2],
    },
    { name: "flat no match", dfr: 0xffffffff, ldrs: [0x01, 0x02, 0x04], dest: 0x08, receivers: [] },
    {
      name: "cluster 1 member 1",
      dfr: 0x0fffffff,
      ldrs: [0x11, 0x12, 0x21],
      dest: 0x11,
      receivers: [0],
    },
    {
      name: "cluster 1 members",
      dfr: 0x0fffffff,
      ldrs: [0x11, 0x12, 0x21],
      dest: 0x13,
      receivers: [0, 1],
    },
    { name: "cluster 2", dfr: 0x0fffffff, ldrs: [0x11, 0x12, 0x21], dest: 0x21, receivers: [2] },
    {
      name: "all clusters member 1",
      dfr: 0x0fffffff,
      ldrs: [0x11, 0x12, 0x21],
      dest: 0xf1,
      receivers: [0, 2],
    },
    {
      name: "cluster broadcast",
      dfr: 0x0fffffff,
      ldrs: [0x11, 0x12, 0x21],
      dest: 0xff,
      receivers: [0, 1, 2],
    },
  ];
  for (const row of table) {
    await t.step(row.name, () => {
      const { apics } = makeSystem([0, 1, 2], P4);
      apics.forEach((a, i) => {
        enable(a);
        wr(a, R.DFR, row.dfr);
        wr(a, R.LDR, row.ldrs[i] << 24);
      });
      icr(apics[0], row.dest, 0x0850); // fixed, logical, vector 0x50
      const got = apics.flatMap((a, i) =>
        (a.snapshot().irr_vectors as number[]).includes(0x50) ? [i] : []
      );
      assert.deepEqual(got, row.receivers);
    });
  }
});

Deno.test("lapic IPIs: lowest priority by TPR (xAPIC) with lowest-ID tie-break", () => {
  const { apics } = makeSystem([0, 1, 2], P4);
  for (const a of apics) enable(a);
  wr(apics[0], R.TPR, 0x20);
  wr(apics[1], R.TPR, 0x10);
  wr(apics[2], R.TPR, 0x30);
  icr(apics[0], 0xff, 0x0160); // lowest priority, physical broadcast, vector 0x60
  assert.deepEqual(apics.map((a) => (a.snapshot().irr_vectors as number[]).length), [0, 1, 0]);
  wr(apics[1], R.TPR, 0x20);
  icr(apics[0], 0xff, 0x0161);
  assert.deepEqual(apics[0].snapshot().irr_vectors, [0x61]); // tie 0x20: lowest APIC ID
});

Deno.test("lapic IPIs: lowest priority on P6 uses APR and the focus processor", () => {
  const { apics } = makeSystem([0, 1], P6);
  for (const a of apics) enable(a);
  wr(apics[0], R.TPR, 0x10);
  wr(apics[1], R.TPR, 0x20);
  icr(apics[0], 0x0f, 0x0170); // P6 physical broadcast is 0xF
  assert.deepEqual(apics[0].snapshot().irr_vectors, [0x70]);
  assert.equal(rd(apics[0], R.APR), 0x70); // IRRV class above TPR
  // CPU 1 becomes focus for 0x71 by having it in service; focus wins regardless of priority.
  icr(apics[0], 0x01, 0x0071);
  assert.equal(apics[1].acknowledge(), 0x71);
  icr(apics[0], 0x0f, 0x0171);
  assert.deepEqual(apics[1].snapshot().irr_vectors, [0x71]);
  // Focus checking disabled (SVR bit 9): arbitration by APR again.
  wr(apics[1], R.SVR, 0x3ff);
  wr(apics[0], R.SVR, 0x3ff);
  wr(apics[0], R.TPR, 0x00);
  wr(apics[1], R.TPR, 0x00);
  // APR: CPU0 IRRV 0x70 -> 0x70; CPU1 IRR 0x71 + ISR 0x71 -> 0x70: tie -> lowest ID (0)
  icr(apics[0], 0x0f, 0x0172);
  assert.deepEqual(apics[0].snapshot().irr_vectors, [0x70, 0x72]);
});

Deno.test("lapic IPIs: NMI, SMI, INIT, INIT de-assert and SIPI", () => {
  const { apics, pins } = makeSystem([0, 1], P4);
  const [bsp, ap] = apics;
  enable(bsp);
  enable(ap);
  wr(ap, R.ID, 0x01000000);
  wr(ap, R.TPR, 0x50);
  wr(ap, R.LDR, 0x02000000);
  wr(ap, R.LVT_LINT0, 0x700);
  icr(bsp, 1, 0x0400); // NMI
  assert.equal(pins[1].nmi, 1);
  icr(bsp, 1, 0x0200); // SMI
  assert.equal(pins[1].smi, 1);
  icr(bsp, 1, 0xc500); // INIT assert, level
  assert.equal(pins[1].init, 1);
  assert.equal(rd(ap, R.ID), 0x01000000); // ID survives INIT
  assert.equal(rd(ap, R.TPR), 0);
  assert.equal(rd(ap, R.LDR), 0);
  assert.equal(rd(ap, R.SVR), 0xff);
  assert.equal(rd(ap, R.LVT_LINT0), 0x10000);
  assert.equal(ap.apicBase, 0xfee00800n); // MSR survives
  icr(bsp, 1, 0x8500); // "INIT level de-assert": the xAPIC sends an ordinary INIT
  assert.equal(pins[1].init, 2);
  assert.equal(readEsr(bsp), 0);
  icr(bsp, 1, 0x0699); // SIPI vector 0x99
  icr(bsp, 1, 0x0699);
  assert.deepEqual(pins[1].sipi, [0x99, 0x99]);
  assert.equal(pins[0].nmi + pins[0].init + pins[0].sipi.length, 0);
  icr(bsp, 0, 0xc4500); // INIT all-but-self
  assert.equal(pins[1].init, 3);
  assert.equal(pins[0].init, 0);
});

// ------------------------------------------------------------------------------------------------
// ESR.

Deno.test("lapic ESR latch semantics and error sources", async (t) => {
  await t.step("send illegal vector (ICR vector < 16) is not sent", () => {
    const { apics } = makeSystem([0, 1], P4);
    for (const a of apics) enable(a);
    icr(apics[0], 1, 0x000f);
    assert.deepEqual(apics[1].snapshot().irr_vectors, []);
    assert.equal(rd(apics[0], R.ESR), 0); // not visible before the latching write
    assert.equal(readEsr(apics[0]), ESR_BITS.SEND_ILLEGAL_VECTOR);
    assert.equal(rd(apics[0], R.ESR), ESR_BITS.SEND_ILLEGAL_VECTOR); // reads are stable
    assert.equal(readEsr(apics[0]), 0); // back-to-back writes clear
  });
  await t.step("receive illegal vector from an LVT", () => {
    const { apics } = makeSystem([0], P4);
    const a = apics[0];
    enable(a);
    wr(a, R.LVT_LINT0, 0x0005);
    a.setLint(0, true);
    assert.deepEqual(a.snapshot().irr_vectors, []);
    assert.equal(readEsr(a), ESR_BITS.RECEIVE_ILLEGAL_VECTOR);
  });
  await t.step("receive illegal vector from a message", () => {
    const { apics, bus } = makeSystem([0], P4);
    enable(apics[0]);
    const n = bus.send({
      vector: 3,
      delivery: "fixed",
      destMode: "physical",
      dest: 0,
      trigger: "edge",
      level: true,
    });
    assert.equal(n, 0);
    assert.equal(readEsr(apics[0]), ESR_BITS.RECEIVE_ILLEGAL_VECTOR);
  });
  await t.step("illegal register address (P6/P4, not Pentium)", () => {
    for (const [model, bit] of [[P4, 0x80], [P6, 0x80], [PENTIUM, 0]] as const) {
      const { apics } = makeSystem([0], model);
      const a = apics[0];
      rd(a, 0x3f0);
      assert.equal(readEsr(a), bit, model.name);
      wr(a, 0x010, 1);
      assert.equal(readEsr(a), bit, model.name);
    }
    const { apics } = makeSystem([0], P6);
    rd(apics[0], R.LVT_THERMAL); // absent on a 5-LVT part
    assert.equal(readEsr(apics[0]), 0x80);
  });
  await t.step("send accept error on the APIC bus (P6 only)", () => {
    for (const [model, bit] of [[P6, ESR_BITS.SEND_ACCEPT], [P4, 0]] as const) {
      const { apics } = makeSystem([0], model);
      enable(apics[0]);
      icr(apics[0], 5, 0x0040); // nobody has ID 5
      assert.equal(readEsr(apics[0]), bit, model.name);
    }
  });
  await t.step("errors raise the LVT error interrupt", () => {
    const { apics, pins } = makeSystem([0], P4);
    const a = apics[0];
    enable(a);
    wr(a, R.LVT_ERROR, 0xfe);
    rd(a, 0x3f0);
    assert.deepEqual(a.snapshot().irr_vectors, [0xfe]);
    assert.equal(pins[0].intr, true);
  });
});

// ------------------------------------------------------------------------------------------------
// Timer on virtual time (100 MHz bus clock by default: 10 ns per tick at divide 1).

Deno.test("lapic timer one-shot, periodic and divide configuration", async (t) => {
  const table: {
    name: string;
    divide: number;
    initial: number;
    periodic: boolean;
    checks: { at: number; current: number; fired: number }[];
  }[] = [
    {
      name: "one-shot divide by 1",
      divide: 0xb,
      initial: 100,
      periodic: false,
      checks: [
        { at: 0, current: 100, fired: 0 },
        { at: 505, current: 50, fired: 0 },
        { at: 999, current: 1, fired: 0 },
        { at: 1000, current: 0, fired: 1 },
        { at: 5000, current: 0, fired: 1 },
      ],
    },
    {
      name: "one-shot divide by 2 (reset value)",
      divide: 0x0,
      initial: 10,
      periodic: false,
      checks: [{ at: 199, current: 1, fired: 0 }, { at: 200, current: 0, fired: 1 }],
    },
    {
      name: "periodic divide by 16",
      divide: 0x3,
      initial: 5,
      periodic: true,
      checks: [
        { at: 160, current: 4, fired: 0 },
        { at: 800, current: 5, fired: 1 },
        { at: 1600, current: 5, fired: 2 },
        { at: 1760, current: 4, fired: 2 },
      ],
    },
    {
      name: "periodic divide by 128",
      divide: 0xa,
      initial: 2,
      periodic: true,
      checks: [{ at: 2560, current: 2, fired: 1 }, { at: 3840, current: 1, fired: 1 }],
    },
  ];
  for (const row of table) {
    await t.step(row.name, () => {
      const { apics, clock } = makeSystem([0], P4);
      const a = apics[0];
      enable(a);
      let fired = 0;
      wr(a, R.TIMER_DIVIDE, row.divide);
      wr(a, R.LVT_TIMER, (row.periodic ? 0x20000 : 0) | 0xe0);
      wr(a, R.TIMER_INITIAL, row.initial);
      for (const c of row.checks) {
        clock.advanceTo(c.at);
        while ((a.snapshot().irr_vectors as number[]).includes(0xe0)) {
          fired++;
          assert.equal(a.acknowledge(), 0xe0);
          wr(a, R.EOI, 0);
        }
        assert.deepEqual(a.snapshot().tmr_vectors, []); // timer interrupts are edge
        assert.equal(rd(a, R.TIMER_CURRENT), c.current, `current at ${c.at}`);
        assert.equal(fired, c.fired, `fired at ${c.at}`);
      }
    });
  }
});

Deno.test("lapic timer: masked counts silently, zero initial count stops it", () => {
  const { apics, clock } = makeSystem([0], P4, 50_000_000); // 20 ns per tick
  const a = apics[0];
  enable(a);
  wr(a, R.TIMER_DIVIDE, 0xb);
  wr(a, R.LVT_TIMER, 0x100e0); // masked
  wr(a, R.TIMER_INITIAL, 10);
  clock.advanceTo(100);
  assert.equal(rd(a, R.TIMER_CURRENT), 5);
  clock.advanceTo(1000);
  assert.deepEqual(a.snapshot().irr_vectors, []);
  assert.equal(rd(a, R.TIMER_CURRENT), 0);
  wr(a, R.LVT_TIMER, 0x200e0); // periodic, unmasked
  wr(a, R.TIMER_INITIAL, 10);
  clock.advanceTo(1100);
  wr(a, R.TIMER_INITIAL, 0);
  assert.equal(rd(a, R.TIMER_CURRENT), 0);
  clock.advanceTo(10_000);
  assert.deepEqual(a.snapshot().irr_vectors, []);
});

// ------------------------------------------------------------------------------------------------
// IA32_APIC_BASE and the MMIO bank.

Deno.test("lapic global disable: reset state, pins pass through, re-enable per model", async (t) => {
  for (const [model, reenables] of [[P4, true], [P6, false]] as const) {
    await t.step(model.name, () => {
      const { apics, pins, inta } = makeSystem([1], model);
      const a = apics[0];
      enable(a);
      wr(a, R.TPR, 0x30);
      wr(a, R.LVT_LINT0, 0x10700); // masked ExtINT
      a.apicBaseWritten(0xfee00100n); // EN = 0
      assert.equal(a.enabled, false);
      assert.equal(a.apicBase, 0xfee00100n);
      // A processor without an APIC: LINT0 is INTR, LINT1 is NMI, INTA goes to the 8259.
      a.setLint(0, true);
      assert.equal(pins[0].intr, true);
      assert.equal(a.acknowledge(), 0x08);
      assert.equal(inta.count, 1);
      a.setLint(1, true);
      assert.equal(pins[0].nmi, 1);
      a.setLint(0, false);
      assert.equal(pins[0].intr, false);
      a.apicBaseWritten(0xfee00900n);
      assert.equal(a.enabled, reenables);
      if (reenables) {
        assert.equal(rd(a, R.TPR), 0); // the APIC came back in its reset state
        assert.equal(rd(a, R.SVR), 0xff);
        assert.equal(rd(a, R.LVT_LINT0), 0x10000);
      }
    });
  }
});

Deno.test("lapic base relocation keeps MAXPHYADDR bits", () => {
  const { apics } = makeSystem([0], P4);
  apics[0].apicBaseWritten(0xf_1234_5900n);
  assert.equal(apics[0].base, 0xf_1234_5000);
  assert.equal(apics[0].apicBase, 0xf_1234_5900n);
  apics[0].apicBaseWritten(0xff_0000_0800n); // bits above 36 are dropped
  assert.equal(apics[0].base, 0xf_0000_0000);
});

Deno.test("lapic bank routes by CPU index and hides disabled APICs", () => {
  const { apics, trace } = makeSystem([0, 7], P4);
  const bank = new LocalApicBank(apics, { trace });
  assert.equal(bank.mmioRead(R.ID, 4, 0), 0);
  assert.equal(bank.mmioRead(R.ID, 4, 1), 0x07000000);
  bank.mmioWrite(R.TPR, 4, 0x40, 1);
  assert.equal(rd(apics[1], R.TPR), 0x40);
  assert.equal(rd(apics[0], R.TPR), 0);
  assert.equal(bank.mmioRead(R.ID, 4, 2), 0xffffffff);
  assert.equal(bank.mmioRead(R.ID, 4, -1), 0xffffffff);
  apics[1].apicBaseWritten(0xfee00000n);
  assert.equal(bank.mmioRead(R.ID, 4, 1), 0xffffffff);
});

Deno.test("lapic snapshot exposes named fields for scenarios", () => {
  const { apics } = makeSystem([0], P4);
  const a = apics[0];
  wr(a, R.SVR, 0x10f);
  wr(a, R.LVT_LINT0, 0x8700);
  wr(a, R.LVT_LINT1, 0x400);
  const s = a.snapshot();
  assert.equal((s.svr as RegisterValue).field("enabled"), 1n);
  assert.equal((s.svr as RegisterValue).field("vector"), 0x0fn);
  assert.equal((s.lvt0 as RegisterValue).field("delivery"), 7n);
  assert.equal((s.lvt0 as RegisterValue).field("trigger"), 1n);
  assert.equal((s.lvt1 as RegisterValue).field("delivery"), 4n);
  assert.equal((s.lvt_lint0 as RegisterValue).value, 0x8700n);
  assert.equal((s.apic_base as RegisterValue).field("enable"), 1n);
  assert.equal((s.apic_base as RegisterValue).field("bsp"), 1n);
  assert.equal((s.apic_base as RegisterValue).field("base"), 0xfee00n);
  assert.equal(s.software_enabled, true);
});

Deno.test("lapic reset restores power-on state including the hardware ID", () => {
  const { apics, pins } = makeSystem([3], P4);
  const a = apics[0];
  enable(a);
  wr(a, R.ID, 0x09000000);
  wr(a, R.LVT_LINT0, 0x700);
  a.setLint(0, true);
  assert.equal(pins[0].intr, true);
  a.apicBaseWritten(0xfed00900n);
  a.reset();
  assert.equal(rd(a, R.ID), 0x03000000);
  assert.equal(a.base, 0xfee00000);
  assert.equal(rd(a, R.LVT_LINT0), 0x10000);
  assert.equal(pins[0].intr, false);
});

Deno.test("lapic INIT: every register back to its power-on value except the APIC ID", () => {
  // [SDM3 "Local APIC State After an INIT Reset"]: as after power-up or RESET, except that the
  // APIC ID (and Arb ID) registers are not affected; IA32_APIC_BASE is an MSR and survives INIT.
  const { apics, pins, bus } = makeSystem([0, 1], P4);
  const [bsp, ap] = apics;
  enable(bsp);
  enable(ap, 0x3f);
  wr(ap, R.ID, 0x05000000);
  wr(ap, R.TPR, 0x40);
  wr(ap, R.LDR, 0x02000000);
  wr(ap, R.DFR, 0x0fffffff);
  wr(ap, R.ICR_HIGH, 0x01000000);
  for (const off of [0x320, 0x330, 0x340, 0x350, 0x360, 0x370]) wr(ap, off, 0x50);
  wr(ap, R.TIMER_DIVIDE, 0x0b);
  wr(ap, R.TIMER_INITIAL, 100000);
  const level = { destMode: "physical", dest: 5, level: true } as const;
  bus.send({ ...level, vector: 0x61, delivery: "fixed", trigger: "level" });
  assert.equal(ap.acknowledge(), 0x61); // ISR + TMR
  bus.send({ ...level, vector: 0x62, delivery: "fixed", trigger: "level" }); // IRR + TMR
  wr(ap, R.ICR_LOW, 0x0005); // illegal vector: ESR bit 5 pending
  ap.apicBaseWritten(0xfed00800n); // relocated, still enabled
  const before = ap.snapshot();
  assert.deepEqual(before.isr_vectors, [0x61]);
  assert.deepEqual(before.irr_vectors, [0x50, 0x62]); // 0x50: the LVT error interrupt
  wr(bsp, R.ICR_HIGH, 0x05000000);
  wr(bsp, R.ICR_LOW, 0x4500); // INIT, assert
  assert.equal(pins[1].init, 1);
  const rows: [string, number, number][] = [
    ["ID kept", R.ID, 0x05000000],
    ["TPR", R.TPR, 0],
    ["PPR", R.PPR, 0],
    ["LDR", R.LDR, 0],
    ["DFR all ones", R.DFR, 0xffffffff],
    ["SVR software-disabled", R.SVR, 0xff],
    ["ICR low", R.ICR_LOW, 0],
    ["ICR high", R.ICR_HIGH, 0],
    ["LVT timer", R.LVT_TIMER, 0x10000],
    ["LVT thermal", R.LVT_THERMAL, 0x10000],
    ["LVT perf", R.LVT_PERF, 0x10000],
    ["LVT LINT0", R.LVT_LINT0, 0x10000],
    ["LVT LINT1", R.LVT_LINT1, 0x10000],
    ["LVT error", R.LVT_ERROR, 0x10000],
    ["timer initial", R.TIMER_INITIAL, 0],
    ["timer current", R.TIMER_CURRENT, 0],
    ["timer divide", R.TIMER_DIVIDE, 0],
    ["version unaffected", R.VERSION, 0x00050014],
    ["ISR 0x60-0x7f", R.ISR0 + 0x30, 0],
    ["TMR 0x60-0x7f", R.TMR0 + 0x30, 0],
    ["IRR 0x60-0x7f", R.IRR0 + 0x30, 0],
  ];
  for (const [name, off, want] of rows) assert.equal(rd(ap, off) >>> 0, want, name);
  assert.equal(readEsr(ap), 0, "ESR and its pending errors cleared");
  assert.equal(ap.apicBase, 0xfed00800n, "IA32_APIC_BASE (base, EN) survives INIT");
  assert.equal(ap.softwareEnabled, false);
  assert.equal(pins[1].intr, false);
  // A fixed message is now refused (software-disabled), SIPI is still taken.
  assert.equal(bus.send({ ...level, vector: 0x63, delivery: "fixed", trigger: "edge" }), 0);
  assert.equal(bus.send({ ...level, vector: 0x10, delivery: "startup", trigger: "edge" }), 1);
  assert.deepEqual(pins[1].sipi, [0x10]);
});

Deno.test("lapic timer: LVT timer writes do not restart the count (reference §3.4)", () => {
  // Rows: LVT timer value written half way through a 10-tick count, vectors expected at t = 200
  // (the original expiry), the current count right after the write, and again at t = 400.
  const rows: { name: string; lvt: number; at200: number[]; at400: number[] }[] = [
    { name: "new vector", lvt: 0x000e1, at200: [0xe1], at400: [0xe1] },
    { name: "unmask mid-count", lvt: 0x000e0, at200: [0xe0], at400: [0xe0] },
    { name: "mask mid-count", lvt: 0x100e0, at200: [], at400: [] },
    { name: "switch to periodic", lvt: 0x200e0, at200: [0xe0], at400: [0xe0, 0xe0] },
  ];
  for (const row of rows) {
    const { apics, clock } = makeSystem([0], P4, 50_000_000); // 20 ns per tick
    const a = apics[0];
    enable(a);
    wr(a, R.TIMER_DIVIDE, 0xb);
    wr(a, R.LVT_TIMER, 0x100e0); // one-shot, masked
    wr(a, R.TIMER_INITIAL, 10);
    clock.advanceTo(100);
    wr(a, R.LVT_TIMER, row.lvt);
    assert.equal(rd(a, R.TIMER_CURRENT), 5, `${row.name}: count kept`);
    const seen: number[] = [];
    const drain = () => {
      while ((a.snapshot().irr_vectors as number[]).length > 0) {
        seen.push(a.acknowledge());
        wr(a, R.EOI, 0);
      }
    };
    clock.advanceTo(199);
    drain();
    assert.deepEqual(seen, [], `${row.name}: nothing before the original expiry`);
    clock.advanceTo(200);
    drain();
    assert.deepEqual(seen, row.at200, `${row.name}: at the original expiry`);
    clock.advanceTo(400);
    drain();
    assert.deepEqual(seen, row.at400, `${row.name}: later`);
  }
});

Deno.test("lapic ICR level/trigger bits per model: no IPI is sent level-triggered", () => {
  // [SDM3 "Valid Combinations" tables]. xAPIC (P4): level/trigger bits ignored, sent as 1/0.
  // APIC bus (P6, Pentium): trigger = level is sent as edge with level = 1 and ignored with
  // level = 0, except INIT with level = 0 = INIT level de-assert (no effect on the target here).
  // Columns: model, ICR low (dest = APIC 1), target IRR has 0x40, target TMR has 0x40, INITs seen
  // by the target, ESR send-accept error on the sender (APIC bus: nobody accepted).
  const rows: [ModelSpec, number, boolean, boolean, number, boolean][] = [
    [P4, 0x0040, true, false, 0, false], // fixed edge
    [P4, 0xc040, true, false, 0, false], // fixed, trigger level, level 1: edge
    [P4, 0x8040, true, false, 0, false], // fixed, trigger level, level 0: still sent
    [P4, 0xc500, false, false, 1, false], // INIT assert
    [P4, 0x8500, false, false, 1, false], // "de-assert" is an INIT on the xAPIC
    [P6, 0x0040, true, false, 0, false],
    [P6, 0xc040, true, false, 0, false], // treated as edge
    [P6, 0x8040, false, false, 0, false], // ignored: not sent at all
    [P6, 0x8400, false, false, 0, false], // NMI, trigger level, level 0: ignored
    [P6, 0xc500, false, false, 1, false],
    [P6, 0x8500, false, false, 0, false], // INIT level de-assert: accepted, no INIT
    [PENTIUM, 0xc040, true, false, 0, false],
    [PENTIUM, 0x8040, false, false, 0, false],
  ];
  for (const [model, low, irr, tmr, inits, esr] of rows) {
    const what = `${model.name} ICR ${low.toString(16)}`;
    const { apics, pins } = makeSystem([0, 1], model);
    for (const a of apics) enable(a);
    icr(apics[0], 1, low);
    assert.equal((apics[1].snapshot().irr_vectors as number[]).includes(0x40), irr, `${what} IRR`);
    assert.equal((apics[1].snapshot().tmr_vectors as number[]).includes(0x40), tmr, `${what} TMR`);
    assert.equal(pins[1].init, inits, `${what} INIT`);
    assert.equal(readEsr(apics[0]) !== 0, esr, `${what} ESR`);
  }
});
