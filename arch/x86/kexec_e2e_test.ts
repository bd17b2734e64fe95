// End to end: the kernel model hands the CPU to the relocation stub, the interpreter runs the
// stub (real machine code) and the new kernel's first instruction, and the CPU state at entry
// is checked register by register against reference kexec-kernel.md §4.4 / §5.4.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { buildMachine, type MachineConfig } from "../../hw/platforms.ts";
import { Trace } from "../../hw/trace.ts";
import { KernelModel } from "../../kernel/model.ts";
import { KEXEC_ON_CRASH } from "../../kernel/kexec.ts";
import { type X86Cpu, x86CpuFactory } from "./cpu.ts";
import { createX86KexecArch } from "./kexec_port.ts";
import { findIsaIrqPin, findSmpConfig } from "./kexec_pc.ts";

function machine(config: MachineConfig) {
  return buildMachine(config, { cpu: x86CpuFactory(config.cpu!.model!) });
}

/** kexec_load a one-page new kernel that is a HLT at 0x100000, then reboot into it. */
function kexecIntoHlt(kernel: KernelModel): void {
  const img = new Uint8Array(4096);
  img[0] = 0xf4;
  const r = kernel.kexecLoad({
    entry: 0x100000,
    segments: [{ buf: img, mem: 0x100000, memsz: 4096 }],
  });
  assertEquals(r.errno, 0, r.reason);
  assertEquals(kernel.reboot({ cmd: "kexec" }).errno, 0);
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

for (const version of ["2.6.8.1-kexec3", "2.6.13"]) {
  for (const model of ["pentium4-xeon", "pentium"]) {
    Deno.test(`e2e i386 ${version} on ${model}: relocation and the state at entry`, () => {
      const board = model === "pentium" ? "pc-imcr" : "pc-ioapic";
      const m = machine({ board, cpu: { model, count: 2 } });
      const arch = createX86KexecArch(m, { arch: "i386" });
      const kernel = new KernelModel(m, { version, arch });
      kernel.boot();
      // new kernel: HLT at its entry, then a 3-page body the stub must copy
      const img = pattern(3 * 4096, 3);
      img[0] = 0xf4;
      const r = kernel.kexecLoad({
        entry: 0x100000,
        segments: [{ buf: img, mem: 0x100000, memsz: 0x4000 }],
      });
      assertEquals(r.errno, 0, r.reason);
      const control = kernel.kexec.state.image!.controlCodePage;
      assertEquals(kernel.reboot({ cmd: "kexec" }).errno, 0);
      const cpu = m.cpus[0] as X86Cpu;
      // the old kernel's control registers as machine_kexec calls the stub
      const cr0Before = cpu.getCr(0), cr4Before = cpu.getCr(4);
      assert(cr0Before & 0x80000000n, "paging on before the stub");
      const run = m.run({ until: "halt", maxInstructions: 200_000 });
      assertEquals(run.reason, "halted");
      assertEquals(m.memory.readBytes(0x100000, img.length), img);
      assert(m.memory.isZero(0x103000, 0x1000));
      assertEquals(cpu.getRip(), 0x100001n, "halted after the entry's HLT");
      const cr0 = cpu.getCr(0);
      assertEquals(cr0 & 0x80000000n, 0n, "PG off");
      assertEquals(cr0 & 1n, 1n, "PE on");
      assertEquals(cr0 & 0x5000cn, 0n, "AM WP TS EM off");
      // §4.4 step 4: clear mask 0x8005000C, set PE; MP, ET, NE, NW, CD as they were
      assertEquals(cr0, (cr0Before & ~0x8005000cn) | 1n, "other CR0 bits preserved");
      assertEquals(cpu.getCr(3), 0n);
      const pae = model === "pentium4-xeon";
      if (pae) assertEquals(cpu.getCr(4), 0n, "CR4 cleared when the CPU reports PAE");
      else assertEquals(cpu.getCr(4), cr4Before, "CR4 untouched without PAE");
      // EFLAGS: the spec's 0x2 after popfl, then the final `xor` clears leave ZF and PF set
      // (the original clears with xorl too); AF is undefined after XOR, so it is masked out.
      assertEquals(cpu.getFlags() & ~0x10, 0x46);
      for (const i of [0, 1, 2, 3, 5, 6, 7]) {
        assertEquals(cpu.getGpr(i) & 0xffffffffn, 0n, `gpr ${i}`);
      }
      assertEquals(
        cpu.getGpr(4) & 0xffffffffn,
        BigInt(control + 4096),
        "ESP at the top of the control page",
      );
      assertEquals(cpu.getSegment("cs").selector, 0x60);
      for (const s of ["ds", "es", "fs", "gs", "ss"] as const) {
        assertEquals(cpu.getSegment(s).selector, 0x68);
      }
      assertEquals(cpu.getGdtr(), { base: 0xc0000000n, limit: 0 });
      assertEquals(cpu.getIdtr(), { base: 0xc0000000n, limit: 0 });
      assertEquals(m.cpus[1].runState, "stopped");
    });
  }
}

Deno.test("e2e i386 on a real 386: the stub never touches CR4", () => {
  const m = machine({ board: "pc-legacy", cpu: { model: "i386", count: 1 } });
  const arch = createX86KexecArch(m, { arch: "i386" });
  const kernel = new KernelModel(m, { version: "2.6.13", arch });
  kernel.boot();
  kexecIntoHlt(kernel);
  const run = m.run({ until: "halt", maxInstructions: 100_000 });
  assertEquals(run.reason, "halted");
  assertEquals((m.cpus[0] as X86Cpu).getRip(), 0x100001n);
});

Deno.test("e2e i386 2.6.13 crash: the stub sees head = IND_DONE and jumps into the reserved region", () => {
  const m = machine({ board: "pc-ioapic", cpu: { model: "pentium4-xeon", count: 2 } });
  const arch = createX86KexecArch(m, { arch: "i386" });
  const kernel = new KernelModel(m, { version: "2.6.13", arch, cmdline: "crashkernel=16M@32M" });
  kernel.boot();
  const img = new Uint8Array(4096);
  img[0] = 0xf4;
  const r = kernel.kexecLoad({
    entry: 0x2000000,
    flags: KEXEC_ON_CRASH,
    segments: [{ buf: img, mem: 0x2000000, memsz: 4096 }],
  });
  assertEquals(r.errno, 0, r.reason);
  assert(kernel.panic({ cpu: 1, via: "nmi-watchdog" }).kexeced);
  const run = m.run({ until: "all-halted", maxInstructions: 100_000 });
  assert(run.reason === "all-halted" || run.reason === "halted", run.reason);
  assertEquals((m.cpus[1] as X86Cpu).getRip(), 0x2000001n);
});

for (const version of ["2.6.8.1-kexec3", "2.6.13"]) {
  Deno.test(`e2e x86_64 ${version} on opteron: long mode entry through the identity map`, () => {
    const m = machine({
      board: "opteron",
      cpu: { model: "opteron", count: 2 },
      memory: 6n * 2n ** 30n,
    });
    const arch = createX86KexecArch(m, { arch: "x86_64" });
    const kernel = new KernelModel(m, { version, arch });
    kernel.boot();
    const img = pattern(2 * 4096, 9);
    img[0] = 0xf4;
    // destination above 4 GiB: reachable only through the identity map
    const r = kernel.kexecLoad({
      entry: 0x100000,
      segments: [
        { buf: img, mem: 0x100000, memsz: 0x2000 },
        { buf: pattern(4096, 1), mem: 0x140000000, memsz: 0x1000 },
      ],
    });
    assertEquals(r.errno, 0, r.reason);
    const control = kernel.kexec.state.image!.controlCodePage;
    assertEquals(kernel.reboot({ cmd: "kexec" }).errno, 0);
    const cpu = m.cpus[0] as X86Cpu;
    const cr0Before = cpu.getCr(0), eferBefore = cpu.getEfer();
    assert(eferBefore & 0x500n, "LME and LMA on before the stub");
    const run = m.run({ until: "halt", maxInstructions: 200_000 });
    assertEquals(run.reason, "halted");
    assertEquals(m.memory.readBytes(0x100000, img.length), img);
    assertEquals(m.memory.readBytes(0x140000000, 4096), pattern(4096, 1));
    assertEquals(cpu.getRip(), 0x100001n);
    assertEquals(cpu.getCr(4), 0x20n);
    assertEquals(cpu.getCr(3), BigInt(control));
    assertEquals(cpu.getCr(0) & 0x8005000dn, 0x80000001n, "PG PE on, AM WP TS EM off");
    assertEquals(cpu.getCr(0) >> 32n, 0n, "CR0[63:32] = 0 after the 32-bit OR");
    assertEquals(
      cpu.getCr(0),
      ((cr0Before & 0xffffffffn) & ~0x5000cn) | 0x80000001n,
      "other CR0 bits preserved",
    );
    assertEquals(cpu.getEfer(), eferBefore, "EFER (LME, LMA, NX, SCE) unchanged");
    // the final `xor` clears leave ZF and PF set after popfq's 0x2 (AF undefined, masked)
    assertEquals(cpu.getFlags() & ~0x10, 0x46);
    for (let i = 0; i < 16; i++) {
      if (i === 4) continue;
      assertEquals(cpu.getGpr(i), 0n, `gpr ${i} (R9 = R10 = the caller's R10, 0 here)`);
    }
    assertEquals(cpu.getGpr(4), BigInt(control + 8192));
    assertEquals(cpu.getSegment("cs").selector, 0x10);
    assertEquals((cpu.getSegment("cs").attributes >> 13) & 1, 1, "CS is 64-bit code (L=1)");
    for (const s of ["ds", "es", "ss", "fs", "gs"] as const) {
      assertEquals(cpu.getSegment(s).selector, 0x18, s);
    }
    assertEquals(cpu.getGdtr(), { base: 0xffff810000000000n, limit: 0 });
    assertEquals(cpu.getIdtr(), { base: 0xffff810000000000n, limit: 0 });
  });
}

Deno.test("e2e x86_64: the R9/R10 quirk carries the caller's R10 into R9", () => {
  const m = machine({ board: "opteron", cpu: { model: "opteron", count: 1 } });
  const arch = createX86KexecArch(m, { arch: "x86_64" });
  arch.callerRegisters = { r10: 0x1122334455667788n, r9: 0x99n, r11: 0x77n };
  const kernel = new KernelModel(m, { version: "2.6.13", arch });
  kernel.boot();
  kexecIntoHlt(kernel);
  assertEquals(m.run({ until: "halt", maxInstructions: 100_000 }).reason, "halted");
  const cpu = m.cpus[0] as X86Cpu;
  assertEquals(cpu.getGpr(10), 0x1122334455667788n, "R10 untouched");
  assertEquals(cpu.getGpr(9), 0x1122334455667788n, "R9 = R10");
  assertEquals(cpu.getGpr(11), 0n);
});

for (const version of ["2.6.8.1-kexec3", "2.6.13"]) {
  Deno.test(`e2e i386 ${version}: chained indirection pages and swapped destination pages`, () => {
    const m = machine({
      board: "pc-ioapic",
      cpu: { model: "pentium4-xeon", count: 1 },
      memory: 64n << 20n,
    });
    const arch = createX86KexecArch(m, { arch: "i386" });
    const kernel = new KernelModel(m, { version, arch });
    kernel.boot();
    // Segment 0 lands in a block the allocator reaches only after segment 1's 2000 source pages
    // came from above it: its destination pages get swapped in (kimage_alloc_page's copy).
    const low = pattern(256 * 4096, 4);
    const big = pattern(2000 * 4096, 5);
    big[0] = 0xf4;
    const r = kernel.kexecLoad({
      entry: 0x100000,
      segments: [
        { buf: low, mem: 0x3a00000, memsz: low.length },
        { buf: big, mem: 0x100000, memsz: big.length },
      ],
    });
    assertEquals(r.errno, 0, r.reason);
    const img = kernel.kexec.state.image!;
    assert(img.indirectionPages.length >= 3);
    let own = 0, dest = 0;
    for (const [, e] of img.entries()) {
      if (e & 1) dest = e - (e % 4096);
      else if (e & 8) {
        if (e - (e % 4096) === dest) own++;
        dest += 4096;
      }
    }
    assertEquals(own, 256, "every page of segment 0 is its own source");
    assertEquals(kernel.reboot({ cmd: "kexec" }).errno, 0);
    const run = m.run({ until: "halt", maxInstructions: 5_000_000 });
    assertEquals(run.reason, "halted");
    assertEquals((m.cpus[0] as X86Cpu).getRip(), 0x100001n);
    assertEquals(m.memory.readBytes(0x3a00000, low.length), low);
    assertEquals(m.memory.readBytes(0x100000, big.length), big);
  });
}

// Every board, both versions: kexec into a one-instruction kernel and check what the new kernel
// finds in the interrupt hardware.
const BOARDS: [string, string, "i386" | "x86_64", number][] = [
  ["pc-legacy", "i386", "i386", 1],
  ["pc-legacy", "i486", "i386", 1],
  ["pc-imcr", "pentium", "i386", 2],
  ["pc-lapic", "pentium4-xeon", "i386", 2],
  ["pc-ioapic", "pentium4-xeon", "i386", 2],
  ["xeon-nocona", "xeon-nocona", "i386", 2],
  ["xeon-nocona", "xeon-nocona", "x86_64", 2],
  ["opteron", "opteron", "x86_64", 2],
];
for (const [board, model, arch, count] of BOARDS) {
  for (const version of ["2.6.8.1-kexec3", "2.6.13"]) {
    Deno.test(`e2e ${board}/${model} ${arch} ${version}: interrupt hardware after kexec`, () => {
      const m = machine({ board, cpu: { model, count } });
      const kernel = new KernelModel(m, { version, arch: createX86KexecArch(m, { arch }) });
      kernel.boot();
      kexecIntoHlt(kernel);
      const run = m.run({ until: "halt", maxInstructions: 200_000 });
      assertEquals(run.reason, "halted");
      assertEquals((m.cpus[0] as X86Cpu).getRip(), 0x100001n);
      // deno-lint-ignore no-explicit-any
      const s = m.snapshot() as any;
      const v = (x: { value: bigint }) => Number(x.value);
      assertEquals([v(s.pic.master.imr), v(s.pic.slave.imr)], [0xff, 0xff]);
      if (s.imcr) assertEquals(s.imcr.mode, "pic");
      if (s.ioapic) {
        const lo = (p: number) => Number(BigInt(s.ioapic.pins[p].value) & 0xffffffffn);
        const extint = findIsaIrqPin(findSmpConfig(m.memory).mp, 0, "ExtINT");
        if (extint === 0) assertEquals(lo(0), 0x700, "ExtINT pin restored");
        else assertEquals(lo(0), 0x10000, "no MP ExtINT entry: pin 0 stays masked");
        assertEquals(lo(2), 0x10000);
      }
      if (s.lapic && !s.imcr) {
        const lvt0 = v(s.lapic[0].lvt0);
        const expected = s.ioapic && version === "2.6.13" ? 0x10000 : 0x700;
        assertEquals(lvt0 & 0x10700, expected, "LVT0");
        assertEquals(v(s.lapic[0].svr) & 0x1ff, 0x10f);
      }
      for (let c = 1; c < count; c++) assert(["stopped", "halted"].includes(m.cpus[c].runState));
    });
  }
}

Deno.test("e2e: a BIOS whose MP table names the wrong ExtINT pin", () => {
  for (const [mpPin, restored] of [[3, 3], [null, -1]] as const) {
    const m = machine({
      board: "pc-ioapic",
      cpu: { model: "pentium4-xeon", count: 1 },
      mptable: { extint_pin: mpPin },
    });
    const kernel = new KernelModel(m, {
      version: "2.6.13",
      arch: createX86KexecArch(m, { arch: "i386" }),
    });
    kernel.boot();
    kexecIntoHlt(kernel);
    // deno-lint-ignore no-explicit-any
    const s = m.snapshot() as any;
    const lo = (p: number) => Number(BigInt(s.ioapic.pins[p].value) & 0xffffffffn);
    assertEquals(lo(0), 0x10000, "the wired pin stays masked");
    if (restored >= 0) {
      assertEquals(lo(restored), 0x700, "the pin the table names gets ExtINT");
      assertEquals(
        Number(s.lapic[0].lvt0.value) & 0x10000,
        0x10000,
        "and LVT0 is masked: no path left",
      );
    } else {
      assertEquals(Number(s.lapic[0].lvt0.value) & 0x10700, 0x700, "no pin: LVT0 virtual wire");
    }
  }
});

Deno.test("e2e x86_64 2.6.13 crash: no shutdown work at all, the crash kernel still starts", () => {
  const m = machine({ board: "opteron", cpu: { model: "opteron", count: 2 } });
  const kernel = new KernelModel(m, {
    version: "2.6.13",
    cmdline: "crashkernel=32M@64M",
    arch: createX86KexecArch(m, { arch: "x86_64" }),
  });
  kernel.boot();
  const img = new Uint8Array(4096);
  img[0] = 0xf4;
  const r = kernel.kexecLoad({
    entry: 0x4000000,
    crash: true,
    segments: [{ buf: img, mem: 0x4000000, memsz: 4096 }],
  });
  assertEquals(r.errno, 0, r.reason);
  // deno-lint-ignore no-explicit-any
  const before = (m.snapshot() as any).ioapic.pins[2].value;
  assert(kernel.panic({ cpu: 0 }).kexeced);
  // deno-lint-ignore no-explicit-any
  const s = m.snapshot() as any;
  assertEquals(
    s.ioapic.pins[2].value,
    before,
    "IO-APIC untouched (machine_crash_shutdown is empty)",
  );
  assertEquals(m.cpus[1].runState, "halted", "the other CPU still idles");
  const run = m.run({ until: "halt", maxInstructions: 100_000 });
  assertEquals(run.reason, "halted");
  assertEquals((m.cpus[0] as X86Cpu).getRip(), 0x4000001n);
});

for (
  const [board, model, arch] of [
    ["pc-legacy", "i486", "i386"],
    ["pc-lapic", "pentium4-xeon", "i386"],
    ["pc-ioapic", "pentium4-xeon", "i386"],
    ["opteron", "opteron", "x86_64"],
  ] as const
) {
  Deno.test(`e2e ${board} ${arch}: the old kernel idles through timer ticks, then kexec`, () => {
    const m = machine({ board, cpu: { model, count: 1 } });
    const kernel = new KernelModel(m, { version: "2.6.13", arch: createX86KexecArch(m, { arch }) });
    kernel.boot();
    // 10 ms of virtual time at 10 ns per instruction: a few ticks at HZ 250
    const idle = m.run({ until: "budget", maxInstructions: 1_000_000 });
    assertEquals(idle.reason, "budget");
    assert(m.cpus[0].retired >= 10, `timer interrupts wake the idle loop (${m.cpus[0].retired})`);
    // deno-lint-ignore no-explicit-any
    let s = m.snapshot() as any;
    assertEquals(Number(s.pic.master.isr.value), 0, "8259 in-service bits acknowledged");
    if (s.lapic) assertEquals(s.lapic[0].isr_vectors, [], "local APIC EOI'd");
    kexecIntoHlt(kernel);
    const run = m.run({ until: "halt", maxInstructions: 200_000 });
    assertEquals(run.reason, "halted");
    assertEquals((m.cpus[0] as X86Cpu).getRip(), 0x100001n);
    // deno-lint-ignore no-explicit-any
    s = m.snapshot() as any;
    if (s.lapic) assertEquals(s.lapic[0].isr_vectors, []);
  });
}

// §2.7: the stub's list walk on hand-written entries. Flag priority is DESTINATION, INDIRECTION,
// DONE, SOURCE (first set bit in that order wins); an entry with no flag is skipped; a source
// page that is its own destination is copied onto itself.
const STUB_LIST_CASES = [
  { board: "pc-ioapic", model: "pentium4-xeon", arch: "i386", w: 4 },
  { board: "opteron", model: "opteron", arch: "x86_64", w: 8 },
] as const;
for (const c of STUB_LIST_CASES) {
  for (const version of ["2.6.8.1-kexec3", "2.6.13"]) {
    Deno.test(`e2e ${c.arch} ${version}: the stub's flag priority, skipped and self entries`, () => {
      const m = machine({ board: c.board, cpu: { model: c.model, count: 1 } });
      const arch = createX86KexecArch(m, { arch: c.arch });
      const kernel = new KernelModel(m, { version, arch });
      kernel.boot();
      const hlt = new Uint8Array(4096);
      hlt[0] = 0xf4;
      const r = kernel.kexecLoad({
        entry: 0x100000,
        segments: [{ buf: hlt, mem: 0x100000, memsz: 4096 }],
      });
      assertEquals(r.errno, 0, r.reason);
      const img = kernel.kexec.state.image!;
      const [p0] = img.indirectionPages;
      const hltSource = img.readSlot(p0 + c.w) - 8; // the segment's IND_SOURCE entry
      assertEquals(kernel.reboot({ cmd: "kexec" }).errno, 0);
      // Rewrite the list before the stub runs: sources S1..S3 and a second indirection page Q
      // (all clear of the old kernel's live tables at 0x100000-0x400000).
      const S1 = 0x500000, S2 = 0x501000, S3 = 0x502000, SELF = 0x900000, Q = 0x503000;
      const mem = m.memory;
      mem.writeBytes(S1, pattern(4096, 11));
      mem.writeBytes(S2, pattern(4096, 12));
      mem.writeBytes(S3, pattern(4096, 13));
      mem.writeBytes(SELF, pattern(4096, 14));
      mem.fill(SELF + 4096, 4096, 0);
      const put = (page: number, entries: number[]) =>
        entries.forEach((e, i) =>
          c.w === 4 ? mem.write32(page + i * 4, e) : mem.write64(page + i * 8, BigInt(e))
        );
      put(p0, [
        0x600000 | 0x1, // destination
        S1 | 0x8, // copy S1 -> 0x600000
        0, // no flag: skipped
        0x700000 | 0x3, // DESTINATION and INDIRECTION: the destination wins
        S2 | 0x8, // copy S2 -> 0x700000
        Q | 0xa, // INDIRECTION and SOURCE: the indirection wins
        S3 | 0x8, // never reached
      ]);
      put(Q, [
        0x100000 | 0x1,
        hltSource + 0x8, // the new kernel's page (above 4 GiB on x86_64: no `|`)
        SELF | 0x1,
        SELF | 0x8, // its own destination: copied onto itself
        S3 | 0xc, // DONE and SOURCE: done wins, S3 is not copied to SELF + 4096
      ]);
      const run = m.run({ until: "halt", maxInstructions: 200_000 });
      assertEquals(run.reason, "halted");
      assertEquals((m.cpus[0] as X86Cpu).getRip(), 0x100001n);
      assertEquals(mem.readBytes(0x600000, 4096), pattern(4096, 11));
      assertEquals(mem.readBytes(0x700000, 4096), pattern(4096, 12));
      assertEquals(mem.readBytes(SELF, 4096), pattern(4096, 14));
      assert(mem.isZero(SELF + 4096, 4096), "the DONE|SOURCE entry copied nothing");
      assert(mem.isZero(0x601000, 4096), "the entry without a flag copied nothing");
      assert(mem.isZero(0x701000, 4096), "the INDIRECTION|SOURCE entry copied nothing");
    });
  }
}

// §7.5: the order of the device accesses on the way out, read from the trace (category io and
// mmio). Each milestone is the first access of its kind; the list is compared whole, so a
// missing, extra or reordered step fails.
function shutdownMilestones(trace: Trace, bsp: number): string[] {
  const seen: string[] = [];
  const mark = (m: string) => {
    if (!seen.includes(m)) seen.push(m);
  };
  let virtWire = false;
  for (const e of trace.all()) {
    if (e.category !== "io" && e.category !== "mmio") continue;
    const t = e.message;
    if (t.startsWith("out 0x0021 <- 0xff")) mark("PIC master masked");
    else if (t.startsWith("out 0x00a1 <- 0xff")) mark("PIC slave masked");
    else if (t.startsWith("out 0x0022 <- 0x70")) mark("IMCR selected");
    else if (t.startsWith("out 0x0023 <- 0x00")) mark("IMCR PIC mode");
    else if (t.startsWith(`lapic${bsp}: write 0x300 <- 0x000c08fb`)) mark("stop IPI");
    else if (t.startsWith(`lapic${bsp}: write 0x300 <- 0x000c0c00`)) mark("NMI shootdown IPI");
    else if (/^lapic\d+: write 0x0f0 <- 0x000000ff/.test(t)) {
      mark(t.startsWith(`lapic${bsp}:`) ? "BSP APIC disabled" : "AP APIC disabled");
    } else if (t.startsWith("ioapic: write 0x10 <- 0x00010000")) mark("IO-APIC pins masked");
    else if (t.startsWith("ioapic: write 0x10 <- 0x00000700")) mark("IO-APIC pin ExtINT");
    else if (t.startsWith(`lapic${bsp}: write 0x0f0 <- 0x0000010f`)) {
      virtWire = true;
      mark("SPIV enabled, vector 0x0f");
    } else if (virtWire && t.startsWith(`lapic${bsp}: write 0x350`)) mark("LVT0");
    else if (virtWire && t.startsWith(`lapic${bsp}: write 0x360`)) mark("LVT1 NMI");
  }
  return seen;
}

/** The IO-APIC data-window writes as [register, value], in order. */
function iowinWrites(trace: Trace): [number, number][] {
  const out: [number, number][] = [];
  for (const e of trace.all()) {
    const w = /^ioapic: write 0x10 <- 0x([0-9a-f]+): IOWIN\[0x([0-9a-f]+)\]/.exec(e.message);
    if (e.category === "mmio" && w) out.push([parseInt(w[2], 16), parseInt(w[1], 16)]);
  }
  return out;
}

const NORMAL = [
  "PIC master masked",
  "PIC slave masked",
  "stop IPI",
  "AP APIC disabled",
  "BSP APIC disabled",
  "IO-APIC pins masked",
  "IO-APIC pin ExtINT",
  "SPIV enabled, vector 0x0f",
  "LVT0",
  "LVT1 NMI",
];
const UP_DISABLE = [
  "PIC master masked",
  "PIC slave masked",
  "BSP APIC disabled",
  ...NORMAL.slice(5),
];
const UP_NO_DISABLE = ["PIC master masked", "PIC slave masked", ...NORMAL.slice(5)];
const IMCR_ORDER = [
  "PIC master masked",
  "PIC slave masked",
  "stop IPI",
  "AP APIC disabled",
  "BSP APIC disabled",
  "IO-APIC pins masked", // clear_IO_APIC; the MP table names no ExtINT pin on this board
  "IMCR selected",
  "IMCR PIC mode",
];
interface OrderCase {
  name: string;
  board: string;
  model: string;
  arch: "i386" | "x86_64";
  smp?: boolean;
  /** Expected milestones by version. */
  want: Record<"2.6.8.1-kexec3" | "2.6.13", readonly string[]>;
}
const SHUTDOWN_ORDER_CASES: OrderCase[] = [
  {
    name: "i386 SMP",
    board: "pc-ioapic",
    model: "pentium4-xeon",
    arch: "i386",
    want: { "2.6.8.1-kexec3": NORMAL, "2.6.13": NORMAL },
  },
  {
    name: "x86_64 SMP",
    board: "opteron",
    model: "opteron",
    arch: "x86_64",
    want: { "2.6.8.1-kexec3": NORMAL, "2.6.13": NORMAL },
  },
  {
    // kexec3's UP machine_shutdown calls disable_local_APIC; 2.6.13's lapic_shutdown acts only
    // when the kernel itself enabled the APIC through IA32_APIC_BASE (not the case here)
    name: "i386 UP",
    board: "pc-ioapic",
    model: "pentium4-xeon",
    arch: "i386",
    smp: false,
    want: { "2.6.8.1-kexec3": UP_DISABLE, "2.6.13": UP_NO_DISABLE },
  },
  {
    // x86_64 UP: disable_local_APIC under #ifndef CONFIG_SMP in both versions
    name: "x86_64 UP",
    board: "opteron",
    model: "opteron",
    arch: "x86_64",
    smp: false,
    want: { "2.6.8.1-kexec3": UP_DISABLE, "2.6.13": UP_DISABLE },
  },
  {
    name: "i386 SMP with an IMCR",
    board: "pc-imcr",
    model: "pentium",
    arch: "i386",
    want: { "2.6.8.1-kexec3": IMCR_ORDER, "2.6.13": IMCR_ORDER },
  },
];
for (const c of SHUTDOWN_ORDER_CASES) {
  for (const version of ["2.6.8.1-kexec3", "2.6.13"] as const) {
    Deno.test(`§7.5 order ${c.name} ${version}: device accesses of the kexec reboot`, () => {
      const trace = new Trace({ full: true });
      const count = c.smp === false ? 1 : 2;
      const m = buildMachine({ board: c.board, cpu: { model: c.model, count } }, {
        cpu: x86CpuFactory(c.model),
        trace,
      });
      const kernel = new KernelModel(m, {
        version,
        arch: createX86KexecArch(m, { arch: c.arch }),
        smp: c.smp,
      });
      kernel.boot();
      const start = trace.all().length;
      kexecIntoHlt(kernel);
      const tail = new Trace({ full: true });
      for (const e of trace.all().slice(start)) tail.emit(e.category, e.message, e.cpu);
      const want = c.want[version];
      assertEquals(shutdownMilestones(tail, 0), [...want]);
      const iowin = iowinWrites(tail);
      if (want.includes("IO-APIC pin ExtINT")) {
        // clear_IO_APIC: low dword (masked) before high; the ExtINT entry: high dword first
        assertEquals(iowin.slice(0, 2), [[0x10, 0x10000], [0x11, 0]]);
        assertEquals(iowin.slice(-2), [[0x11, 0], [0x10, 0x700]]);
      }
    });
  }
}

Deno.test("§7.5 order i386 2.6.13 crash: no PIC masking, NMI shootdown, APICs off, then the IO-APIC", () => {
  const trace = new Trace({ full: true });
  const m = buildMachine({ board: "pc-ioapic", cpu: { model: "pentium4-xeon", count: 2 } }, {
    cpu: x86CpuFactory("pentium4-xeon"),
    trace,
  });
  const arch = createX86KexecArch(m, { arch: "i386" });
  const kernel = new KernelModel(m, { version: "2.6.13", arch, cmdline: "crashkernel=16M@32M" });
  kernel.boot();
  const img = new Uint8Array(4096);
  img[0] = 0xf4;
  const r = kernel.kexecLoad({
    entry: 0x2000000,
    flags: KEXEC_ON_CRASH,
    segments: [{ buf: img, mem: 0x2000000, memsz: 4096 }],
  });
  assertEquals(r.errno, 0, r.reason);
  const start = trace.all().length;
  assert(kernel.panic({ cpu: 0 }).kexeced);
  const tail = new Trace({ full: true });
  for (const e of trace.all().slice(start)) tail.emit(e.category, e.message, e.cpu);
  assertEquals(shutdownMilestones(tail, 0), [
    "NMI shootdown IPI",
    // crash_nmi_callback and then nmi_shootdown_cpus call disable_local_APIC ([J05:24/29])
    "AP APIC disabled",
    "BSP APIC disabled",
    "IO-APIC pins masked",
    "IO-APIC pin ExtINT",
    "SPIV enabled, vector 0x0f",
    "LVT0",
    "LVT1 NMI",
  ]);
});
