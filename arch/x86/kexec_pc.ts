/**
 * The PC interrupt-hardware code of the old kernel, shared by i386 and x86_64: init_8259A and
 * i8259A_shutdown, local APIC set-up and shutdown (setup_local_APIC, clear_local_APIC,
 * disable_local_APIC, disconnect_bsp_APIC), IO-APIC set-up from the MP table and
 * clear_IO_APIC/disable_IO_APIC, the INIT/SIPI sequence and IPIs through the ICR (reference
 * kexec-kernel.md §7, hardware.md). Every device access goes through the I/O port bus or the
 * physical bus with the executing CPU's index, as the real kernel's outb/apic_write do.
 *
 * @module
 */

import type { KernelMachine } from "../../kernel/arch.ts";
import { decodeMpFloatingPointer, type MpTables, readMpTables } from "../../hw/firmware.ts";
import type { PhysicalMemory } from "../../hw/memory.ts";

/** Local APIC register offsets. */
export const APIC = {
  ID: 0x20,
  LVR: 0x30,
  TASKPRI: 0x80,
  EOI: 0xb0,
  LDR: 0xd0,
  DFR: 0xe0,
  SPIV: 0xf0,
  ESR: 0x280,
  ICR: 0x300,
  ICR2: 0x310,
  LVTT: 0x320,
  LVTTHMR: 0x330,
  LVTPC: 0x340,
  LVT0: 0x350,
  LVT1: 0x360,
  LVTERR: 0x370,
} as const;

/** APIC bit constants of the kernel headers. */
export const APIC_BITS = {
  VECTOR_MASK: 0xff,
  SPIV_APIC_ENABLED: 0x100,
  SPIV_FOCUS_DISABLED: 0x200,
  LVT_MASKED: 0x10000,
  LVT_LEVEL_TRIGGER: 0x8000,
  LVT_REMOTE_IRR: 0x4000,
  INPUT_POLARITY: 0x2000,
  SEND_PENDING: 0x1000,
  MODE_MASK: 0x700,
  DM_FIXED: 0x000,
  DM_NMI: 0x400,
  DM_INIT: 0x500,
  DM_STARTUP: 0x600,
  DM_EXTINT: 0x700,
  DEST_LOGICAL: 0x800,
  INT_ASSERT: 0x4000,
  INT_LEVELTRIG: 0x8000,
  DEST_ALLBUT: 0xc0000,
} as const;

/** MSR IA32_APIC_BASE and its global enable bit. */
export const MSR_IA32_APICBASE = 0x1b;
/** IA32_APIC_BASE enable bit (bit 11). */
export const MSR_APICBASE_ENABLE = 0x800n;

/** Interrupt vectors of the 2.6 x86 kernels. */
export const VECTORS = {
  SPURIOUS: 0xff,
  ERROR: 0xfe,
  CALL_FUNCTION: 0xfb,
  FIRST_DEVICE_32: 0x31,
  FIRST_DEVICE_64: 0x31,
  SYSCALL: 0x80,
  FIRST_SYSTEM: 0xef,
} as const;

/** What boot learned about the interrupt hardware (the kernel's globals). */
export interface PcIrqState {
  /** The MP table as read from guest memory (undefined: none). */
  mp: MpTables | undefined;
  /** pic_mode: the MP table says the board has an IMCR. */
  picMode: boolean;
  /** The kernel uses local APICs. */
  useLapic: boolean;
  /** The kernel drove the IO-APIC(s). */
  useIoapic: boolean;
  /** enabled_via_apicbase (i386: the kernel set IA32_APIC_BASE.EN itself). */
  enabledViaApicbase: boolean;
  /** Local APIC physical base. */
  lapicBase: number;
  /** IO-APICs in MP table order: MMIO base and redirection entry count. */
  ioapics: { id: number; base: number; pins: number }[];
  /** IRQ → vector assigned by assign_irq_vector. */
  irqVector: Map<number, number>;
  /** Where the timer went (trace wording). */
  timer: string;
  /** cpu_online_map. */
  online: Set<number>;
  /** Physical APIC ID of each logical CPU. */
  apicIdOf: number[];
  /** cached_irq_mask of the 8259 pair (bit n = IRQ n masked). */
  cachedIrqMask: number;
}

/** Logging function: kernel function name and message. */
export type KLog = (fn: string, message: string) => void;

/**
 * Register-level access to the PC interrupt hardware as kernel code on one CPU does it.
 *
 * @example
 * ```ts ignore
 * const pc = new PcHardware({ machine, log });
 * pc.outb(0xff, 0x21);
 * ```
 */
export class PcHardware {
  readonly #m: KernelMachine;
  readonly #log: KLog;
  /** Local APIC base used by apicRead/apicWrite. */
  lapicBase = 0xfee00000;

  /** Create over a machine. */
  constructor(options: { machine: KernelMachine; log: KLog }) {
    this.#m = options.machine;
    this.#log = options.log;
  }

  /** The CPU whose code is being modelled (machine.trace.currentCpu). */
  get cpu(): number {
    return this.#m.trace.currentCpu;
  }

  /** Run `fn` as code on CPU `cpu` (sets trace.currentCpu, restores it afterwards). */
  on<T>(cpu: number, fn: () => T): T {
    const t = this.#m.trace;
    const saved = t.currentCpu;
    t.currentCpu = cpu;
    try {
      return fn();
    } finally {
      t.currentCpu = saved;
    }
  }

  /** outb(value, port). */
  outb(value: number, port: number): void {
    this.#m.io.write(port, 1, value & 0xff);
  }

  /** inb(port). */
  inb(port: number): number {
    return this.#m.io.read(port, 1);
  }

  /** apic_read(reg) on the current CPU. */
  apicRead(reg: number): number {
    return Number(this.#m.bus.read(this.lapicBase + reg, 4, this.cpu)) >>> 0;
  }

  /** apic_write(reg, value) on the current CPU. */
  apicWrite(reg: number, value: number): void {
    this.#m.bus.write(this.lapicBase + reg, 4, value >>> 0, this.cpu);
  }

  /** io_apic_read(base, reg). */
  ioapicRead(base: number, reg: number): number {
    this.#m.bus.write(base, 4, reg, this.cpu);
    return Number(this.#m.bus.read(base + 0x10, 4, this.cpu)) >>> 0;
  }

  /** io_apic_write(base, reg, value). */
  ioapicWrite(base: number, reg: number, value: number): void {
    this.#m.bus.write(base, 4, reg, this.cpu);
    this.#m.bus.write(base + 0x10, 4, value >>> 0, this.cpu);
  }

  /** Trace. */
  log(fn: string, message: string): void {
    this.#log(fn, message);
  }

  // ---- 8259A ----

  /** init_8259A(auto_eoi) with the cached mask restored at the end. */
  init8259A(autoEoi: boolean, cachedMask: number): void {
    this.outb(0xff, 0x21);
    this.outb(0xff, 0xa1);
    this.outb(0x11, 0x20); // ICW1: edge, cascade, ICW4
    this.outb(0x20, 0x21); // ICW2: IR0-7 -> 0x20-0x27
    this.outb(0x04, 0x21); // ICW3: slave on IR2
    this.outb(autoEoi ? 0x03 : 0x01, 0x21); // ICW4
    this.outb(0x11, 0xa0);
    this.outb(0x28, 0xa1); // IR8-15 -> 0x28-0x2f
    this.outb(0x02, 0xa1); // slave id 2
    this.outb(0x01, 0xa1); // slave: normal EOI
    this.outb(cachedMask & 0xff, 0x21);
    this.outb((cachedMask >> 8) & 0xff, 0xa1);
    this.log(
      "init_8259A",
      `auto_eoi=${autoEoi ? 1 : 0} masks 0x${(cachedMask & 0xff).toString(16)}/0x${
        ((cachedMask >> 8) & 0xff).toString(16)
      }`,
    );
  }

  /** i8259A_shutdown: mask every IRQ on both chips. */
  i8259AShutdown(): void {
    this.outb(0xff, 0x21);
    this.outb(0xff, 0xa1);
    this.log("i8259A_shutdown", "0xff -> 0x21, 0xff -> 0xa1");
  }

  // ---- local APIC ----

  /** get_maxlvt for the current CPU's APIC. */
  maxLvt(): number {
    const v = this.apicRead(APIC.LVR);
    const integrated = (v & 0xf0) !== 0;
    return integrated ? (v >>> 16) & 0xff : 2;
  }

  /** clear_local_APIC. */
  clearLocalApic(options: { thermal?: boolean } = {}): void {
    const maxlvt = this.maxLvt();
    const B = APIC_BITS;
    if (maxlvt >= 3) this.apicWrite(APIC.LVTERR, VECTORS.ERROR | B.LVT_MASKED);
    this.apicWrite(APIC.LVTT, this.apicRead(APIC.LVTT) | B.LVT_MASKED);
    this.apicWrite(APIC.LVT0, this.apicRead(APIC.LVT0) | B.LVT_MASKED);
    this.apicWrite(APIC.LVT1, this.apicRead(APIC.LVT1) | B.LVT_MASKED);
    if (maxlvt >= 4) this.apicWrite(APIC.LVTPC, this.apicRead(APIC.LVTPC) | B.LVT_MASKED);
    if (options.thermal && maxlvt >= 5) {
      this.apicWrite(APIC.LVTTHMR, this.apicRead(APIC.LVTTHMR) | B.LVT_MASKED);
    }
    this.apicWrite(APIC.LVTT, B.LVT_MASKED);
    this.apicWrite(APIC.LVT0, B.LVT_MASKED);
    this.apicWrite(APIC.LVT1, B.LVT_MASKED);
    if (maxlvt >= 3) this.apicWrite(APIC.LVTERR, B.LVT_MASKED);
    if (maxlvt >= 4) this.apicWrite(APIC.LVTPC, B.LVT_MASKED);
    if (options.thermal && maxlvt >= 5) this.apicWrite(APIC.LVTTHMR, B.LVT_MASKED);
    const v = this.apicRead(APIC.LVR);
    if ((v & 0xf0) !== 0) {
      if (maxlvt > 3) this.apicWrite(APIC.ESR, 0);
      this.apicRead(APIC.ESR);
    }
    this.log("clear_local_APIC", `cpu ${this.cpu}: every LVT masked (maxlvt ${maxlvt})`);
  }

  /** disable_local_APIC without the MSR step (the caller does it on i386). */
  disableLocalApic(options: { thermal?: boolean } = {}): void {
    this.clearLocalApic(options);
    const v = this.apicRead(APIC.SPIV) & ~APIC_BITS.SPIV_APIC_ENABLED;
    this.apicWrite(APIC.SPIV, v);
    this.log(
      "disable_local_APIC",
      `cpu ${this.cpu}: SPIV 0x${(v >>> 0).toString(16)} (software disabled)`,
    );
  }

  /** Wait for the ICR to be idle (the model's APIC delivers at once, so one read). */
  waitIcrIdle(): void {
    for (let i = 0; i < 1000; i++) {
      if ((this.apicRead(APIC.ICR) & APIC_BITS.SEND_PENDING) === 0) return;
    }
  }

  /** Send an IPI with a shorthand (send_IPI_allbutself) or to a physical APIC ID. */
  sendIpi(icrLow: number, dest?: number): void {
    this.waitIcrIdle();
    if (dest !== undefined) this.apicWrite(APIC.ICR2, (dest & 0xff) << 24);
    this.apicWrite(APIC.ICR, icrLow);
    this.log(
      "send_IPI",
      `ICR 0x${icrLow.toString(16)}${dest !== undefined ? ` dest ${dest}` : ""}`,
    );
  }

  /**
   * disconnect_bsp_APIC: IMCR back to PIC mode, or (with apic-virtwire-on-shutdown) the local
   * APIC into virtual wire mode; `lvt0Masked` is 2.6.13's virt_wire_setup argument.
   */
  disconnectBspApic(
    options: { picMode: boolean; virtWirePatch: boolean; lvt0Masked: boolean },
  ): void {
    if (options.picMode) {
      this.outb(0x70, 0x22);
      this.outb(0x00, 0x23);
      this.log("disconnect_bsp_APIC", "IMCR <- PIC mode (0x70 -> 0x22, 0x00 -> 0x23)");
      return;
    }
    if (!options.virtWirePatch) {
      this.log("disconnect_bsp_APIC", "no IMCR: nothing done (apic-virtwire-on-shutdown off)");
      return;
    }
    const B = APIC_BITS;
    let v = this.apicRead(APIC.SPIV);
    v &= ~B.VECTOR_MASK;
    v |= B.SPIV_APIC_ENABLED;
    v |= 0xf;
    this.apicWrite(APIC.SPIV, v);
    const clear = B.MODE_MASK | B.SEND_PENDING | B.INPUT_POLARITY | B.LVT_REMOTE_IRR |
      B.LVT_LEVEL_TRIGGER | B.LVT_MASKED;
    if (options.lvt0Masked) {
      this.apicWrite(APIC.LVT0, B.LVT_MASKED);
    } else {
      let l0 = this.apicRead(APIC.LVT0);
      l0 &= ~clear;
      l0 |= B.LVT_REMOTE_IRR | B.SEND_PENDING;
      l0 = (l0 & ~B.MODE_MASK) | B.DM_EXTINT;
      this.apicWrite(APIC.LVT0, l0);
    }
    let l1 = this.apicRead(APIC.LVT1);
    l1 &= ~clear;
    l1 |= B.LVT_REMOTE_IRR | B.SEND_PENDING;
    l1 = (l1 & ~B.MODE_MASK) | B.DM_NMI;
    this.apicWrite(APIC.LVT1, l1);
    this.log(
      "disconnect_bsp_APIC",
      `virtual wire: SPIV vector 0x0f enabled, LVT0 ${
        options.lvt0Masked ? "masked" : "ExtINT"
      }, LVT1 NMI`,
    );
  }

  // ---- IO-APIC ----

  /** Redirection entry count of the IO-APIC at `base` (register 1 bits 16-23, plus one). */
  ioapicPins(base: number): number {
    return ((this.ioapicRead(base, 1) >>> 16) & 0xff) + 1;
  }

  /** clear_IO_APIC: mask every pin that is not SMI. */
  clearIoApic(ioapics: readonly { base: number; pins: number }[]): void {
    for (const a of ioapics) {
      for (let p = 0; p < a.pins; p++) {
        const lo = this.ioapicRead(a.base, 0x10 + 2 * p);
        this.ioapicRead(a.base, 0x11 + 2 * p);
        if (((lo >>> 8) & 7) === 2) continue; // SMI: leave it
        this.ioapicWrite(a.base, 0x10 + 2 * p, 0x00010000);
        this.ioapicWrite(a.base, 0x11 + 2 * p, 0);
      }
    }
    this.log("clear_IO_APIC", `${ioapics.length} IO-APIC(s): every non-SMI pin masked`);
  }
}

/**
 * True for an MP bus type string Linux classes as ISA, EISA or MCA (the buses find_isa_irq_pin
 * and the IO-APIC setup treat as ISA). MP_bus_info compares only the length of each name
 * (`strncmp(str, "ISA", 3)`), so a type that merely starts with one of them counts too.
 *
 * @example
 * ```ts
 * import { isIsaLikeBus } from "./kexec_pc.ts";
 * isIsaLikeBus("ISA"); // true
 * isIsaLikeBus("PCI"); // false
 * ```
 */
export function isIsaLikeBus(type: string): boolean {
  return type.startsWith("ISA") || type.startsWith("EISA") || type.startsWith("MCA");
}

/**
 * find_isa_irq_pin(irq, type): the first MP interrupt entry from an ISA-like bus with that type
 * and source IRQ; its destination pin, or -1. The destination IO-APIC is ignored, as in Linux.
 */
export function findIsaIrqPin(mp: MpTables | undefined, irq: number, type: string): number {
  if (!mp) return -1;
  for (const e of mp.ioInterrupts) {
    const bus = mp.buses.find((b) => b.id === e.busId);
    if (!bus || !isIsaLikeBus(bus.type)) continue;
    if (e.type === type && e.busIrq === irq) return e.pin;
  }
  return -1;
}

/**
 * find_smp_config as the 2.6 kernels scan: [0, 1 KiB), [639 KiB, 640 KiB), [0xF0000, 1 MiB),
 * then the first KiB of the EBDA (segment at 0x40E); a candidate needs "_MP_", length 1 and a
 * zero checksum (`decodeMpFloatingPointer`) and, as smp_scan_config adds, spec revision 1 or 4.
 * Then the configuration table is decoded (a broken one counts as none, with the error returned
 * for the trace).
 */
export function findSmpConfig(memory: PhysicalMemory): { mp?: MpTables; error?: string } {
  const areas: [number, number][] = [[0, 0x400], [639 * 0x400, 0x400], [0xf0000, 0x10000]];
  const ebda = memory.read16(0x40e) << 4;
  if (ebda) areas.push([ebda, 0x400]);
  for (const [start, len] of areas) {
    for (let a = start; a + 16 <= start + len; a += 16) {
      const fp = decodeMpFloatingPointer(memory, a);
      if ("invalid" in fp || (fp.specRev !== 1 && fp.specRev !== 4)) continue;
      try {
        return { mp: readMpTables(memory, fp) };
      } catch (e) {
        return { error: (e as Error).message };
      }
    }
  }
  return {};
}
