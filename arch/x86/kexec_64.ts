/**
 * x86_64 kexec: the old kernel's page tables (kernel text map at 0xffffffff80000000 and the
 * direct map at PAGE_OFFSET 0xffff810000000000 with 2 MiB pages), GDT (__KERNEL_CS 0x10,
 * __KERNEL_DS 0x18), machine_kexec_prepare building the identity page tables (2 MiB pages, RAM
 * rounded up to 1 GiB) and copying the stub at load time, machine_shutdown, the empty
 * machine_crash_shutdown of 2.6.13, and machine_kexec: lower half of the identity PML4 copied
 * over the live one, segment reload, zero-limit GDT/IDT, SysV call into the stub
 * (reference kexec-kernel.md §5).
 *
 * @module
 */

import {
  type ArchBoot,
  type BootParams,
  type CrashRegs,
  KernelError,
  type KexecLimits,
  type KexecServices,
  type Kimage,
  pageOf,
  type SysdevClass,
} from "../../kernel/arch.ts";
import { relocateStub } from "./kexec_stub.ts";
import { flatSegment, NULL_SEGMENT, type X86State } from "./kexec_cpu.ts";
import { MAX_NOTE_BYTES, X86Kexec } from "./kexec_x86.ts";
import type { PcHardware } from "./kexec_pc.ts";

/** PAGE_OFFSET (direct map). */
export const PAGE_OFFSET_64 = 0xffff810000000000n;
/** __START_KERNEL_map. */
export const START_KERNEL_MAP = 0xffffffff80000000n;
/** __KERNEL_CS. */
export const KERNEL_CS_64 = 0x10;
/** __KERNEL_DS. */
export const KERNEL_DS_64 = 0x18;

/** Physical layout of the modelled x86_64 kernel image. */
export const LAYOUT_64 = {
  text: 0x100000,
  pml4: 0x101000, // init_level4_pgt
  level3Kernel: 0x103000,
  level2Kernel: 0x105000,
  etext: 0x300000,
  edata: 0x380000,
  end: 0x400000,
  kernelText: 0x2ff000,
  gdt: 0x3a6000,
  idt: 0x3a7000,
  crashNotes: 0x3b0000,
  stacks: 0x3c0000,
} as const;

const NR_CPUS = 32;
const GIB = 0x40000000;

/** The x86_64 kexec architecture. */
export class X8664Kexec extends X86Kexec {
  /** Architecture name. */
  readonly name = "x86_64" as const;
  /** asm-x86_64/kexec.h limits. */
  readonly limits: KexecLimits = {
    sourceMemoryLimit: 0xffffffffffn,
    destinationMemoryLimit: 0xffffffffffn,
    controlMemoryLimit: 0xffffffffffn,
    controlCodeSize: 8192,
    kexecArch: 62 << 16,
    wordBytes: 8,
  };
  /** end_pfn << 12. */
  topOfRam = 0;
  #fixPt = 0;

  /** FIX_APIC_BASE, the local APIC's virtual address in the fixmap. */
  static readonly FIX_APIC = 0xffffffffff5fe000n;

  /** Map the APIC (PAGE_KERNEL_NOCACHE), write kernel text and idt_table. */
  protected installInterrupts(
    k: Omit<KexecServices, "pages" | "allocControlPages">,
    apicPhys: number | undefined,
  ): void {
    const mem = k.machine.memory;
    const L = LAYOUT_64;
    const fix = X8664Kexec.FIX_APIC;
    if (apicPhys !== undefined) {
      mem.write64(this.#fixPt + Number((fix >> 12n) & 511n) * 8, BigInt(apicPhys + 0x173));
    }
    this.text = this.writeKernelText(
      k,
      L.kernelText,
      64,
      apicPhys === undefined ? undefined : fix + 0xb0n,
    );
    for (let v = 0; v < 256; v++) {
      const h = START_KERNEL_MAP + BigInt(this.handlerFor(v));
      const lo = (h & 0xffffn) | (BigInt(KERNEL_CS_64) << 16n) | (0x8e00n << 32n) |
        (((h >> 16n) & 0xffffn) << 48n);
      mem.write64(L.idt + v * 16, lo);
      mem.write64(L.idt + v * 16 + 8, (h >> 32n) & 0xffffffffn);
    }
  }

  /** Page tables, GDT, IDT and kernel text of the old kernel in guest memory. */
  protected bootMemory(
    k: Omit<KexecServices, "pages" | "allocControlPages">,
    params: BootParams,
  ): Omit<ArchBoot, "sysdevClasses"> {
    const mem = k.machine.memory;
    const L = LAYOUT_64;
    const nx = this.port.caps.nx;
    let ramEnd = 0;
    for (const e of params.e820) if (e.type === "ram") ramEnd = Math.max(ramEnd, e.base + e.size);
    this.topOfRam = ramEnd;
    let next = L.end;
    mem.fill(L.pml4, 4096, 0);
    // Kernel text map: PML4[511] -> level3_kernel_pgt[510] -> 40 MiB of 2 MiB pages.
    mem.fill(L.level3Kernel, 4096, 0);
    mem.fill(L.level2Kernel, 4096, 0);
    mem.write64(L.pml4 + 511 * 8, BigInt(L.level3Kernel + 0x063));
    mem.write64(L.level3Kernel + 510 * 8, BigInt(L.level2Kernel + 0x063));
    for (let i = 0; i < 20; i++) mem.write64(L.level2Kernel + i * 8, BigInt(i * 0x200000 + 0x183));
    // Direct map of all RAM (init_memory_mapping): PML4[258] -> PUD -> PMDs of 2 MiB pages.
    const pud = next;
    next += 4096;
    mem.fill(pud, 4096, 0);
    const pml4Index = Number((PAGE_OFFSET_64 >> 39n) & 511n);
    mem.write64(L.pml4 + pml4Index * 8, BigInt(pud + 0x063));
    const largeFlags = 0x1e3n | (nx ? 1n << 63n : 0n);
    for (let g = 0; g * GIB < ramEnd && g < 512; g++) {
      const pmd = next;
      next += 4096;
      mem.write64(pud + g * 8, BigInt(pmd + 0x063));
      for (let i = 0; i < 512; i++) {
        const pa = g * GIB + i * 0x200000;
        mem.write64(pmd + i * 8, pa < ramEnd ? BigInt(pa) | largeFlags : 0n);
      }
    }
    // cpu_gdt_table
    mem.fill(L.gdt, 128, 0);
    mem.write64(L.gdt + 0x08, 0x00cf9a000000ffffn); // __KERNEL32_CS
    mem.write64(L.gdt + 0x10, 0x00af9a000000ffffn); // __KERNEL_CS (L=1)
    mem.write64(L.gdt + 0x18, 0x00cf92000000ffffn); // __KERNEL_DS
    mem.write64(L.gdt + 0x20, 0x00cffa000000ffffn); // __USER32_CS
    mem.write64(L.gdt + 0x28, 0x00cff2000000ffffn); // __USER_DS
    mem.write64(L.gdt + 0x30, 0x00affa000000ffffn); // __USER_CS
    // level2_fixmap_pgt under level3_kernel_pgt[511], and the page table holding FIX_APIC_BASE.
    const fixPd = next, fixPt = next + 4096;
    next += 8192;
    mem.fill(fixPd, 8192, 0);
    mem.write64(L.level3Kernel + 511 * 8, BigInt(fixPd + 0x063));
    mem.write64(fixPd + Number((X8664Kexec.FIX_APIC >> 21n) & 511n) * 8, BigInt(fixPt + 0x063));
    this.#fixPt = fixPt;
    mem.fill(L.crashNotes, NR_CPUS * MAX_NOTE_BYTES, 0);
    k.log(
      "init_memory_mapping",
      `direct map of 0x${ramEnd.toString(16)} bytes at 0xffff810000000000 (2 MiB pages)`,
    );
    return {
      kernelCode: { start: L.text, end: L.etext - 1 },
      kernelData: { start: L.etext, end: L.edata - 1 },
      bootmemEnd: next,
      topOfRam: ramEnd,
      crashNotes: L.crashNotes,
    };
  }

  /** The state of a CPU running kernel code at `rip` (kernel stack, segments, paging). */
  protected kernelState(
    cpu: number,
    rip: number,
    ifFlag: boolean,
    run: X86State["runState"],
  ): X86State {
    const stackTop = LAYOUT_64.stacks + (cpu + 1) * 0x2000;
    return {
      mode: "long",
      gpr: { rsp: PAGE_OFFSET_64 + BigInt(stackTop - 0x100) },
      rip: START_KERNEL_MAP + BigInt(rip),
      rflags: ifFlag ? 0x246 : 0x46,
      cr0: 0x80050033n,
      cr3: BigInt(LAYOUT_64.pml4),
      cr4: 0x6a0n,
      efer: 0x501n | (this.port.caps.nx ? 0x800n : 0n),
      cs: flatSegment(KERNEL_CS_64, true, true),
      ds: flatSegment(KERNEL_DS_64, false),
      es: flatSegment(KERNEL_DS_64, false),
      fs: NULL_SEGMENT,
      gs: NULL_SEGMENT,
      ss: flatSegment(KERNEL_DS_64, false),
      gdtr: { base: START_KERNEL_MAP + BigInt(LAYOUT_64.gdt), limit: 16 * 8 - 1 },
      idtr: { base: START_KERNEL_MAP + BigInt(LAYOUT_64.idt), limit: 256 * 16 - 1 },
      runState: run,
    };
  }

  /** The i8259 sysdev class with or without its shutdown method, per the patch switches. */
  protected i8259Sysdev(
    k: Omit<KexecServices, "pages" | "allocControlPages">,
    hw: PcHardware,
  ): SysdevClass | undefined {
    const patched = k.config.patch("i8259-sysfs");
    if (patched) return { name: "i8259", shutdown: () => this.i8259Shutdown(k, hw) };
    // Without the patch kexec3's x86_64 has no i8259 sysdev; 2.6.13's has one without shutdown.
    return k.config.behaviour.crashImage ? { name: "i8259" } : undefined;
  }

  /** disable_local_APIC (x86_64 has no MSR step). */
  protected disableLocalApicFull(_k: KexecServices, hw: PcHardware): void {
    hw.disableLocalApic();
  }

  /**
   * machine_kexec_prepare: identity map [0, end_pfn << 12) rounded up to 1 GiB with 2 MiB
   * pages in control pages; copy the stub into the code page (start_pgtable + 4096).
   */
  machineKexecPrepare(k: KexecServices, image: Kimage): void {
    const mem = k.machine.memory;
    const start = image.controlCodePage;
    const last = this.topOfRam;
    const tables: number[] = [];
    const alloc = (): number => {
      const p = k.allocControlPages(image, 0);
      if (p === null) {
        throw new KernelError("ENOMEM", "no control page for the identity page tables");
      }
      tables.push(p);
      return p;
    };
    for (let i = 0; i < 512; i++) {
      const base = i * 2 ** 39;
      if (base >= last) {
        mem.write64(start + i * 8, 0n);
        continue;
      }
      const pud = alloc();
      mem.write64(start + i * 8, BigInt(pud + 0x063));
      for (let j = 0; j < 512; j++) {
        const b1 = base + j * GIB;
        if (b1 >= last) {
          mem.write64(pud + j * 8, 0n);
          continue;
        }
        const pmd = alloc();
        mem.write64(pud + j * 8, BigInt(pmd + 0x063));
        for (let m = 0; m < 512; m++) mem.write64(pmd + m * 8, BigInt(b1 + m * 0x200000 + 0x0e3));
      }
    }
    image.arch = { pageTables: tables };
    const variant = k.config.behaviour.stubList === "head" ? "2.6.13" : "kexec3";
    mem.writeBytes(start + 4096, relocateStub({ arch: "x86_64", variant }));
    k.log(
      "machine_kexec_prepare",
      `identity map of 0x${
        last.toString(16)
      } (rounded to 1 GiB) in ${tables.length} page(s), PML4 0x${start.toString(16)}, stub at 0x${
        (start + 4096).toString(16)
      }`,
    );
  }

  /** machine_kexec_cleanup: empty. */
  machineKexecCleanup(_k: KexecServices, _image: Kimage): void {}

  /** machine_shutdown; returns the CPU the rebooting task ends up on. */
  machineShutdown(k: KexecServices, cpu: number): number {
    if (!k.config.patch("reboot-on-bsp")) {
      k.log("machine_shutdown", "not present (reboot-on-bsp patch off): CPUs and APICs untouched");
      return cpu;
    }
    const st = this.state();
    let target = cpu;
    if (this.smp) {
      let id = 0;
      if (!st.online.has(id)) id = cpu;
      target = this.migrateAndStopOthers(k, cpu, { id, targetsIf: true });
    } else if (st.useLapic) {
      const hw = this.hw(k);
      hw.on(target, () => this.disableLocalApicFull(k, hw));
    }
    this.disableIoApic(k, target);
    return target;
  }

  /** machine_crash_shutdown: empty in x86_64 2.6.13. */
  machineCrashShutdown(k: KexecServices, cpu: number, _regs: CrashRegs | undefined): void {
    k.log("machine_crash_shutdown", `cpu ${cpu}: x86_64 2.6.13 does nothing here`);
  }

  /** The CPU's registers as pt_regs. */
  crashRegs(cpu: number): CrashRegs {
    const s = this.port.read(cpu);
    const out: Record<string, bigint> = {};
    for (const [k, v] of Object.entries(s.gpr)) out[k] = v ?? 0n;
    out.rip = s.rip;
    out.eflags = BigInt(s.rflags);
    out.cs = BigInt(s.cs.selector);
    out.ss = BigInt(s.ss.selector);
    return out;
  }

  /** No crash notes on x86_64 in 2.6.13. */
  protected saveCrashNote(_k: KexecServices, _cpu: number, _regs: CrashRegs): void {}

  /** machine_kexec: hand the CPU to the relocation stub. */
  machineKexec(k: KexecServices, image: Kimage, cpu: number): void {
    const b = k.config.behaviour;
    const mem = k.machine.memory;
    const startPgtable = image.controlCodePage;
    const code = startPgtable + 4096;
    const list = b.stubList === "head" ? image.head : pageOf(image.head);
    k.log("machine_kexec", `cpu ${cpu}: local_irq_disable, control code 0x${code.toString(16)}`);
    // The lower half of the identity PML4 over the live one, then __flush_tlb().
    mem.copy(LAYOUT_64.pml4, startPgtable, 2048);
    const base = this.kernelState(cpu, this.text!.kexecReturn, false, "running");
    const rsp = base.gpr.rsp! - 8n;
    mem.write64(Number(rsp - PAGE_OFFSET_64), START_KERNEL_MAP + BigInt(this.text!.kexecReturn));
    this.load(cpu, {
      ...base,
      gpr: {
        ...this.callerRegisters,
        rsp,
        rdi: BigInt(list),
        rsi: BigInt(code),
        rdx: image.start,
        rcx: BigInt(startPgtable),
      },
      rip: BigInt(code),
      rflags: 0x2,
      ds: flatSegment(KERNEL_DS_64, false),
      es: flatSegment(KERNEL_DS_64, false),
      fs: flatSegment(KERNEL_DS_64, false),
      gs: flatSegment(KERNEL_DS_64, false),
      ss: flatSegment(KERNEL_DS_64, false),
      gdtr: { base: PAGE_OFFSET_64, limit: 0 },
      idtr: { base: PAGE_OFFSET_64, limit: 0 },
    });
    k.log(
      "machine_kexec",
      `PML4[0..255] <- identity map, DS/ES/SS/FS/GS 0x18, zero-limit GDT/IDT, call relocate_new_kernel(0x${
        list.toString(16)
      }, 0x${code.toString(16)}, 0x${image.start.toString(16)}, 0x${startPgtable.toString(16)})`,
    );
  }
}
