/**
 * i386 kexec: the old kernel's memory layout and page tables (PAGE_OFFSET 0xC0000000, PAE or
 * not), GDT with the 2.6 kernel selectors (__KERNEL_CS 0x60, __KERNEL_DS 0x68),
 * machine_kexec_prepare/cleanup (empty), machine_shutdown for kexec3 and 2.6.13,
 * machine_crash_shutdown with the NMI shootdown and crash notes, and machine_kexec: identity map
 * of the control page in the live page tables, stub copy, segment reload, zero-limit GDT/IDT and
 * the cdecl call into the stub (reference kexec-kernel.md §4, §3.5, §7).
 *
 * @module
 */

import {
  type ArchBoot,
  type BootParams,
  type CrashRegs,
  type KexecLimits,
  type KexecServices,
  type Kimage,
  pageOf,
  type SysdevClass,
} from "../../kernel/arch.ts";
import { relocateStub } from "./kexec_stub.ts";
import { flatSegment, NULL_SEGMENT, type X86State } from "./kexec_cpu.ts";
import { MAX_NOTE_BYTES, X86Kexec } from "./kexec_x86.ts";
import { MSR_IA32_APICBASE, type PcHardware } from "./kexec_pc.ts";

/** PAGE_OFFSET. */
export const PAGE_OFFSET_32 = 0xc0000000;
/** __KERNEL_CS. */
export const KERNEL_CS_32 = 0x60;
/** __KERNEL_DS. */
export const KERNEL_DS_32 = 0x68;

/** Physical layout of the modelled i386 kernel image (bss holds the boot structures). */
export const LAYOUT_32 = {
  text: 0x100000,
  etext: 0x300000,
  edata: 0x380000,
  end: 0x400000,
  kernelText: 0x2ff000,
  swapperPgDir: 0x3a0000, // non-PAE page directory, or the PAE PDPT (+ PMDs at +0x1000..)
  emptyZeroPage: 0x3a5000,
  gdt: 0x3a6000,
  idt: 0x3a7000,
  kexecLevel1: 0x3a9000, // machine_kexec's static pgtable_level1
  kexecLevel2: 0x3aa000, // and pgtable_level2 (PAE)
  crashNotes: 0x3b0000, // NR_CPUS (32) x MAX_NOTE_BYTES
  stacks: 0x3c0000, // THREAD_SIZE 8 KiB per CPU
} as const;

const LOWMEM_MAX = 0x38000000; // 896 MiB
const FOUR_GIB = 0x1_0000_0000;
/** NR_CPUS of the modelled kernels. */
export const NR_CPUS = 32;

/** The i386 kexec architecture. */
export class I386Kexec extends X86Kexec {
  /** Architecture name. */
  readonly name = "i386" as const;
  /** asm-i386/kexec.h limits. */
  readonly limits: KexecLimits = {
    sourceMemoryLimit: 0xffffffffn,
    destinationMemoryLimit: 0xffffffffn,
    controlMemoryLimit: BigInt(PAGE_OFFSET_32),
    controlCodeSize: 4096,
    kexecArch: 3 << 16,
    wordBytes: 4,
  };
  /** PAE page tables. */
  pae = false;
  #fixPt = 0;
  #cr4 = 0n;

  /** Virtual address of a physical kernel address. */
  static virt(phys: number): number {
    return phys + PAGE_OFFSET_32;
  }

  /** Page tables, GDT, IDT and kernel text of the old kernel in guest memory. */
  protected bootMemory(
    k: Omit<KexecServices, "pages" | "allocControlPages">,
    params: BootParams,
  ): Omit<ArchBoot, "sysdevClasses"> {
    const caps = this.port.caps;
    const mem = k.machine.memory;
    const L = LAYOUT_32;
    this.pae = caps.pae && (this.paeOption ?? true);
    let ramEnd = 0;
    for (const e of params.e820) if (e.type === "ram") ramEnd = Math.max(ramEnd, e.base + e.size);
    const top = this.pae ? ramEnd : Math.min(ramEnd, FOUR_GIB);
    const lowmem = Math.min(top, LOWMEM_MAX);
    let next = L.end; // boot allocations after _end
    const kernLarge = 0x0e3 | (caps.pge ? 0x100 : 0);
    const kernPte = 0x063 | (caps.pge ? 0x100 : 0);
    if (!this.pae) {
      mem.fill(L.swapperPgDir, 4096, 0);
      for (let a = 0; a < lowmem; a += 0x400000) {
        const slot = L.swapperPgDir + ((PAGE_OFFSET_32 + a) >>> 22) * 4;
        if (caps.pse) mem.write32(slot, a + kernLarge);
        else {
          const pt = next;
          next += 4096;
          for (let i = 0; i < 1024; i++) {
            const pa = a + i * 4096;
            mem.write32(pt + i * 4, pa < lowmem ? pa + kernPte : 0);
          }
          mem.write32(slot, pt + 0x067);
        }
      }
    } else {
      const pdpt = L.swapperPgDir;
      mem.fill(pdpt, 5 * 4096, 0);
      mem.fill(L.emptyZeroPage, 4096, 0);
      for (let i = 0; i < 3; i++) mem.write64(pdpt + i * 8, BigInt(L.emptyZeroPage + 1));
      const pmd = pdpt + 4 * 4096; // the kernel quarter's PMD
      mem.write64(pdpt + 3 * 8, BigInt(pmd + 1));
      for (let a = 0; a < lowmem; a += 0x200000) {
        const slot = pmd + (a >>> 21) * 8;
        if (caps.pse) mem.write64(slot, BigInt(a + kernLarge));
        else {
          const pt = next;
          next += 4096;
          for (let i = 0; i < 512; i++) {
            const pa = a + i * 4096;
            mem.write64(pt + i * 8, BigInt(pa < lowmem ? pa + kernPte : 0));
          }
          mem.write64(slot, BigInt(pt + 0x067));
        }
      }
    }
    // cpu_gdt_table: 32 entries, kernel and user flat segments.
    mem.fill(L.gdt, 256, 0);
    mem.write64(L.gdt + 12 * 8, 0x00cf9a000000ffffn);
    mem.write64(L.gdt + 13 * 8, 0x00cf92000000ffffn);
    mem.write64(L.gdt + 14 * 8, 0x00cffa000000ffffn);
    mem.write64(L.gdt + 15 * 8, 0x00cff2000000ffffn);
    // The fixmap's last page table (FIX_APIC_BASE lives there), filled in by installInterrupts.
    const fixPt = next;
    next += 4096;
    mem.fill(fixPt, 4096, 0);
    if (!this.pae) mem.write32(L.swapperPgDir + 1023 * 4, fixPt + 0x067);
    else mem.write64(L.swapperPgDir + 4 * 4096 + 511 * 8, BigInt(fixPt + 0x067));
    this.#fixPt = fixPt;
    mem.fill(L.crashNotes, NR_CPUS * MAX_NOTE_BYTES, 0);
    this.#cr4 = (caps.pse ? 0x10n : 0n) | (caps.pge ? 0x80n : 0n) | (this.pae ? 0x20n : 0n);
    k.log(
      "paging_init",
      `${this.pae ? "PAE" : "2-level"} page tables at 0x${L.swapperPgDir.toString(16)}, lowmem 0x${
        lowmem.toString(16)
      } mapped with ${caps.pse ? "large pages" : "4 KiB pages"}`,
    );
    return {
      kernelCode: { start: L.text, end: L.etext - 1 },
      kernelData: { start: L.etext, end: L.edata - 1 },
      bootmemEnd: next,
      topOfRam: top,
      crashNotes: L.crashNotes,
    };
  }

  /** FIX_APIC_BASE, the local APIC's virtual address in the fixmap. */
  static readonly FIX_APIC = 0xfffff000 - 4 * 4096;

  /** Map the APIC (PAGE_KERNEL_NOCACHE), write kernel text and idt_table. */
  protected installInterrupts(
    k: Omit<KexecServices, "pages" | "allocControlPages">,
    apicPhys: number | undefined,
  ): void {
    const mem = k.machine.memory;
    const L = LAYOUT_32;
    const fix = I386Kexec.FIX_APIC;
    const g = this.port.caps.pge ? 0x100 : 0;
    if (apicPhys !== undefined) {
      if (!this.pae) mem.write32(this.#fixPt + ((fix >>> 12) & 1023) * 4, apicPhys + 0x073 + g);
      else mem.write64(this.#fixPt + ((fix >>> 12) & 511) * 8, BigInt(apicPhys + 0x073 + g));
    }
    this.text = this.writeKernelText(
      k,
      L.kernelText,
      32,
      apicPhys === undefined ? undefined : BigInt(fix + 0xb0),
    );
    for (let v = 0; v < 256; v++) {
      const h = I386Kexec.virt(this.handlerFor(v));
      mem.write32(L.idt + v * 8, ((KERNEL_CS_32 << 16) | (h & 0xffff)) >>> 0);
      mem.write32(L.idt + v * 8 + 4, ((h & 0xffff0000) | 0x8e00) >>> 0);
    }
  }

  /** The state of a CPU running kernel code at `rip` (kernel stack, segments, paging). */
  protected kernelState(
    cpu: number,
    rip: number,
    ifFlag: boolean,
    run: X86State["runState"],
  ): X86State {
    const caps = this.port.caps;
    const stackTop = LAYOUT_32.stacks + (cpu + 1) * 0x2000;
    return {
      mode: "protected",
      gpr: { rsp: BigInt(I386Kexec.virt(stackTop - 0x100)) },
      rip: BigInt(I386Kexec.virt(rip)),
      rflags: ifFlag ? 0x246 : 0x46,
      cr0: caps.i486 ? 0x80050033n : 0x80000011n,
      cr3: BigInt(LAYOUT_32.swapperPgDir),
      cr4: this.#cr4,
      efer: 0n,
      cs: flatSegment(KERNEL_CS_32, true),
      ds: flatSegment(KERNEL_DS_32, false),
      es: flatSegment(KERNEL_DS_32, false),
      fs: NULL_SEGMENT,
      gs: NULL_SEGMENT,
      ss: flatSegment(KERNEL_DS_32, false),
      gdtr: { base: BigInt(I386Kexec.virt(LAYOUT_32.gdt)), limit: 32 * 8 - 1 },
      idtr: { base: BigInt(I386Kexec.virt(LAYOUT_32.idt)), limit: 256 * 8 - 1 },
      runState: run,
    };
  }

  /** The i8259 sysdev class with or without its shutdown method, per the patch switches. */
  protected i8259Sysdev(
    k: Omit<KexecServices, "pages" | "allocControlPages">,
    hw: PcHardware,
  ): SysdevClass | undefined {
    const withShutdown = k.config.patch("i8259-shutdown");
    return withShutdown
      ? { name: "i8259", shutdown: () => this.i8259Shutdown(k, hw) }
      : { name: "i8259" };
  }

  /** disable_local_APIC, with the IA32_APIC_BASE step when the kernel enabled the APIC. */
  protected disableLocalApicFull(k: KexecServices, hw: PcHardware): void {
    hw.disableLocalApic({ thermal: true });
    if (this.state().enabledViaApicbase) {
      const cpu = hw.cpu;
      const v = this.port.rdmsr(cpu, MSR_IA32_APICBASE);
      this.port.wrmsr(cpu, MSR_IA32_APICBASE, v & ~0x800n);
      k.log("disable_local_APIC", `cpu ${cpu}: IA32_APIC_BASE.EN cleared`);
    }
  }

  /** lapic_shutdown (2.6.13): only when the kernel enabled the APIC through the MSR. */
  #lapicShutdown(k: KexecServices, cpu: number): void {
    const st = this.state();
    // cpu_has_apic is set again once the kernel enabled the APIC, so the flag decides.
    if (!st.enabledViaApicbase) {
      k.log("lapic_shutdown", "nothing to do (APIC not enabled via IA32_APIC_BASE)");
      return;
    }
    const hw = this.hw(k);
    hw.on(cpu, () => this.disableLocalApicFull(k, hw));
  }

  /** machine_kexec_prepare: nothing on i386. */
  machineKexecPrepare(k: KexecServices, _image: Kimage): void {
    k.log("machine_kexec_prepare", "i386: nothing to prepare");
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
      if (this.rebootCpu !== -1 && this.rebootCpu < NR_CPUS && st.online.has(this.rebootCpu)) {
        id = this.rebootCpu;
      }
      if (!st.online.has(id)) id = cpu;
      target = this.migrateAndStopOthers(k, cpu, { id, targetsIf: false });
      if (k.config.behaviour.i386UpShutdown === "lapic_shutdown") this.#lapicShutdown(k, target);
    } else {
      k.log("machine_shutdown", "UP kernel");
      if (k.config.behaviour.i386UpShutdown === "lapic_shutdown") this.#lapicShutdown(k, target);
      else if (st.useLapic) {
        const hw = this.hw(k);
        hw.on(target, () => this.disableLocalApicFull(k, hw));
      }
    }
    this.disableIoApic(k, target);
    return target;
  }

  /** machine_crash_shutdown: NMI shootdown, lapic_shutdown, disable_IO_APIC, own note. */
  machineCrashShutdown(k: KexecServices, cpu: number, regs: CrashRegs | undefined): void {
    k.log("machine_crash_shutdown", `cpu ${cpu}: irqs off`);
    const own = regs ?? this.crashRegs(cpu);
    if (this.smp) this.nmiShootdown(k, cpu);
    this.#lapicShutdown(k, cpu);
    this.disableIoApic(k, cpu);
    this.saveCrashNote(k, cpu, own);
    k.log("crash_save_self", `cpu ${cpu}: note at 0x${this.noteAddr(cpu).toString(16)}`);
  }

  /** Physical address of crash_notes[cpu]. */
  noteAddr(cpu: number): number {
    return this.crashNotesAddr + cpu * MAX_NOTE_BYTES;
  }

  /** The CPU's registers as pt_regs. */
  crashRegs(cpu: number): CrashRegs {
    const s = this.port.read(cpu);
    const g = (n: keyof X86State["gpr"]) => (s.gpr[n] ?? 0n) & 0xffffffffn;
    return {
      ebx: g("rbx"),
      ecx: g("rcx"),
      edx: g("rdx"),
      esi: g("rsi"),
      edi: g("rdi"),
      ebp: g("rbp"),
      eax: g("rax"),
      ds: BigInt(s.ds.selector),
      es: BigInt(s.es.selector),
      fs: BigInt(s.fs.selector),
      gs: BigInt(s.gs.selector),
      orig_eax: 0xffffffffn,
      eip: s.rip & 0xffffffffn,
      cs: BigInt(s.cs.selector),
      eflags: BigInt(s.rflags >>> 0),
      esp: g("rsp"),
      ss: BigInt(s.ss.selector),
    };
  }

  /** Store crash_notes[cpu]. */
  protected saveCrashNote(k: KexecServices, cpu: number, regs: CrashRegs): void {
    writeCrashNote32(k.machine.memory, this.noteAddr(cpu), { pid: 0, regs });
  }

  /** identity_map_page(address) into the live (swapper) page tables. */
  identityMapPage(k: KexecServices, address: number): void {
    const mem = k.machine.memory;
    const L = LAYOUT_32;
    if (!this.pae) {
      mem.write32(L.kexecLevel1 + ((address % 0x400000) >>> 12) * 4, (address + 0x063) >>> 0);
      mem.write32(L.swapperPgDir + (address >>> 22) * 4, L.kexecLevel1 + 0x063);
    } else {
      mem.write64(L.kexecLevel1 + ((address % 0x200000) >>> 12) * 8, BigInt(address + 0x063));
      mem.write64(
        L.kexecLevel2 + ((address % 0x40000000) >>> 21) * 8,
        BigInt(L.kexecLevel1 + 0x063),
      );
      mem.write64(
        L.swapperPgDir + Math.floor(address / 0x40000000) * 8,
        BigInt(L.kexecLevel2 + 0x001),
      );
    }
    k.log(
      "identity_map_page",
      `0x${address.toString(16)} identity mapped (${this.pae ? "PAE" : "2-level"})`,
    );
  }

  /** machine_kexec: hand the CPU to the relocation stub. */
  machineKexec(k: KexecServices, image: Kimage, cpu: number): void {
    const b = k.config.behaviour;
    const mem = k.machine.memory;
    const A = image.controlCodePage;
    const list = b.stubList === "head" ? image.head : pageOf(image.head);
    k.log("machine_kexec", `cpu ${cpu}: local_irq_disable, reboot_code_buffer 0x${A.toString(16)}`);
    this.identityMapPage(k, A);
    const stub = relocateStub({
      arch: "i386",
      variant: b.stubList === "head" ? "2.6.13" : "kexec3",
    });
    mem.writeBytes(A, stub);
    // The C call: arguments right to left, then the return address, on the kernel stack.
    const base = this.kernelState(cpu, this.text!.kexecReturn, false, "running");
    const esp = Number(base.gpr.rsp!) - 20;
    const espPhys = esp - PAGE_OFFSET_32;
    const hasPae = this.port.caps.pae ? 1 : 0;
    mem.write32(espPhys, I386Kexec.virt(this.text!.kexecReturn));
    mem.write32(espPhys + 4, list >>> 0);
    mem.write32(espPhys + 8, A);
    mem.write32(espPhys + 12, Number(image.start & 0xffffffffn));
    mem.write32(espPhys + 16, hasPae);
    this.load(cpu, {
      ...base,
      gpr: { ...this.callerRegisters, rsp: BigInt(esp) },
      rip: BigInt(A),
      rflags: 0x2,
      cs: flatSegment(KERNEL_CS_32, true),
      ds: flatSegment(KERNEL_DS_32, false),
      es: flatSegment(KERNEL_DS_32, false),
      fs: flatSegment(KERNEL_DS_32, false),
      gs: flatSegment(KERNEL_DS_32, false),
      ss: flatSegment(KERNEL_DS_32, false),
      gdtr: { base: BigInt(PAGE_OFFSET_32), limit: 0 },
      idtr: { base: BigInt(PAGE_OFFSET_32), limit: 0 },
    });
    k.log(
      "machine_kexec",
      `load_segments (CS 0x60, DS 0x68), zero-limit GDT/IDT, call relocate_new_kernel(0x${
        (list >>> 0).toString(16)
      }, 0x${A.toString(16)}, 0x${image.start.toString(16)}, ${hasPae})`,
    );
  }
}

/** ELF note constants. */
const NT_PRSTATUS = 1;
/** sizeof(struct elf_prstatus) on i386. */
export const ELF_PRSTATUS_SIZE_32 = 144;
/** i386 pt_regs order in elf_gregset_t. */
export const I386_GREGS = [
  "ebx",
  "ecx",
  "edx",
  "esi",
  "edi",
  "ebp",
  "eax",
  "ds",
  "es",
  "fs",
  "gs",
  "orig_eax",
  "eip",
  "cs",
  "eflags",
  "esp",
  "ss",
] as const;

/**
 * Store an NT_PRSTATUS "CORE" note followed by an empty terminating note header (i386 layout:
 * Elf32_Nhdr, name padded to 8 bytes, elf_prstatus with pr_pid at 24 and pr_reg at 72).
 *
 * @example
 * ```ts
 * import { PhysicalMemory } from "../../hw/memory.ts";
 * import { writeCrashNote32 } from "./kexec_32.ts";
 * const m = new PhysicalMemory({ addressSpace: 2 ** 32 });
 * writeCrashNote32(m, 0x1000, { pid: 1, regs: { eip: 0xc0100000n } });
 * m.read32(0x1000 + 8); // 1 (NT_PRSTATUS)
 * ```
 */
export function writeCrashNote32(
  memory: {
    write32(a: number, v: number): void;
    writeBytes(a: number, b: Uint8Array): void;
    fill(a: number, n: number, b?: number): void;
  },
  addr: number,
  note: { pid: number; regs: CrashRegs },
): void {
  memory.fill(addr, 12 + 8 + ELF_PRSTATUS_SIZE_32 + 12, 0);
  memory.write32(addr, 5);
  memory.write32(addr + 4, ELF_PRSTATUS_SIZE_32);
  memory.write32(addr + 8, NT_PRSTATUS);
  memory.writeBytes(addr + 12, new TextEncoder().encode("CORE\0"));
  const desc = addr + 20;
  memory.write32(desc + 24, note.pid);
  I386_GREGS.forEach((r, i) =>
    memory.write32(desc + 72 + i * 4, Number((note.regs[r] ?? 0n) & 0xffffffffn))
  );
}
