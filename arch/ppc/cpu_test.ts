import assert from "node:assert/strict";
import { createPpcCpu, MSR, type PpcCpu, ppcCpuFactory } from "./cpu.ts";
import { createPpcTestEnv, type PpcTestEnv } from "./test_env.ts";
import { RegisterValue } from "../../hw/fields.ts";
import { E, put } from "./testdata/enc.ts";
import { disassembleWord } from "./mod.ts";

function setup(model = "gekko", msr = 0): { env: PpcTestEnv; cpu: PpcCpu } {
  const env = createPpcTestEnv();
  const cpu = createPpcCpu(env, { model });
  cpu.setMsr(msr);
  cpu.setPc(0x1000);
  return { env, cpu };
}

function field(v: unknown, name: string): number {
  assert.ok(v instanceof RegisterValue);
  return Number(v.field(name));
}

Deno.test("ppc reset: MSR[IP], PC 0xFFF00100, PVR per model, factory info", () => {
  for (const [model, pvr] of [["750", 0x00080200], ["gekko", 0x00083214], ["750cl", 0x00087210]]) {
    const cpu = createPpcCpu(createPpcTestEnv(), { model: model as string });
    assert.equal(cpu.getPc(), 0xfff00100);
    assert.equal(cpu.getMsr(), 0x40);
    assert.equal(cpu.getSpr(287), pvr);
    const snap = cpu.snapshot();
    assert.equal(field(snap.msr, "ip"), 1);
    assert.equal(snap.state, "running");
  }
  const { info } = ppcCpuFactory("gekko");
  assert.deepEqual(
    [info.arch, info.maxPhysAddr, info.longMode, info.hasLocalApic, info.threadsPerPackage],
    ["ppc", 32, false, false, 1],
  );
  assert.throws(() => ppcCpuFactory("g4"), /Unknown PowerPC CPU model: g4/);
});

Deno.test("ppc: runs from the reset vector in the boot area", () => {
  const env = createPpcTestEnv();
  put(env.bus.memory, 0xfff00100, [E.li(3, 7), E.b(0)]);
  const cpu = createPpcCpu(env, { model: "750" });
  assert.equal(cpu.run(10), 10);
  assert.equal(cpu.getGpr(3), 7);
  assert.equal(cpu.getPc(), 0xfff00104);
  assert.equal(cpu.runState, "running");
});

interface ExcCase {
  name: string;
  msr: number;
  code: number[];
  vector: number;
  srr0: number;
  srr1Bits: number;
  dar?: number;
  dsisr?: number;
}

const EXC_CASES: ExcCase[] = [
  { name: "sc", msr: MSR.EE | MSR.ME, code: [E.sc], vector: 0xc00, srr0: 0x1004, srr1Bits: 0 },
  { name: "illegal word 0", msr: 0, code: [0], vector: 0x700, srr0: 0x1000, srr1Bits: 0x80000 },
  {
    name: "privileged mfmsr",
    msr: MSR.PR,
    code: [E.mfmsr(3)],
    vector: 0x700,
    srr0: 0x1000,
    srr1Bits: 0x40000,
  },
  {
    name: "user mtspr SRR0",
    msr: MSR.PR,
    code: [E.mtspr(26, 3)],
    vector: 0x700,
    srr0: 0x1000,
    srr1Bits: 0x40000,
  },
  { name: "trap", msr: 0, code: [E.tw(31, 0, 0)], vector: 0x700, srr0: 0x1000, srr1Bits: 0x20000 },
  {
    name: "mfspr PIR",
    msr: 0,
    code: [E.mfspr(3, 1023)],
    vector: 0x700,
    srr0: 0x1000,
    srr1Bits: 0x80000,
  },
  {
    name: "FP unavailable (lfs, MSR[FP]=0)",
    msr: 0,
    code: [0xc0230000],
    vector: 0x800,
    srr0: 0x1000,
    srr1Bits: 0,
  },
  {
    name: "FP not modelled (lfs, MSR[FP]=1)",
    msr: MSR.FP,
    code: [0xc0230000],
    vector: 0x700,
    srr0: 0x1000,
    srr1Bits: 0x80000,
  },
  {
    name: "alignment (lwarx misaligned)",
    msr: 0,
    code: [E.li(4, 0x2002), E.lwarx(3, 0, 4)],
    vector: 0x600,
    srr0: 0x1004,
    srr1Bits: 0,
    dar: 0x2002,
  },
  {
    name: "DSI (DR=1, no BAT, empty page table): load",
    msr: MSR.DR,
    code: [E.lwz(3, 0x100, 0)],
    vector: 0x300,
    srr0: 0x1000,
    srr1Bits: 0,
    dar: 0x100,
    dsisr: 0x40000000,
  },
  {
    name: "DSI store",
    msr: MSR.DR,
    code: [E.stw(3, 0x100, 0)],
    vector: 0x300,
    srr0: 0x1000,
    srr1Bits: 0,
    dar: 0x100,
    dsisr: 0x42000000,
  },
  {
    name: "ISI after mtmsr IR",
    msr: 0,
    code: [E.mfmsr(3), E.ori(3, 3, MSR.IR), E.mtmsr(3), E.nop], // the 4th step is the ISI
    vector: 0x400,
    srr0: 0x100c,
    srr1Bits: 0x40000000,
  },
];
Deno.test("ppc exceptions: vector, SRR0, SRR1, MSR on entry (IP=0 and IP=1)", () => {
  for (const c of EXC_CASES) {
    for (const ip of [0, MSR.IP]) {
      const { env, cpu } = setup("gekko", c.msr | ip | MSR.RI);
      put(env.bus.memory, 0x1000, c.code);
      cpu.run(c.code.length);
      const base = ip ? 0xfff00000 : 0;
      assert.equal(cpu.getPc(), base + c.vector, `${c.name}: vector`);
      assert.equal(cpu.getSpr(26), c.srr0, `${c.name}: SRR0`);
      const msrBefore = c.msr | ip | MSR.RI | (c.name.startsWith("ISI") ? MSR.IR : 0);
      assert.equal(
        cpu.getSpr(27),
        ((msrBefore & 0x87c0ffff) | c.srr1Bits) >>> 0,
        `${c.name}: SRR1`,
      );
      // EE, PR, FP, IR, DR, RI cleared; ME and IP kept.
      assert.equal(cpu.getMsr(), msrBefore & (MSR.ME | MSR.IP), `${c.name}: MSR`);
      if (c.dar !== undefined) assert.equal(cpu.getSpr(19), c.dar, `${c.name}: DAR`);
      if (c.dsisr !== undefined) assert.equal(cpu.getSpr(18), c.dsisr, `${c.name}: DSISR`);
    }
  }
});

Deno.test("ppc alignment: DSISR encodes the instruction (X and D forms)", () => {
  const { env, cpu } = setup();
  put(env.bus.memory, 0x1000, [E.li(4, 0x2002), E.lwarx(3, 0, 4)]);
  cpu.run(2);
  // lwarx (xo 20 = 0b0000010100 in instruction bits 21-30): bits 29-30 = 0b00, bit 25 = 0,
  // bits 21-24 = 0b0000; rD = 3, rA = 0.
  assert.equal(cpu.getSpr(18), 3 << 5);
  const t = setup();
  put(t.env.bus.memory, 0x1000, [E.li(4, 0x2001), E.stmw(29, 0, 4)]);
  t.cpu.run(2);
  assert.equal(t.cpu.getPc(), 0x600);
  // stmw (opcode 47 = 0b101111): bit 5 = 1 -> DSISR[17]; bits 1-4 = 0b0111 -> DSISR[18:21].
  assert.equal(t.cpu.getSpr(18), (1 << 14) | (0b0111 << 10) | (29 << 5) | 4);
  assert.equal(t.cpu.getSpr(19), 0x2001);
});

Deno.test("ppc illegal instruction: the trace names the word (and the disassembly)", () => {
  const env = createPpcTestEnv();
  const cpu = createPpcCpu(env, { model: "750", disassemble: (w) => `word ${w.toString(16)}` });
  cpu.setMsr(0);
  cpu.setPc(0x1000);
  put(env.bus.memory, 0x1000, [0x7c0002e4]); // tlbia: not on the 750
  cpu.run(1);
  assert.equal(cpu.getPc(), 0x700);
  const ev = env.trace.recent().find((e) => e.message.includes("illegal instruction"));
  assert.ok(ev);
  assert.match(ev.message, /at 0x00001000: word 7c0002e4/);
  // Paired singles exist only on the Gekko: the 750 raises illegal even with MSR[FP] = 0.
  const g = setup("750");
  put(g.env.bus.memory, 0x1000, [0xe0230000]);
  g.cpu.run(1);
  assert.equal(g.cpu.getSpr(27) & 0x80000, 0x80000);
});

Deno.test("ppc rfi: MSR from SRR1 under mask 0x87C0FF73, PC from SRR0, POW cleared", () => {
  const { env, cpu } = setup("gekko", MSR.IP | MSR.ME);
  put(env.bus.memory, 0x1000, [
    E.lis(3, 0x0000),
    E.ori(3, 3, 0x2000),
    E.mtspr(26, 3), // SRR0 = 0x2000
    E.lis(4, 0xffff),
    E.ori(4, 4, 0xf9cf), // all bits but SE/BE (trace) and IR/DR
    E.mtspr(27, 4),
    E.rfi,
  ]);
  put(env.bus.memory, 0x2000, [E.li(5, 9)]);
  cpu.run(8);
  assert.equal(cpu.getGpr(5), 9);
  assert.equal(cpu.getMsr(), ((MSR.IP | MSR.ME) & ~0x87c0ff73 | (0xfffff9cf & 0x87c0ff73)) >>> 0);
  assert.equal(field(cpu.snapshot().msr, "pow"), 0);
});

Deno.test("ppc external interrupt: level, gated by MSR[EE], SRR0 = next instruction", () => {
  const { env, cpu } = setup("gekko", 0);
  put(env.bus.memory, 0x1000, [E.li(3, 1), E.li(3, 2), E.li(4, MSR.EE), E.mtmsr(4), E.li(3, 3)]);
  cpu.setIntr(true);
  cpu.run(2);
  assert.equal(cpu.getPc(), 0x1008, "EE=0: not taken");
  cpu.run(2); // li r4; mtmsr -> EE=1
  cpu.run(1);
  assert.equal(cpu.getPc(), 0x500);
  assert.equal(cpu.getSpr(26), 0x1010);
  assert.equal(cpu.getMsr() & MSR.EE, 0);
  cpu.setIntr(false);
});

Deno.test("ppc decrementer: counts on virtual time at the model's timebase rate", () => {
  const { env, cpu } = setup("gekko", MSR.EE);
  put(env.bus.memory, 0x1000, [E.li(3, 100), E.mtspr(22, 3), E.b(0)]);
  cpu.run(5);
  assert.equal(cpu.getPc(), 0x1008);
  // 40.5 MHz: 101 ticks = 2493.8 ns -> the DEC passes zero at 2494 ns.
  env.clock.advanceTo(2400);
  assert.equal(cpu.getSpr(22), (100 - Math.floor(2400 * 0.0405)) >>> 0);
  cpu.run(3);
  assert.equal(cpu.getPc(), 0x1008, "not yet");
  env.clock.advanceTo(2494);
  assert.equal(cpu.getSpr(22) | 0, -1);
  cpu.run(1);
  assert.equal(cpu.getPc(), 0x900);
  assert.equal(cpu.getSpr(26), 0x1008);
  // The timebase: mftb reads ticks of virtual time.
  const t = setup("750", 0);
  put(t.env.bus.memory, 0x1000, [E.mftb(3)]);
  t.env.clock.advanceTo(1_000_000); // 1 ms at 16.5 MHz
  t.cpu.run(1);
  assert.equal(t.cpu.getGpr(3), 16500);
});

Deno.test("ppc halted: MSR[POW] with HID0[DOZE] waits for an interrupt", () => {
  const { env, cpu } = setup("gekko", 0);
  put(env.bus.memory, 0x1000, [
    E.lis(3, 0x0080), // HID0 DOZE (bit 23)
    E.mtspr(1008, 3),
    E.lis(4, 0x0004),
    E.ori(4, 4, MSR.EE), // POW | EE
    E.mtmsr(4),
    E.isync,
  ]);
  assert.equal(cpu.run(100), 5);
  assert.equal(cpu.runState, "halted");
  assert.equal(cpu.lastStop, "halted");
  assert.equal(cpu.run(10), 0);
  cpu.setIntr(true);
  cpu.run(1);
  assert.equal(cpu.runState, "running");
  assert.equal(cpu.getPc(), 0x500);
  assert.equal(cpu.getSpr(26), 0x1014);
});

Deno.test("ppc nmi (SRESET): system reset exception, init (HRESET): power-on state", () => {
  const { env, cpu } = setup("gekko", MSR.ME);
  put(env.bus.memory, 0x1000, [E.b(0)]);
  cpu.run(3);
  cpu.nmi();
  cpu.run(1);
  assert.equal(cpu.getPc(), 0x100);
  assert.equal(cpu.getSpr(26), 0x1000);
  cpu.init();
  assert.equal(cpu.getPc(), 0xfff00100);
  assert.equal(cpu.getMsr(), 0x40);
  cpu.sipi(1);
  assert.equal(cpu.getPc(), 0xfff00100);
  cpu.machineCheck();
  assert.equal(cpu.runState, "shutdown", "ME=0: checkstop");
});

/** The GameCube BAT setup (hardware.md §6.4). */
function gamecubeBats(cpu: PpcCpu): void {
  cpu.setSpr(528, 0x80001fff);
  cpu.setSpr(529, 0x00000002);
  cpu.setSpr(536, 0x80001fff);
  cpu.setSpr(537, 0x00000002);
  cpu.setSpr(538, 0xc0001fff);
  cpu.setSpr(539, 0x0000002a);
}

Deno.test("ppc BATs: GameCube mappings (cached RAM, uncached RAM, hardware at 0xCC000000)", () => {
  const { env, cpu } = setup("gekko", 0);
  gamecubeBats(cpu);
  cpu.setMsr(MSR.IR | MSR.DR);
  cpu.setPc(0x80003000);
  put(env.bus.memory, 0x3000, [
    E.lis(3, 0x8000),
    E.li(4, 0x55),
    E.stw(4, 0x1000, 3), // 0x80001000 -> phys 0x1000
    E.lis(5, 0xc000),
    E.lwz(6, 0x1000, 5), // 0xC0001000 -> phys 0x1000
    E.lis(7, 0xcc00),
    E.ori(7, 7, 0x3000),
    E.stw(4, 4, 7), // 0xCC003004 -> PI at phys 0x0C003004
    E.lwz(8, 4, 7),
    E.li(9, 0),
    E.dcbz(5, 9), // uncached: alignment exception
  ]);
  cpu.run(11);
  assert.equal(env.bus.memory.read32be(0x1000), 0x55);
  assert.equal(cpu.getGpr(6), 0x55);
  assert.deepEqual(env.mmioWrites, [[4, 4, 0x55]]);
  assert.equal(cpu.getGpr(8), 0x55);
  assert.equal(cpu.getPc(), 0x600, "dcbz on a cache-inhibited page");
  assert.equal(cpu.getSpr(19), 0xc0000000);
  const snap = cpu.snapshot();
  assert.equal(field(snap.dbat1u, "bl"), 0x7ff);
  assert.equal(field(snap.dbat1l, "wimg"), 5);
});

Deno.test("ppc BATs: read-only protection, user/supervisor valid bits, block length", () => {
  const { env, cpu } = setup("gekko", 0);
  cpu.setSpr(536, 0x10000002 | (0x000 << 2)); // 128 KiB at 0x10000000, Vs only
  cpu.setSpr(537, 0x00020001); // -> phys 0x20000, read-only
  cpu.setMsr(MSR.DR);
  env.bus.memory.write32be(0x20010, 0x1234);
  put(env.bus.memory, 0x1000, [E.lis(3, 0x1000), E.lwz(4, 0x10, 3), E.stw(4, 0x10, 3)]);
  cpu.run(3);
  assert.equal(cpu.getGpr(4), 0x1234);
  assert.equal(cpu.getPc(), 0x300);
  assert.equal(cpu.getSpr(18), 0x0a000000, "protection + store");
  // Beyond 128 KiB: no translation.
  const t = setup("gekko", 0);
  t.cpu.setSpr(536, 0x10000002);
  t.cpu.setSpr(537, 0x00020002);
  t.cpu.setMsr(MSR.DR | MSR.PR); // user mode: Vp = 0 -> no match
  put(t.env.bus.memory, 0x1000, [E.lis(3, 0x1000), E.lwz(4, 0x10, 3)]);
  t.cpu.run(2);
  assert.equal(t.cpu.getPc(), 0x300);
  assert.equal(t.cpu.getSpr(18), 0x40000000);
});

Deno.test("ppc page table: primary and secondary PTEG, R and C bits, miss -> DSI", () => {
  const { env, cpu } = setup("gekko", 0);
  const m = env.bus.memory;
  const htab = 0x00100000;
  cpu.setSpr(25, htab); // SDR1: 64 KiB table
  const vsid = 0x123;
  cpu.setSr(0, vsid);
  const pte = (ea: number, pa: number, secondary: boolean, slot: number, pp = 2) => {
    const pi = (ea >>> 12) & 0xffff;
    let hash = ((vsid & 0x7ffff) ^ pi) & 0x7ffff;
    if (secondary) hash = ~hash & 0x7ffff;
    const pteg = htab | ((hash & 0x3ff) << 6);
    const a = pteg + slot * 8;
    m.write32be(a, (0x80000000 | (vsid << 7) | (secondary ? 0x40 : 0) | (pi >>> 10)) >>> 0);
    m.write32be(a + 4, (pa & 0xfffff000) | pp);
    return a;
  };
  const p1 = pte(0x5000, 0x7000, false, 3);
  const p2 = pte(0x6000, 0x9000, true, 0);
  m.write32be(0x7004, 0xabcd);
  cpu.setMsr(MSR.DR);
  put(m, 0x1000, [E.lwz(3, 0x5004, 0), E.li(4, 0x77), E.stw(4, 0x6008, 0), E.lwz(5, 0x4000, 0)]);
  cpu.run(4);
  assert.equal(cpu.getGpr(3), 0xabcd);
  assert.equal(m.read32be(0x9008), 0x77);
  assert.equal(m.read32be(p1 + 4) & 0x180, 0x100, "R set by the load");
  assert.equal(m.read32be(p2 + 4) & 0x180, 0x180, "R and C set by the store");
  assert.equal(cpu.getPc(), 0x300);
  assert.equal(cpu.getSpr(19), 0x4000);
  assert.equal(cpu.getSpr(18), 0x40000000);
});

Deno.test("ppc lwarx/stwcx.: reservation, CR0[EQ], lmw/stmw, byte-reversed", () => {
  const { env, cpu } = setup("gekko", 0);
  const m = env.bus.memory;
  m.write32be(0x2000, 5);
  put(m, 0x1000, [
    E.li(4, 0x2000),
    E.lwarx(3, 0, 4),
    E.addi(3, 3, 1),
    E.stwcx(3, 0, 4), // succeeds
    E.stwcx(3, 0, 4), // fails: no reservation
    E.li(29, 0x29),
    E.li(30, 0x30),
    E.li(31, 0x31),
    E.stmw(29, 0x100, 4),
    E.lmw(28, 0xfc, 4),
  ]);
  cpu.run(4);
  assert.equal(m.read32be(0x2000), 6);
  assert.equal(cpu.getCr() >>> 28, 2);
  cpu.run(1);
  assert.equal(cpu.getCr() >>> 28, 0);
  cpu.run(5);
  assert.equal(m.read32be(0x2104), 0x30);
  assert.deepEqual([28, 29, 30, 31].map((r) => cpu.getGpr(r)), [0, 0x29, 0x30, 0x31]);
});

Deno.test("ppc self-modifying code: a stored instruction runs after dcbst/sync/icbi/isync", () => {
  const { env, cpu } = setup("gekko", 0);
  const m = env.bus.memory;
  put(m, 0x1000, [
    E.lis(5, E.li(3, 2) >>> 16),
    E.ori(5, 5, E.li(3, 2) & 0xffff),
    E.li(6, 0x1020),
    E.stw(5, 0, 6),
    E.dcbst(0, 6),
    E.sync,
    E.icbi(0, 6),
    E.isync,
    E.li(3, 1), // 0x1020: replaced by li r3,2
    E.b(0),
  ]);
  cpu.run(2); // warm the decode cache for the whole loop first
  cpu.setPc(0x1020);
  cpu.run(1);
  assert.equal(cpu.getGpr(3), 1);
  cpu.setPc(0x1000);
  cpu.run(9);
  assert.equal(cpu.getGpr(3), 2);
  // icbi drops the decoded page even without a write through memory.
  const page = cpu.codePages.get(1)!;
  assert.equal(page.ok[8], 1);
  cpu.invalidateCode(0x1020);
  assert.equal(page.ok[8], 0);
});

Deno.test("ppc relocate_kernel-like copy loop (lwzu/xor/stwu/dcbst/sync/icbi/bdnz)", () => {
  const { env, cpu } = setup("gekko", 0);
  const m = env.bus.memory;
  const src = 0x40000, dst = 0x80000, words = 2 * 1024;
  let x = 0x12345678, sum = 0;
  for (let i = 0; i < words; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    m.write32be(src + 4 * i, x >>> 0);
    sum ^= x;
  }
  put(m, 0x1000, [
    E.lis(9, (src - 4) >>> 16),
    E.ori(9, 9, (src - 4) & 0xffff),
    E.lis(8, (dst - 4) >>> 16),
    E.ori(8, 8, (dst - 4) & 0xffff),
    E.li(6, 0),
    E.li(3, words),
    E.mtspr(9, 3),
    E.lwzu(0, 4, 9), // loop:
    E.xor(6, 6, 0),
    E.stwu(0, 4, 8),
    E.dcbst(0, 8),
    E.sync,
    E.icbi(0, 8),
    E.bc(16, 0, -24), // bdnz loop
    E.b(0),
  ]);
  cpu.run(7 + 7 * words);
  assert.equal(cpu.getPc(), 0x1038);
  assert.deepEqual(m.readBytes(dst, 4 * words), m.readBytes(src, 4 * words));
  assert.equal(cpu.getGpr(6), sum >>> 0);
  assert.equal(cpu.getGpr(8), dst + 4 * words - 4);
});

Deno.test("ppc snapshot: registers with fields, setters, SPR errors", () => {
  const { cpu } = setup("gekko", MSR.EE | MSR.IR | MSR.DR);
  cpu.setGpr(31, -1);
  cpu.setCr(0x82000000);
  cpu.setXer(0xa0000000);
  cpu.setSr(15, 0x20000fff);
  const s = cpu.snapshot();
  assert.equal(String(s.r31), "0xffffffff");
  assert.equal(field(s.msr, "ee"), 1);
  assert.equal(field(s.msr, "ir"), 1);
  assert.equal(field(s.cr, "cr0"), 8);
  assert.equal(field(s.cr, "lt"), 1);
  assert.equal(field(s.cr, "cr1"), 2);
  assert.equal(field(s.xer, "ca"), 1);
  assert.equal(field(s.xer, "so"), 1);
  assert.ok(Array.isArray(s.sr));
  assert.equal(String((s.sr as RegisterValue[])[15]), "0x20000fff");
  assert.equal(String(s.pc), "0x00001000");
  assert.equal(String(s.pvr), "0x00083214");
  assert.throws(() => cpu.getSpr(1023), /SPR 1023 does not exist/);
  assert.throws(() => cpu.setSpr(287, 0), /SPR 287 cannot be written/);
  assert.throws(() => cpu.setGpr(32, 0), /Invalid general register index: 32/);
  assert.throws(() => createPpcCpu(createPpcTestEnv(), { model: "603" }), RangeError);
});

Deno.test("ppc requestExit stops run at an instruction boundary", () => {
  const { env, cpu } = setup("gekko", 0);
  put(env.bus.memory, 0x1000, [E.b(0)]);
  env.bus.map(0x0c004000, 0x1000, {
    name: "exit",
    mmioRead: () => (cpu.requestExit(), 0),
    mmioWrite: () => {},
  });
  put(env.bus.memory, 0x2000, [E.lis(3, 0x0c00), E.lwz(4, 0x4000, 3), E.b(0)]);
  cpu.setPc(0x2000);
  assert.equal(cpu.run(100), 2);
  assert.equal(cpu.lastStop, "exit-requested");
});

Deno.test("ppc decrementer: pending while MSR[EE] = 0, taken once EE is set; mttbl/mttbu", () => {
  const { env, cpu } = setup("gekko", 0);
  put(env.bus.memory, 0x1000, [
    E.li(3, 10),
    E.mtspr(22, 3),
    E.nop,
    E.li(4, MSR.EE),
    E.mtmsr(4),
    E.nop,
  ]);
  cpu.run(2);
  env.clock.advanceTo(1000); // 40 ticks: DEC passed zero
  cpu.run(1);
  assert.equal(cpu.getPc(), 0x100c, "EE = 0: pending only");
  cpu.run(3);
  assert.equal(cpu.getPc(), 0x900);
  assert.equal(cpu.getSpr(26), 0x1014);
  // The timebase is writable (supervisor) through TBL/TBU and keeps counting from there.
  cpu.setSpr(284, 0xfffffff0);
  cpu.setSpr(285, 7);
  env.clock.advanceTo(2000); // ticks(2000 ns) - ticks(1000 ns) = 81 - 40
  assert.equal(cpu.timebase(), 7 * 2 ** 32 + 0xfffffff0 + 41);
  const s = cpu.snapshot();
  assert.equal(String(s.tb), "0x0000000800000019");
});

Deno.test("ppc trace: the mod.ts word disassembler names an undefined SPR access", () => {
  const env = createPpcTestEnv();
  const cpu = createPpcCpu(env, { model: "gekko", disassemble: disassembleWord });
  cpu.setMsr(0);
  cpu.setPc(0x1000);
  put(env.bus.memory, 0x1000, [E.mfspr(3, 1023)]);
  cpu.run(1);
  assert.equal(cpu.getPc(), 0x700);
  assert.ok(
    env.trace.recent().some((e) =>
      e.message ===
        "illegal instruction at 0x00001000: mfspr r3,1023 (mfspr of SPR 1023, not on the gekko)"
    ),
  );
});

Deno.test("ppc trace exception: MSR[SE] after each instruction, MSR[BE] after branches", () => {
  for (
    const [bit, code, pc, srr0] of [
      [MSR.SE, [E.li(3, 1), E.li(3, 2)], 0xd00, 0x1004],
      [MSR.BE, [E.li(3, 1), E.b(8), E.nop, E.nop], 0xd00, 0x100c],
    ] as const
  ) {
    const { env, cpu } = setup("gekko", bit | MSR.ME);
    put(env.bus.memory, 0x1000, [...code]);
    cpu.run(bit === MSR.SE ? 1 : 2);
    assert.equal(cpu.getPc(), pc);
    assert.equal(cpu.getSpr(26), srr0);
    assert.equal(cpu.getSpr(27), bit | MSR.ME);
    assert.equal(cpu.getMsr(), MSR.ME);
  }
});

Deno.test("ppc tw/twi: each TO condition (signed and unsigned)", () => {
  const twi = (to: number, ra: number, imm: number) =>
    ((3 << 26) | (to << 21) | (ra << 16) | (imm & 0xffff)) >>> 0;
  const cases: [word: number, a: number, b: number, traps: boolean][] = [
    [E.tw(16, 3, 4), -1, 0, true], // lt
    [E.tw(16, 3, 4), 0, -1, false],
    [E.tw(8, 3, 4), 1, -1, true], // gt
    [E.tw(8, 3, 4), -1, 1, false],
    [E.tw(4, 3, 4), 5, 5, true], // eq
    [E.tw(4, 3, 4), 5, 6, false],
    [E.tw(2, 3, 4), 0, -1, true], // ltu: 0 < 0xffffffff
    [E.tw(2, 3, 4), -1, 0, false],
    [E.tw(1, 3, 4), -1, 0, true], // gtu
    [E.tw(1, 3, 4), 0, -1, false],
    [E.tw(0, 3, 4), 1, 2, false], // no condition
    [twi(31, 3, 0), 7, 0, true], // trap
    [twi(16, 3, -5), -6, 0, true], // lt immediate (sign-extended)
    [twi(2, 3, -5), -6, 0, true], // ltu: 0xfffffffa < 0xfffffffb
    [twi(1, 3, -5), -6, 0, false],
  ];
  for (const [w, a, b, traps] of cases) {
    const { env, cpu } = setup("750", 0);
    put(env.bus.memory, 0x1000, [w]);
    cpu.setGpr(3, a);
    cpu.setGpr(4, b);
    cpu.run(1);
    assert.equal(cpu.getPc(), traps ? 0x700 : 0x1004, `${w.toString(16)} a=${a} b=${b}`);
    if (traps) assert.equal(cpu.getSpr(27) & 0x20000, 0x20000);
  }
});
