// The x86 kernel model against the real machine and devices (hw/), with a recording CPU port
// in place of the interpreter: boot, kexec reboot and crash for both versions and the patch
// switches, checked through device snapshots and guest memory.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { buildMachine } from "../../hw/platforms.ts";
import type { MachineConfig } from "../../hw/platforms.ts";
import type { Machine } from "../../hw/machine.ts";
import type { CpuCore, CpuEnvironment, CpuRunState, CpuStopReason } from "../../hw/cpu.ts";
import type { Snapshot } from "../../hw/fields.ts";
import { x86Models } from "./models.ts";
import { KernelModel } from "../../kernel/model.ts";
import { IND_DONE } from "../../kernel/kimage.ts";
import { KEXEC_ON_CRASH } from "../../kernel/kexec.ts";
import type { X86CpuPort, X86State } from "./kexec_cpu.ts";
import { I386Kexec, LAYOUT_32 } from "./kexec_32.ts";
import { LAYOUT_64, X8664Kexec } from "./kexec_64.ts";
import { relocateStub } from "./kexec_stub.ts";
import { e820ReserveResources, MemoryMap, ResourceTree } from "../../hw/memory_map.ts";

class FakeCore implements CpuCore {
  readonly index: number;
  runState: CpuRunState;
  retired = 0;
  lastStop: CpuStopReason = "budget";
  readonly env: CpuEnvironment;
  nmis = 0;
  sipis: number[] = [];
  inits = 0;
  constructor(env: CpuEnvironment) {
    this.env = env;
    this.index = env.index;
    this.runState = env.index === 0 ? "running" : "wait-for-sipi";
  }
  run(): number {
    return 0;
  }
  requestExit(): void {}
  setIntr(): void {}
  nmi(): void {
    this.nmis++;
  }
  init(): void {
    this.inits++;
    this.runState = "wait-for-sipi";
  }
  sipi(v: number): void {
    this.sipis.push(v);
    this.runState = "running";
  }
  snapshot(): Snapshot {
    return { state: this.runState };
  }
}

interface World {
  m: Machine;
  cores: FakeCore[];
  port: X86CpuPort;
  loads: Map<number, X86State>;
  kernel: KernelModel;
  arch: I386Kexec | X8664Kexec;
}

function world(options: {
  config: MachineConfig;
  version?: string;
  cmdline?: string;
  patches?: Record<string, boolean>;
  smp?: boolean;
}): World {
  const model = options.config.cpu!.model!;
  const cores: FakeCore[] = [];
  const m = buildMachine(options.config, {
    cpu: {
      factory: (env) => {
        const c = new FakeCore(env);
        cores.push(c);
        return c;
      },
      info: x86Models[model].info,
    },
  });
  const x = x86Models[model];
  const edx = x.basicLeaves[1]?.[3] ?? 0;
  const loads = new Map<number, X86State>();
  const msrs = new Map<string, bigint>();
  const port: X86CpuPort = {
    caps: {
      cpuid: x.features.cpuid,
      i486: x.features.i486,
      pae: x.features.pae && (edx & 0x40) !== 0,
      pse: (edx & 0x8) !== 0,
      pge: (edx & 0x2000) !== 0,
      apic: (edx & 0x200) !== 0,
      msr: (edx & 0x20) !== 0,
      apicBaseMsr: x.features.apicBaseMsr,
      longMode: x.features.longMode,
      nx: x.features.nx,
    },
    load: (cpu, s) => void loads.set(cpu, s),
    read: (cpu) => {
      const s = loads.get(cpu);
      if (!s) throw new Error(`cpu ${cpu} has no kernel state`);
      return s;
    },
    acknowledgeInterrupt: (cpu) => cores[cpu].env.pins.acknowledge(),
    rdmsr: (cpu, msr) =>
      msrs.get(`${cpu}:${msr}`) ?? (msr === 0x1b ? (cpu === 0 ? 0xfee00900n : 0xfee00800n) : 0n),
    wrmsr: (cpu, msr, v) => {
      msrs.set(`${cpu}:${msr}`, v);
      if (msr === 0x1b) cores[cpu].env.pins.apicBaseWritten?.(v);
    },
  };
  const count = options.config.cpu?.count ?? 1;
  const arch = x.features.longMode && options.config.board !== "pc-ioapic"
    ? new X8664Kexec({ port, cpuCount: count })
    : new I386Kexec({ port, cpuCount: count });
  const kernel = new KernelModel(m, {
    version: options.version,
    cmdline: options.cmdline,
    patches: options.patches,
    arch,
    smp: options.smp,
  });
  return { m, cores, port, loads, kernel, arch };
}

// deno-lint-ignore no-explicit-any
type Any = any;
const snap = (w: World): Any => w.m.snapshot();
const num = (v: Any): number => Number(typeof v === "object" && v !== null ? v.value : v);
const imr = (w: World) => [num(snap(w).pic.master.imr), num(snap(w).pic.slave.imr)];
const pin = (w: World, p: number) => Number(BigInt(snap(w).ioapic.pins[p].value) & 0xffffffffn);
const lapic = (w: World, cpu: number, reg: string) => num(snap(w).lapic[cpu][reg]);

function payload(): Uint8Array {
  const b = new Uint8Array(0x2000);
  b.fill(0x90);
  b[0x1fff] = 0xf4;
  return b;
}

const IOAPIC_2CPU: MachineConfig = {
  board: "pc-ioapic",
  cpu: { model: "pentium4-xeon", count: 2 },
};

Deno.test("boot i386 on pc-ioapic: 8259 in AEOI with IRQ0 and cascade open, IO-APIC routes, APs idle", () => {
  const w = world({ config: IOAPIC_2CPU, version: "2.6.13" });
  w.kernel.boot();
  assertEquals(imr(w), [0xfa, 0xff]);
  assertEquals(num(snap(w).pic.master.icw4) & 2, 2, "check_timer re-inits the master in AEOI");
  const p2 = pin(w, 2);
  assertEquals(p2 & 0x10000, 0, "timer pin unmasked");
  assertEquals(pin(w, 1) & 0xff, 0x39, "vectors in pin order: IRQ1 first (0x31 + 8)");
  assertEquals(p2 & 0xff, 0x41, "then the timer");
  assertEquals(p2 & 0x700, 0x100, "lowest priority");
  assertEquals(pin(w, 0) & 0x10000, 0x10000, "ExtINT pin stays masked while the IO-APIC is used");
  assertEquals(lapic(w, 0, "svr") & 0x1ff, 0x1ff);
  assertEquals(lapic(w, 0, "lvt0"), 0x10700, "LVT0 masked when the IO-APIC takes over");
  assertEquals(lapic(w, 0, "lvt1"), 0x400);
  assertEquals(lapic(w, 1, "lvt0") & 0x10000, 0x10000);
  assertEquals(lapic(w, 1, "lvt1"), 0x10400);
  assertEquals(w.cores[1].sipis, [2, 2], "two STARTUP IPIs with the trampoline at 0x2000");
  assertEquals(w.loads.get(1)!.runState, "halted");
  assertEquals(w.loads.get(0)!.runState, "halted");
  assertEquals(w.arch.onlineCpus(), [0, 1]);
  // GDT entries 12 and 13 are the flat kernel segments
  assertEquals(w.m.memory.read64(LAYOUT_32.gdt + 0x60), 0x00cf9a000000ffffn);
  assertEquals(w.m.memory.read64(LAYOUT_32.gdt + 0x68), 0x00cf92000000ffffn);
});

function loadAndReboot(w: World, extra: { cpu?: number } = {}) {
  w.kernel.boot();
  const r = w.kernel.kexecLoad({
    entry: 0x100000,
    segments: [{ buf: payload(), mem: 0x100000, memsz: 0x2000 }],
  });
  assertEquals(r.errno, 0, r.reason);
  const img = w.kernel.kexec.state.image!;
  const rb = w.kernel.reboot({ cmd: "kexec", cpu: extra.cpu });
  assertEquals(rb.errno, 0, rb.reason);
  return { img, cpu: rb.cpu! };
}

for (const version of ["2.6.8.1-kexec3", "2.6.13"]) {
  Deno.test(`kexec reboot i386 ${version} on pc-ioapic: shutdown state and the call into the stub`, () => {
    const w = world({ config: IOAPIC_2CPU, version });
    const { img, cpu } = loadAndReboot(w);
    assertEquals(cpu, 0);
    assertEquals(imr(w), [0xff, 0xff], "i8259A_shutdown");
    for (let p = 1; p < 24; p++) assertEquals(pin(w, p), 0x10000, `pin ${p} cleared`);
    assertEquals(pin(w, 0), 0x700, "ExtINT pin back to ExtINT, unmasked, dest 0");
    assertEquals(lapic(w, 0, "svr") & 0x1ff, 0x10f, "SPIV enabled, vector 0x0f");
    assertEquals(
      lapic(w, 0, "lvt0"),
      version === "2.6.13" ? 0x10000 : 0x700,
      "2.6.13 masks LVT0 when the IO-APIC pin is ExtINT; kexec3 programs both",
    );
    assertEquals(lapic(w, 0, "lvt1") & 0x10700, 0x400);
    assertEquals(lapic(w, 1, "svr") & 0x100, 0, "AP software-disabled by stop_this_cpu");
    assertEquals(snap(w).lapic[1].irr_vectors, [], "the stop IPI was taken");
    assertEquals(snap(w).lapic[1].isr_vectors, [], "and acknowledged with EOI");
    assertEquals(w.loads.get(1)!.runState, "stopped");
    const s = w.loads.get(0)!;
    const A = img.controlCodePage;
    assertEquals(s.rip, BigInt(A));
    assertEquals(s.rflags & 0x200, 0);
    assertEquals(s.cs.selector, 0x60);
    assertEquals(s.ds.selector, 0x68);
    assertEquals(s.gdtr, { base: 0xc0000000n, limit: 0 });
    assertEquals(s.idtr, { base: 0xc0000000n, limit: 0 });
    // cdecl arguments on the stack
    const esp = Number(s.gpr.rsp!) - 0xc0000000;
    const list = version === "2.6.13" ? img.head : img.head & ~0xfff;
    assertEquals(w.m.memory.read32(esp + 4), list);
    assertEquals(w.m.memory.read32(esp + 8), A);
    assertEquals(w.m.memory.read32(esp + 12), 0x100000);
    assertEquals(w.m.memory.read32(esp + 16), w.port.caps.pae ? 1 : 0);
    // stub copied, control page identity mapped in the live page tables (PAE on this CPU)
    const stub = relocateStub({
      arch: "i386",
      variant: version === "2.6.13" ? "2.6.13" : "kexec3",
    });
    assertEquals(w.m.memory.readBytes(A, stub.length), stub);
    assert(w.port.caps.pae);
    const pdpte = w.m.memory.read64(LAYOUT_32.swapperPgDir + Math.floor(A / 2 ** 30) * 8);
    assertEquals(pdpte, BigInt(LAYOUT_32.kexecLevel2 + 1));
    assertEquals(
      w.m.memory.read64(LAYOUT_32.kexecLevel1 + ((A % 0x200000) >>> 12) * 8),
      BigInt(A + 0x63),
    );
    assertEquals(w.kernel.kexec.state.image, null, "the image left its slot");
  });
}

Deno.test("kexec reboot i386: patch switches off", () => {
  const cases: [Record<string, boolean>, (w: World) => void][] = [
    [{ "i8259-shutdown": false }, (w) => assertEquals(imr(w), [0xfa, 0xff])],
    [{ "ioapic-virtwire-on-shutdown": false }, (w) => {
      assertEquals(pin(w, 0), 0x10000);
      assertEquals(lapic(w, 0, "lvt0"), 0x700, "2.6.13 without a pin: LVT0 ExtINT");
    }],
    [{ "apic-virtwire-on-shutdown": false }, (w) => {
      assertEquals(lapic(w, 0, "svr") & 0x100, 0, "left software-disabled by smp_send_stop");
      assertEquals(lapic(w, 0, "lvt0"), 0x10000);
    }],
    [{ "reboot-on-bsp": false }, (w) => {
      assertEquals(w.loads.get(1)!.runState, "halted", "the AP keeps idling");
      assertEquals(pin(w, 2) & 0x10000, 0, "IO-APIC untouched");
    }],
  ];
  for (const [patches, check] of cases) {
    const w = world({ config: IOAPIC_2CPU, version: "2.6.13", patches });
    loadAndReboot(w);
    check(w);
  }
});

Deno.test("kexec reboot i386: reboot=s1 migrates to CPU 1, which disconnects its own APIC", () => {
  const w = world({ config: IOAPIC_2CPU, version: "2.6.13", cmdline: "reboot=s1" });
  const { cpu } = loadAndReboot(w);
  assertEquals(cpu, 1);
  assertEquals(w.loads.get(0)!.runState, "stopped");
  assertEquals(
    w.loads.get(1)!.rip,
    BigInt(w.kernel.kexec.state.image?.controlCodePage ?? w.loads.get(1)!.rip),
  );
  assertEquals(lapic(w, 1, "svr") & 0x1ff, 0x10f);
  assertEquals(lapic(w, 0, "svr") & 0x100, 0);
});

Deno.test("kexec reboot i386 on pc-imcr: IMCR back to PIC mode", () => {
  const w = world({
    config: { board: "pc-imcr", cpu: { model: "pentium", count: 2 } },
    version: "2.6.13",
  });
  w.kernel.boot();
  assertEquals(snap(w).imcr.mode, "apic");
  w.kernel.kexecLoad({
    entry: 0x100000,
    segments: [{ buf: payload(), mem: 0x100000, memsz: 0x2000 }],
  });
  w.kernel.reboot({ cmd: "kexec" });
  assertEquals(snap(w).imcr.mode, "pic");
  assertEquals(imr(w), [0xff, 0xff]);
  assert(!w.port.caps.pae, "the Pentium reports no PAE: has_pae argument 0");
});

Deno.test("kexec reboot i386 on pc-legacy (i486, no APIC)", () => {
  const w = world({
    config: { board: "pc-legacy", cpu: { model: "i486", count: 1 } },
    version: "2.6.8.1-kexec3",
  });
  w.kernel.boot();
  assertEquals(imr(w), [0xfa, 0xff]);
  assertEquals(num(snap(w).pic.master.icw4) & 2, 0);
  const r = w.kernel.kexecLoad({
    entry: 0x100000,
    segments: [{ buf: payload(), mem: 0x100000, memsz: 0x2000 }],
  });
  assertEquals(r.errno, 0);
  assertEquals(w.kernel.reboot({ cmd: "kexec" }).errno, 0);
  assertEquals(imr(w), [0xff, 0xff]);
  const s = w.loads.get(0)!;
  assertEquals(s.cr0 & 0x80000000n, 0x80000000n);
  // no PSE on a 486: 4 KiB page tables after _end, non-PAE identity map
  assert(w.kernel.bootInfo!.bootmemEnd > LAYOUT_32.end, "page tables allocated after _end");
});

Deno.test("reboot: errors", () => {
  const w = world({ config: IOAPIC_2CPU, version: "2.6.13" });
  w.kernel.boot();
  assertEquals(w.kernel.reboot({ cmd: "kexec" }).errno, "EINVAL", "no image");
  assertEquals(w.kernel.reboot({ cmd: "kexec", magic1: 1 }).errno, "EINVAL");
  assertEquals(w.kernel.reboot({ cmd: "kexec", magic2: 1 }).errno, "EINVAL");
  assertEquals(w.kernel.reboot({ cmd: "kexec", capSysBoot: false }).errno, "EPERM");
  assertEquals(
    w.kernel.reboot({ cmd: "kexec", magic2: 0x20112000 }).errno,
    "EINVAL",
    "valid magic, no image",
  );
});

Deno.test("crash i386 2.6.13: no device_shutdown, NMI shootdown, notes, IO-APIC ExtINT", () => {
  const w = world({ config: IOAPIC_2CPU, version: "2.6.13", cmdline: "crashkernel=16M@32M" });
  w.kernel.boot();
  assert(w.kernel.iomem!.format().includes("  02000000-02ffffff : Crash kernel"));
  const buf = payload();
  const r = w.kernel.kexecLoad({
    entry: 0x2000000,
    flags: KEXEC_ON_CRASH,
    segments: [{ buf, mem: 0x2000000, memsz: 0x2000 }],
  });
  assertEquals(r.errno, 0, r.reason);
  assertEquals(w.m.memory.readBytes(0x2000000, 0x2000), buf, "written at load time");
  const img = w.kernel.kexec.state.crashImage!;
  const p = w.kernel.panic({ cpu: 0, via: "panic" });
  assert(p.kexeced);
  assertEquals(imr(w), [0xfa, 0xff], "the PIC is not masked on the crash path");
  assertEquals(w.cores[1].nmis, 1);
  assertEquals(w.loads.get(1)!.runState, "stopped");
  assertEquals(pin(w, 0), 0x700);
  // crash notes: CPU 1 (from the NMI callback) and CPU 0
  for (const cpu of [0, 1]) {
    const n = LAYOUT_32.crashNotes + cpu * 1024;
    assertEquals([w.m.memory.read32(n), w.m.memory.read32(n + 4), w.m.memory.read32(n + 8)], [
      5,
      144,
      1,
    ]);
    assertEquals(new TextDecoder().decode(w.m.memory.readBytes(n + 12, 4)), "CORE");
    // pr_reg.eip: both CPUs were idling in cpu_idle
    assertEquals(w.m.memory.read32(n + 20 + 72 + 12 * 4), 0xc0000000 + w.arch.text!.idle);
    assertEquals(w.m.memory.read32(n + 20 + 72 + 13 * 4), 0x60, "pr_reg.xcs");
    assert(w.m.memory.isZero(n + 20 + 144, 12), "terminating empty note");
  }
  const s = w.loads.get(0)!;
  assertEquals(s.rip, BigInt(img.controlCodePage));
  const esp = Number(s.gpr.rsp!) - 0xc0000000;
  assertEquals(w.m.memory.read32(esp + 4), IND_DONE, "2.6.13 passes the head: IND_DONE");
});

Deno.test("crash: kexec3 has none; 2.6.13 without an image spins in the panic loop", () => {
  for (const version of ["2.6.8.1-kexec3", "2.6.13"]) {
    const w = world({ config: IOAPIC_2CPU, version });
    w.kernel.boot();
    const p = w.kernel.panic({ cpu: 1, via: "oops" });
    assertEquals(p.kexeced, false);
    assertEquals(w.loads.get(1)!.runState, "running");
    assertEquals(w.loads.get(0)!.runState, "stopped");
    assertEquals(imr(w), [0xfa, 0xff]);
  }
});

const OPTERON: MachineConfig = {
  board: "opteron",
  cpu: { model: "opteron", count: 2 },
  memory: 6n * 2n ** 30n,
};

for (const version of ["2.6.8.1-kexec3", "2.6.13"]) {
  Deno.test(`x86_64 ${version}: identity tables, live PML4, call into the stub`, () => {
    const w = world({ config: OPTERON, version });
    w.kernel.boot();
    const top = (w.arch as X8664Kexec).topOfRam;
    assert(top > 4 * 2 ** 30);
    const r = w.kernel.kexecLoad({
      entry: 0x100000,
      segments: [{ buf: payload(), mem: 0x100000, memsz: 0x2000 }],
    });
    assertEquals(r.errno, 0, r.reason);
    const img = w.kernel.kexec.state.image!;
    const mem = w.m.memory;
    const pml4 = img.controlCodePage;
    assertEquals(pml4 % 8192, 0);
    const pud = Number(mem.read64(pml4) & ~0xfffn);
    assertEquals(mem.read64(pml4) & 0xfffn, 0x63n);
    for (let i = 1; i < 512; i++) assertEquals(mem.read64(pml4 + i * 8), 0n);
    const gib = Math.ceil(top / 2 ** 30);
    for (let j = 0; j < 512; j++) {
      const e = mem.read64(pud + j * 8);
      if (j >= gib) {
        assertEquals(e, 0n);
        continue;
      }
      assertEquals(e & 0xfffn, 0x63n);
      const pd = Number(e & ~0xfffn);
      assertEquals(mem.read64(pd), BigInt(j * 2 ** 30 + 0xe3));
      assertEquals(mem.read64(pd + 511 * 8), BigInt(j * 2 ** 30 + 511 * 0x200000 + 0xe3));
    }
    assertEquals((img.arch.pageTables as number[]).length, 1 + gib);
    const stub = relocateStub({
      arch: "x86_64",
      variant: version === "2.6.13" ? "2.6.13" : "kexec3",
    });
    assertEquals(mem.readBytes(pml4 + 4096, stub.length), stub, "stub copied at load time");
    assertEquals(w.kernel.reboot({ cmd: "kexec" }).errno, 0);
    assertEquals(
      mem.readBytes(LAYOUT_64.pml4, 2048),
      mem.readBytes(pml4, 2048),
      "lower half copied",
    );
    assert(mem.read64(LAYOUT_64.pml4 + 511 * 8) !== 0n, "kernel mapping kept");
    const s = w.loads.get(0)!;
    assertEquals(s.rip, BigInt(pml4 + 4096));
    assertEquals(s.gpr.rdi, BigInt(version === "2.6.13" ? img.head : img.head - (img.head % 4096)));
    assertEquals(s.gpr.rsi, BigInt(pml4 + 4096));
    assertEquals(s.gpr.rdx, 0x100000n);
    assertEquals(s.gpr.rcx, BigInt(pml4));
    assertEquals(s.cs.selector, 0x10);
    assertEquals(s.ss.selector, 0x18);
    assertEquals(s.gdtr, { base: 0xffff810000000000n, limit: 0 });
    assertEquals(imr(w), [0xff, 0xff]);
    assertEquals(w.loads.get(1)!.runState, "halted", "x86_64 stop: hlt with interrupts on");
    assertEquals(pin(w, 0), 0x700);
  });
}

Deno.test("x86_64 iomem: e820-64bit switch hides RAM above 4 GiB", () => {
  const on = world({ config: OPTERON, version: "2.6.13" });
  on.kernel.boot();
  assert(on.kernel.iomem!.format().includes("100000000-"));
  const off = world({ config: OPTERON, version: "2.6.13", patches: { "e820-64bit": false } });
  off.kernel.boot();
  assert(!off.kernel.iomem!.format().includes("100000000-"));
});

Deno.test("e820 resources: the pre-patch filter is addr + size > 4 GiB (strictly)", () => {
  // §8: entries ending exactly at 4 GiB keep their resource without the patch; one byte more
  // and the whole entry is dropped.
  const cases: [string, number, boolean, number][] = [
    ["ends at 4 GiB, filter on", 0x1_0000_0000, false, 0],
    ["ends at 4 GiB + 4 KiB, filter on", 0x1_0000_1000, false, 1],
    ["ends at 4 GiB + 4 KiB, e820-64bit", 0x1_0000_1000, true, 0],
  ];
  for (const [name, end, wide, dropped] of cases) {
    const map = new MemoryMap([
      { base: 0, size: 0x9f000, type: "ram" },
      { base: 0xc000_0000, size: end - 0xc000_0000, type: "ram" },
    ]);
    const tree = new ResourceTree({ end: 2 ** 40 - 1 });
    assertEquals(e820ReserveResources(tree, map, { e820_64bit: wide }).length, dropped, name);
    assertEquals(
      tree.format().includes(`c0000000-${(end - 1).toString(16)} : System RAM`),
      dropped === 0,
      name,
    );
  }
});

Deno.test("x86_64 i8259 sysdev: kexec3 without i8259-sysfs has none", () => {
  const w = world({
    config: OPTERON,
    version: "2.6.8.1-kexec3",
    patches: { "i8259-sysfs": false },
  });
  w.kernel.boot();
  assertEquals(w.kernel.bootInfo!.sysdevClasses.map((c) => c.name).includes("i8259"), false);
  w.kernel.kexecLoad({
    entry: 0x100000,
    segments: [{ buf: payload(), mem: 0x100000, memsz: 0x2000 }],
  });
  w.kernel.reboot({ cmd: "kexec" });
  assertEquals(imr(w), [0xfa, 0xff]);
});

Deno.test("UP kernels: kexec3 disable_local_APIC, 2.6.13 lapic_shutdown (a no-op here)", () => {
  for (const version of ["2.6.8.1-kexec3", "2.6.13"]) {
    const w = world({
      config: { board: "pc-ioapic", cpu: { model: "pentium4-xeon", count: 1 } },
      version,
      smp: false,
    });
    w.kernel.boot();
    w.kernel.kexecLoad({
      entry: 0x100000,
      segments: [{ buf: payload(), mem: 0x100000, memsz: 0x2000 }],
    });
    w.kernel.reboot({ cmd: "kexec" });
    const after = lapic(w, 0, "svr") & 0x100;
    assertEquals(after, 0x100, "disconnect_bsp_APIC re-enables the SPIV in both");
    assertEquals(lapic(w, 0, "lvt_timer") & 0x10000, 0x10000);
  }
  // with apic-virtwire-on-shutdown off the difference shows: kexec3 UP disabled the APIC
  for (const [version, svr] of [["2.6.8.1-kexec3", 0], ["2.6.13", 0x100]] as const) {
    const w = world({
      config: { board: "pc-ioapic", cpu: { model: "pentium4-xeon", count: 1 } },
      version,
      smp: false,
      patches: { "apic-virtwire-on-shutdown": false },
    });
    w.kernel.boot();
    w.kernel.kexecLoad({
      entry: 0x100000,
      segments: [{ buf: payload(), mem: 0x100000, memsz: 0x2000 }],
    });
    w.kernel.reboot({ cmd: "kexec" });
    assertEquals(lapic(w, 0, "svr") & 0x100, svr, version);
  }
});

Deno.test("i386 `lapic` with a BIOS-disabled APIC: enabled_via_apicbase, cleared again at shutdown", () => {
  const w = world({
    config: { board: "pc-ioapic", cpu: { model: "pentium4-xeon", count: 1 } },
    version: "2.6.13",
    cmdline: "lapic",
    smp: false,
  });
  w.port.wrmsr(0, 0x1b, 0xfee00100n); // the BIOS left IA32_APIC_BASE.EN clear
  w.kernel.boot();
  assertEquals(snap(w).lapic[0].enabled, true);
  assertEquals(w.port.rdmsr(0, 0x1b) & 0x800n, 0x800n);
  w.kernel.kexecLoad({
    entry: 0x100000,
    segments: [{ buf: payload(), mem: 0x100000, memsz: 0x2000 }],
  });
  w.kernel.reboot({ cmd: "kexec" });
  assertEquals(w.port.rdmsr(0, 0x1b) & 0x800n, 0n, "lapic_shutdown: disable_local_APIC clears EN");
  assertEquals(snap(w).lapic[0].enabled, false);
  // without `lapic` the kernel leaves the APIC alone and runs on the 8259
  const v = world({
    config: { board: "pc-ioapic", cpu: { model: "pentium4-xeon", count: 1 } },
    version: "2.6.13",
    smp: false,
  });
  v.port.wrmsr(0, 0x1b, 0xfee00100n);
  v.kernel.boot();
  assertEquals(imr(v), [0xfa, 0xff]);
  assertEquals(num(snap(v).pic.master.icw4) & 2, 0, "no check_timer: no AEOI");
});

Deno.test("time_init: PIT channel 0 at HZ (kexec3 1000, 2.6.13 250)", () => {
  for (const [version, latch] of [["2.6.8.1-kexec3", 1193], ["2.6.13", 4773]] as const) {
    const w = world({ config: IOAPIC_2CPU, version });
    w.kernel.boot();
    const ch = snap(w).pit.channels[0];
    assertEquals([num(ch.mode), num(ch.count)], [2, latch], version);
  }
});
