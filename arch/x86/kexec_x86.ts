/**
 * The part of the old x86 kernel that i386 and x86_64 share: bring-up of the interrupt
 * hardware from the MP table (init_8259A, setup_local_APIC, setup_IO_APIC with check_timer,
 * INIT/SIPI start of the APs), device_shutdown's i8259 sysdev, smp_send_stop, disable_IO_APIC,
 * the NMI shootdown and crash notes. `kexec_32.ts` and `kexec_64.ts` add page tables,
 * descriptor tables, machine_shutdown and machine_kexec of each architecture.
 *
 * @module
 */

import type {
  ArchBoot,
  BootParams,
  CrashRegs,
  KexecArch,
  KexecLimits,
  KexecServices,
  Kimage,
  SysdevClass,
} from "../../kernel/arch.ts";
import { assemble } from "./asm.ts";
import {
  APIC,
  APIC_BITS,
  findIsaIrqPin,
  findSmpConfig,
  isIsaLikeBus,
  PcHardware,
  type PcIrqState,
  VECTORS,
} from "./kexec_pc.ts";
import type { X86CpuPort, X86State } from "./kexec_cpu.ts";

/** The services available during boot (no page allocator yet). */
export type BootServices = Omit<KexecServices, "pages" | "allocControlPages">;

/** Options for the x86 kexec architectures. */
export interface X86KexecOptions {
  /** The CPU port (interpreter adapter). */
  readonly port: X86CpuPort;
  /** Number of logical CPUs on the board. */
  readonly cpuCount: number;
  /** i386 only: build PAE page tables (default: the CPU reports PAE). */
  readonly pae?: boolean;
}

/** Per-CPU crash note size (MAX_NOTE_BYTES). */
export const MAX_NOTE_BYTES = 1024;

/** The code blobs every kernel keeps in its text: idle loop, stop loop, panic loop, IRET. */
export interface KernelText {
  /** `sti; hlt; jmp` (cpu_idle with safe_halt). */
  readonly idle: number;
  /** `cli; hlt; jmp` (stop_this_cpu / crash_nmi_callback). */
  readonly stop: number;
  /** `hlt; jmp` with interrupts left as they are (x86_64 smp_really_stop_cpu). */
  readonly haltLoop: number;
  /** `sti; jmp $` (the panic loop). */
  readonly panicLoop: number;
  /** An interrupt handler that returns (IRET). */
  readonly iret: number;
  /** 8259 master IRQ handler (EOI to 0x20). */
  readonly irqMaster: number;
  /** 8259 slave IRQ handler (EOI to 0xA0 and 0x20). */
  readonly irqSlave: number;
  /** Local APIC vector handler (EOI register write). */
  readonly irqApic: number;
  /** Return address machine_kexec's call pushes (never used). */
  readonly kexecReturn: number;
}

/**
 * Shared x86 kexec architecture. Subclasses provide the layout, page tables and CPU states.
 */
export abstract class X86Kexec implements KexecArch {
  abstract readonly name: "i386" | "x86_64";
  abstract readonly limits: KexecLimits;
  /** The CPU port. */
  readonly port: X86CpuPort;
  /** Logical CPUs on the board. */
  readonly cpuCount: number;
  /** The `pae` option (i386). */
  protected readonly paeOption: boolean | undefined;
  /** Interrupt hardware state learned at boot. */
  irq: PcIrqState | undefined;
  /** Kernel text addresses (physical). */
  text: KernelText | undefined;
  /** CONFIG_SMP of the booted kernel. */
  smp = true;
  /** reboot_cpu from `reboot=s`. */
  rebootCpu: number = -1;
  /** Physical address of crash_notes. */
  crashNotesAddr = 0;
  /**
   * What machine_kexec's compiled code leaves in the registers that are not arguments when it
   * calls the stub (unknown for the real kernels; 0 unless a scenario or test sets them). The
   * x86_64 stub's R9/R10 quirk makes R10's value visible in R9 at the new kernel's entry.
   */
  callerRegisters: Partial<Record<import("./kexec_cpu.ts").GprName, bigint>> = {};
  /** CPU states the kernel model last loaded (for crash regs). */
  protected readonly states = new Map<number, X86State>();
  #hw: PcHardware | undefined;

  /** Create the architecture over a CPU port. */
  constructor(options: X86KexecOptions) {
    this.port = options.port;
    this.cpuCount = options.cpuCount;
    this.paeOption = options.pae;
  }

  /** Register-level hardware access (after boot). */
  protected hw(k: BootServices): PcHardware {
    if (!this.#hw) this.#hw = new PcHardware({ machine: k.machine, log: (f, m) => k.log(f, m) });
    return this.#hw;
  }

  /** The interrupt state, or a clear error when boot did not run. */
  protected state(): PcIrqState {
    if (!this.irq) throw new TypeError("Kernel not booted: run the boot step first");
    return this.irq;
  }

  // ---- abstract per-architecture pieces ----

  /** Build page tables, GDT, IDT, kernel text; returns layout facts. */
  protected abstract bootMemory(
    k: BootServices,
    params: BootParams,
  ): Omit<ArchBoot, "sysdevClasses">;
  /** The state of a CPU running kernel code at `rip` with its kernel stack. */
  protected abstract kernelState(
    cpu: number,
    rip: number,
    ifFlag: boolean,
    run: X86State["runState"],
  ): X86State;
  /** i8259 sysdev class as this architecture registers it. */
  protected abstract i8259Sysdev(k: BootServices, hw: PcHardware): SysdevClass | undefined;
  /** disable_local_APIC including the i386 MSR step. */
  protected abstract disableLocalApicFull(k: KexecServices, hw: PcHardware): void;
  /** Registers of a CPU as the crash note records them (pt_regs order). */
  abstract crashRegs(cpu: number): CrashRegs;
  /** Write crash note for `cpu` (i386 only in 2.6.13). */
  protected abstract saveCrashNote(k: KexecServices, cpu: number, regs: CrashRegs): void;
  abstract machineKexecPrepare(k: KexecServices, image: Kimage): void;
  abstract machineKexecCleanup(k: KexecServices, image: Kimage): void;
  abstract machineKexec(k: KexecServices, image: Kimage, cpu: number): void;
  abstract machineShutdown(k: KexecServices, cpu: number): number;
  abstract machineCrashShutdown(k: KexecServices, cpu: number, regs: CrashRegs | undefined): void;

  /** Load a kernel-code state into a CPU and remember it. */
  protected load(cpu: number, state: X86State): void {
    this.states.set(cpu, state);
    this.port.load(cpu, state);
  }

  /**
   * Assemble the kernel text blobs at `phys` (`bits` 32 or 64); returns their addresses. With
   * `apicEoi` (the virtual address of the local APIC's EOI register in the kernel's fixmap) the
   * device interrupt handlers acknowledge the local APIC; the 8259 handlers send a non-specific
   * EOI to the chip(s). The old kernel's real handlers do more; these only keep the controllers'
   * in-service state honest if a scenario runs the old kernel before kexec.
   */
  protected writeKernelText(
    k: BootServices,
    phys: number,
    bits: 32 | 64,
    apicEoi: bigint | undefined,
  ): KernelText {
    const ax = bits === 64 ? "rax" : "eax";
    const iret = bits === 64 ? "    iretq" : "    iretd";
    const src = [
      `bits ${bits}`,
      "idle:",
      "    sti",
      "    hlt",
      "    jmp idle",
      "stop:",
      "    cli",
      "    hlt",
      "    jmp stop",
      "halt_loop:",
      "    hlt",
      "    jmp halt_loop",
      "panic_loop:",
      "    sti",
      "    jmp panic_loop",
      "int_return:",
      iret,
      "irq_master:",
      `    push ${ax}`,
      "    mov al, 0x20",
      "    out 0x20, al",
      `    pop ${ax}`,
      iret,
      "irq_slave:",
      `    push ${ax}`,
      "    mov al, 0x20",
      "    out 0xa0, al",
      "    out 0x20, al",
      `    pop ${ax}`,
      iret,
      "irq_apic:",
      ...(apicEoi === undefined ? [] : [`    mov dword [0x${apicEoi.toString(16)}], 0`]),
      iret,
      "kexec_return:",
      "    jmp kexec_return",
      "",
    ].join("\n");
    const r = assemble(src, { bits, org: 0, file: "kernel text" });
    k.machine.memory.writeBytes(phys, r.bytes);
    const at = (l: string) => phys + Number(r.labels.get(l)!);
    return {
      idle: at("idle"),
      stop: at("stop"),
      haltLoop: at("halt_loop"),
      panicLoop: at("panic_loop"),
      iret: at("int_return"),
      irqMaster: at("irq_master"),
      irqSlave: at("irq_slave"),
      irqApic: at("irq_apic"),
      kexecReturn: at("kexec_return"),
    };
  }

  /** The handler (physical address in the kernel text) for an IDT vector. */
  protected handlerFor(vector: number): number {
    const t = this.text!;
    if (vector >= 0x20 && vector < 0x28) return t.irqMaster;
    if (vector >= 0x28 && vector < 0x30) return t.irqSlave;
    if (vector >= 0x30 && vector < 0xff) return t.irqApic;
    return t.iret; // exceptions and the spurious vector (which must not be EOI'd)
  }

  /** Map the local APIC in the fixmap (when `apicPhys` is given), write kernel text and IDT. */
  protected abstract installInterrupts(k: BootServices, apicPhys: number | undefined): void;

  // ---- KexecArch ----

  /** cpu_online_map. */
  onlineCpus(): readonly number[] {
    return [...(this.irq?.online ?? new Set([0]))].sort((a, b) => a - b);
  }

  /** Old-kernel bring-up. */
  boot(k: BootServices, params: BootParams): ArchBoot {
    const hw = this.hw(k);
    const caps = this.port.caps;
    this.smp = params.smp;
    this.rebootCpu = params.cmdline.rebootCpu;
    const layout = this.bootMemory(k, params);
    this.crashNotesAddr = layout.crashNotes;
    const found = findSmpConfig(k.machine.memory);
    if (found.error) k.log("find_smp_config", `bad MP configuration table ignored: ${found.error}`);
    const mp = found.mp;
    const st: PcIrqState = {
      mp,
      picMode: mp?.imcr ?? false,
      useLapic: false,
      useIoapic: false,
      enabledViaApicbase: false,
      lapicBase: mp && mp.configAddr !== 0 ? mp.lapicAddress : 0xfee00000,
      ioapics: [],
      irqVector: new Map(),
      timer: "8259A",
      online: new Set([0]),
      apicIdOf: [],
      cachedIrqMask: 0xffff,
    };
    this.irq = st;
    hw.lapicBase = st.lapicBase;
    this.installInterrupts(k, mp && mp.configAddr !== 0 ? st.lapicBase : undefined);
    k.log(
      "find_smp_config",
      mp
        ? `MP floating pointer at 0x${
          mp.floatingAddr.toString(16)
        }, ${mp.processors.length} CPU(s), ${mp.ioApics.length} IO-APIC(s), IMCR ${
          mp.imcr ? "present" : "absent"
        }`
        : "no MP table",
    );
    hw.on(0, () => {
      // init_IRQ: the 8259A pair with every line masked, then the cascade.
      hw.init8259A(false, st.cachedIrqMask);
      this.enable8259Irq(hw, 2);
      // time_init: PIT channel 0 as a rate generator at HZ (LATCH = (CLOCK_TICK_RATE + HZ/2) / HZ)
      const hz = k.config.behaviour.hz;
      const latch = Math.floor((1193182 + hz / 2) / hz);
      hw.outb(0x34, 0x43);
      hw.outb(latch & 0xff, 0x40);
      hw.outb(latch >> 8, 0x40);
      k.log("time_init", `PIT channel 0 mode 2, LATCH ${latch} (HZ ${hz})`);
      // Local APIC: needs the MP table (SMP config) and an APIC the kernel may use.
      // The APIC is usable when the model has one and IA32_APIC_BASE.EN is set (a CPU whose
      // BIOS disabled the APIC also hides it from CPUID). i386 `lapic` re-enables it.
      let apicOn = caps.apic;
      if (caps.apic && caps.apicBaseMsr) {
        const base = this.port.rdmsr(0, 0x1b);
        if ((base & 0x800n) === 0n) {
          apicOn = false;
          if (this.name === "i386" && params.cmdline.lapic && mp) {
            this.port.wrmsr(0, 0x1b, base | 0x800n);
            st.enabledViaApicbase = true;
            apicOn = true;
            k.log(
              "detect_init_APIC",
              "local APIC enabled via IA32_APIC_BASE (enabled_via_apicbase=1)",
            );
          } else k.log("detect_init_APIC", "local APIC disabled by the BIOS");
        }
      }
      st.useLapic = apicOn && !!mp && mp.configAddr !== 0 && !params.cmdline.nolapic;
      if (!st.useLapic) {
        this.enable8259Irq(hw, 0);
        st.timer = "8259A IRQ0";
        k.log("time_init", "timer on IRQ0 through the 8259A");
        return;
      }
      const procs = mp!.processors.filter((p) => p.enabled);
      const bsp = procs.find((p) => p.bsp) ?? procs[0];
      st.apicIdOf = [bsp?.apicId ?? 0, ...procs.filter((p) => p !== bsp).map((p) => p.apicId)];
      if (st.picMode) {
        // connect_bsp_APIC: leave PIC mode
        hw.outb(0x70, 0x22);
        hw.outb(0x01, 0x23);
        k.log("connect_bsp_APIC", "IMCR <- APIC mode (0x70 -> 0x22, 0x01 -> 0x23)");
      }
      this.setupLocalApic(k, hw, 0, st);
      // nr_ioapics and their register counts come from the MP table even with `noapic`:
      // clear_IO_APIC at shutdown walks them all.
      st.ioapics = mp!.ioApics.filter((a) => a.enabled).map((a) => ({
        id: a.id,
        base: a.address,
        pins: hw.ioapicPins(a.address),
      }));
      st.useIoapic = !params.cmdline.noapic && st.ioapics.length > 0;
      if (this.name === "x86_64") this.setupIoApic(k, hw, st);
      if (params.smp) {
        for (let cpu = 1; cpu < Math.min(this.cpuCount, st.apicIdOf.length); cpu++) {
          this.bootAp(k, hw, cpu, st);
        }
      }
      if (this.name === "i386") this.setupIoApic(k, hw, st);
      if (!st.useIoapic) {
        this.enable8259Irq(hw, 0);
        st.timer = "8259A IRQ0 via LINT0";
      }
    });
    // The BSP ends boot in cpu_idle.
    this.load(0, this.kernelState(0, this.text!.idle, true, "halted"));
    const sysdevClasses: SysdevClass[] = [];
    const i8259 = this.i8259Sysdev(k, hw);
    if (i8259) sysdevClasses.push(i8259);
    sysdevClasses.push({ name: "timer" });
    if (st.useLapic) sysdevClasses.push({ name: "lapic" });
    if (st.useIoapic) sysdevClasses.push({ name: "ioapic" });
    return { ...layout, sysdevClasses };
  }

  /** enable_8259A_irq: clear the bit in cached_irq_mask and write that chip's IMR. */
  protected enable8259Irq(hw: PcHardware, irq: number): void {
    const st = this.state();
    st.cachedIrqMask &= ~(1 << irq);
    if (irq < 8) hw.outb(st.cachedIrqMask & 0xff, 0x21);
    else hw.outb((st.cachedIrqMask >> 8) & 0xff, 0xa1);
  }

  /** disable_8259A_irq. */
  protected disable8259Irq(hw: PcHardware, irq: number): void {
    const st = this.state();
    st.cachedIrqMask |= 1 << irq;
    if (irq < 8) hw.outb(st.cachedIrqMask & 0xff, 0x21);
    else hw.outb((st.cachedIrqMask >> 8) & 0xff, 0xa1);
  }

  /** setup_local_APIC on `cpu` (runs as code on that CPU). */
  protected setupLocalApic(k: BootServices, hw: PcHardware, cpu: number, st: PcIrqState): void {
    hw.on(cpu, () => {
      const B = APIC_BITS;
      const ver = hw.apicRead(APIC.LVR);
      const integrated = (ver & 0xf0) !== 0;
      // init_apic_ldr: flat logical mode, logical ID = bit of the CPU number
      hw.apicWrite(APIC.DFR, 0xffffffff);
      const ldr = hw.apicRead(APIC.LDR) & ~0xff000000;
      hw.apicWrite(APIC.LDR, ldr | (((1 << cpu) & 0xff) << 24));
      hw.apicWrite(APIC.TASKPRI, hw.apicRead(APIC.TASKPRI) & ~0xff);
      let v = hw.apicRead(APIC.SPIV);
      v &= ~B.VECTOR_MASK;
      v |= B.SPIV_APIC_ENABLED;
      v &= ~B.SPIV_FOCUS_DISABLED;
      v |= VECTORS.SPURIOUS;
      hw.apicWrite(APIC.SPIV, v);
      const lvt0Masked = (hw.apicRead(APIC.LVT0) & B.LVT_MASKED) !== 0;
      const lvt0 = cpu === 0 && (st.picMode || !lvt0Masked)
        ? B.DM_EXTINT
        : B.DM_EXTINT | B.LVT_MASKED;
      hw.apicWrite(APIC.LVT0, lvt0);
      hw.apicWrite(APIC.LVT1, cpu === 0 ? B.DM_NMI : B.DM_NMI | B.LVT_MASKED);
      if (integrated) {
        const maxlvt = hw.maxLvt();
        if (maxlvt > 3) hw.apicWrite(APIC.ESR, 0);
        hw.apicRead(APIC.ESR);
        hw.apicWrite(APIC.LVTERR, VECTORS.ERROR);
        if (maxlvt > 3) hw.apicWrite(APIC.ESR, 0);
      }
      k.log(
        "setup_local_APIC",
        `cpu ${cpu}: SPIV 0x${(v >>> 0).toString(16)}, LVT0 0x${lvt0.toString(16)} (${
          lvt0 & B.LVT_MASKED ? "masked" : "ExtINT"
        }), LVT1 ${cpu === 0 ? "NMI" : "masked NMI"}`,
      );
    });
  }

  /** wakeup_secondary_cpu (INIT, INIT deassert, two STARTUPs) from the BSP, then the AP's set-up. */
  protected bootAp(k: BootServices, hw: PcHardware, cpu: number, st: PcIrqState): void {
    const B = APIC_BITS;
    const apicId = st.apicIdOf[cpu];
    const trampoline = this.name === "i386" ? 0x2000 : 0x6000;
    k.log("do_boot_cpu", `Booting processor ${cpu}/${apicId} eip ${trampoline.toString(16)}`);
    hw.on(0, () => {
      hw.apicWrite(APIC.ESR, 0);
      hw.apicRead(APIC.ESR);
      hw.sendIpi(B.INT_LEVELTRIG | B.INT_ASSERT | B.DM_INIT, apicId);
      hw.sendIpi(B.INT_LEVELTRIG | B.DM_INIT, apicId);
      for (let i = 0; i < 2; i++) {
        hw.apicWrite(APIC.ESR, 0);
        hw.apicRead(APIC.ESR);
        hw.sendIpi(B.DM_STARTUP | (trampoline >> 12), apicId);
      }
    });
    // The trampoline and start_secondary run on the AP: protected/long mode, paging, then
    // setup_local_APIC and cpu_idle.
    this.setupLocalApic(k, hw, cpu, st);
    st.online.add(cpu);
    this.load(cpu, this.kernelState(cpu, this.text!.idle, true, "halted"));
    k.log("start_secondary", `cpu ${cpu} online, idle`);
  }

  /** assign_irq_vector. */
  #nextVector: number = VECTORS.FIRST_DEVICE_32;
  #vectorOffset = 0;
  /** assign_irq_vector: 0x31 + 8 steps, skipping the syscall vector. */
  protected assignIrqVector(irq: number): number {
    const st = this.state();
    const have = st.irqVector.get(irq);
    if (have !== undefined) return have;
    for (;;) {
      this.#nextVector += 8;
      if (this.#nextVector === VECTORS.SYSCALL) continue;
      if (this.#nextVector >= VECTORS.FIRST_SYSTEM) {
        this.#vectorOffset++;
        this.#nextVector = VECTORS.FIRST_DEVICE_32 + this.#vectorOffset;
      }
      break;
    }
    st.irqVector.set(irq, this.#nextVector);
    return this.#nextVector;
  }

  /** setup_IO_APIC: clear, program every MP INT pin, check_timer. */
  protected setupIoApic(k: BootServices, hw: PcHardware, st: PcIrqState): void {
    if (!st.useIoapic) return;
    const mp = st.mp!;
    hw.on(0, () => {
      hw.clearIoApic(st.ioapics); // enable_IO_APIC
      const dest = [...st.online].reduce((m, c) => m | (1 << c), 0) & 0xff;
      st.ioapics.forEach((a) => {
        for (let pin = 0; pin < a.pins; pin++) {
          const e = mp.ioInterrupts.find((x) =>
            x.type === "INT" && x.pin === pin && (x.ioApicId === a.id || x.ioApicId === 0xff)
          );
          if (!e) continue;
          const bus = mp.buses.find((b) => b.id === e.busId);
          const isa = bus !== undefined && isIsaLikeBus(bus.type);
          const irq = isa ? e.busIrq : pin;
          const level = e.trigger === "level" || (e.trigger === "conforms" && !isa);
          const low = e.polarity === "low" || (e.polarity === "conforms" && !isa);
          const vector = this.assignIrqVector(irq);
          const lo = vector | (1 << 8) | (1 << 11) | (low ? 1 << 13 : 0) |
            (level ? (1 << 15) | (1 << 16) : 0);
          hw.ioapicWrite(a.base, 0x11 + 2 * pin, dest << 24);
          hw.ioapicWrite(a.base, 0x10 + 2 * pin, lo);
          if (isa && irq < 16) this.disable8259Irq(hw, irq);
          k.log(
            "setup_IO_APIC_irqs",
            `IO-APIC ${a.id} pin ${pin}: IRQ ${irq} vector 0x${vector.toString(16)} ${
              level ? "level (masked until requested)" : "edge"
            }`,
          );
        }
      });
      this.checkTimer(k, hw, st);
    });
  }

  /** check_timer. */
  protected checkTimer(k: BootServices, hw: PcHardware, st: PcIrqState): void {
    const B = APIC_BITS;
    const vector = this.assignIrqVector(0);
    hw.apicWrite(APIC.LVT0, B.LVT_MASKED | B.DM_EXTINT);
    hw.init8259A(true, st.cachedIrqMask);
    this.enable8259Irq(hw, 0);
    const pin1 = findIsaIrqPin(st.mp, 0, "INT");
    const pin2 = findIsaIrqPin(st.mp, 0, "ExtINT");
    const a = st.ioapics[0];
    if (pin1 !== -1) {
      // unmask_IO_APIC_irq(0): the entry was written unmasked for edge ISA lines.
      const lo = hw.ioapicRead(a.base, 0x10 + 2 * pin1);
      hw.ioapicWrite(a.base, 0x10 + 2 * pin1, lo & ~B.LVT_MASKED);
      st.timer = `IO-APIC pin ${pin1}`;
      k.log(
        "check_timer",
        `timer IRQ0 through IO-APIC pin ${pin1} (vector 0x${
          vector.toString(16)
        }); ExtINT pin ${pin2}`,
      );
      return;
    }
    if (pin2 !== -1) {
      hw.ioapicWrite(a.base, 0x11 + 2 * pin2, (st.apicIdOf[0] ?? 0) << 24);
      hw.ioapicWrite(a.base, 0x10 + 2 * pin2, B.DM_EXTINT);
      st.timer = `8259A through IO-APIC ExtINT pin ${pin2}`;
      k.log("check_timer", `timer through the 8259A on IO-APIC pin ${pin2} (ExtINT)`);
      return;
    }
    hw.apicWrite(APIC.LVT0, B.DM_EXTINT);
    st.timer = "8259A via LVT0 virtual wire";
    k.log("check_timer", "no MP timer pin: timer through the 8259A and LVT0 (ExtINT)");
  }

  // ---- shutdown pieces ----

  /** The i386/x86_64 device_shutdown i8259 method. */
  protected i8259Shutdown(k: BootServices, hw: PcHardware): void {
    hw.on(k.machine.trace.currentCpu, () => hw.i8259AShutdown());
  }

  /**
   * The SMP part of machine_shutdown: the rebooting task migrates from `from` to `id`
   * (set_cpus_allowed, `from` goes idle), which then stops the other CPUs (smp_send_stop).
   * Returns `id`, the CPU the reboot continues on.
   */
  protected migrateAndStopOthers(
    k: KexecServices,
    from: number,
    options: { id: number; targetsIf: boolean },
  ): number {
    const id = options.id;
    k.log("machine_shutdown", `reboot_cpu=${id}`);
    if (id !== from) {
      k.log("set_cpus_allowed", `task migrates from cpu ${from} to cpu ${id}`);
      this.load(from, this.kernelState(from, this.text!.idle, true, "halted"));
    }
    k.machine.trace.currentCpu = id;
    this.smpSendStop(k, id, options.targetsIf);
    return id;
  }

  /** smp_send_stop from `cpu`: IPI the others; each disables its APIC and halts. */
  protected smpSendStop(k: KexecServices, cpu: number, targetsIf: boolean): void {
    const st = this.state();
    const hw = this.hw(k);
    const others = [...st.online].filter((c) => c !== cpu);
    if (others.length > 0 && st.useLapic) {
      hw.on(
        cpu,
        () => hw.sendIpi(APIC_BITS.DEST_ALLBUT | APIC_BITS.DEST_LOGICAL | VECTORS.CALL_FUNCTION),
      );
    }
    for (const c of others) {
      hw.on(c, () => {
        if (st.useLapic) {
          // The IPI is taken (INTA: IRR -> ISR), then smp_call_function_interrupt's ack_APIC_irq.
          const v = this.port.acknowledgeInterrupt(c);
          hw.apicWrite(APIC.EOI, 0);
          k.log("smp_call_function_interrupt", `cpu ${c}: vector 0x${v.toString(16)}, EOI`);
        }
        st.online.delete(c);
        if (st.useLapic) this.disableLocalApicFull(k, hw);
        k.log("stop_this_cpu", `cpu ${c} offline, halted${targetsIf ? " (interrupts on)" : ""}`);
      });
      this.load(
        c,
        this.kernelState(
          c,
          targetsIf ? this.text!.haltLoop : this.text!.stop,
          targetsIf,
          targetsIf ? "halted" : "stopped",
        ),
      );
    }
    if (st.useLapic) hw.on(cpu, () => this.disableLocalApicFull(k, hw));
    k.log("smp_send_stop", `cpu ${cpu} stopped ${others.length} other CPU(s)`);
  }

  /** disable_IO_APIC (with the ioapic-virtwire-on-shutdown and apic-virtwire switches). */
  protected disableIoApic(k: KexecServices, cpu: number): void {
    const st = this.state();
    const hw = this.hw(k);
    const cfg = k.config;
    hw.on(cpu, () => {
      hw.clearIoApic(st.ioapics);
      let pin = -1;
      if (cfg.patch("ioapic-virtwire-on-shutdown")) {
        pin = findIsaIrqPin(st.mp, 0, "ExtINT");
        if (pin !== -1 && st.ioapics.length > 0) {
          const base = st.ioapics[0].base;
          hw.ioapicWrite(base, 0x11 + 2 * pin, 0);
          hw.ioapicWrite(base, 0x10 + 2 * pin, APIC_BITS.DM_EXTINT);
          k.log("disable_IO_APIC", `pin ${pin} -> ExtINT (physical dest 0)`);
        } else if (pin !== -1) {
          k.log("disable_IO_APIC", `MP table names ExtINT pin ${pin} but no IO-APIC is in use`);
        }
      }
      if (!st.useLapic && !st.picMode) {
        k.log("disconnect_bsp_APIC", "no local APIC in use: writes go to the fake APIC page");
        return;
      }
      hw.disconnectBspApic({
        picMode: st.picMode,
        virtWirePatch: cfg.patch("apic-virtwire-on-shutdown"),
        lvt0Masked: cfg.behaviour.virtWireArgument && pin !== -1 && st.ioapics.length > 0,
      });
    });
  }

  /**
   * nmi_shootdown_cpus (i386 2.6.13, SMP kernels): NMI IPI to all-but-self; each CPU saves its
   * note, disables its local APIC and halts; then the crashing CPU disables its own APIC.
   *
   * The two disable_local_APIC() calls are not in the reference (it lists them as UNCONFIRMED
   * for 2.6.13). They come from [PATCH 24/29] x86-crash_shutdown-apic-shutdown of the January
   * 2005 series that was merged for 2.6.13 (the same patch that added the lapic_shutdown and
   * disable_IO_APIC calls of machine_crash_shutdown), and they are still in the pre-image of
   * "i386 kexec-on-panic: Don't shutdown the apics" (October 2005, after 2.6.13).
   */
  protected nmiShootdown(k: KexecServices, cpu: number): void {
    const st = this.state();
    const hw = this.hw(k);
    if (!st.useLapic) return;
    const others = [...st.online].filter((c) => c !== cpu);
    // send_IPI_allbutself returns at once when this is the only CPU online.
    if (others.length > 0) {
      hw.on(
        cpu,
        () => hw.sendIpi(APIC_BITS.DEST_ALLBUT | APIC_BITS.DM_NMI | APIC_BITS.DEST_LOGICAL),
      );
    }
    for (const c of others) {
      const regs = this.crashRegs(c);
      hw.on(c, () => {
        this.saveCrashNote(k, c, regs);
        this.disableLocalApicFull(k, hw);
        k.log("crash_nmi_callback", `cpu ${c}: note saved, local APIC disabled, halting`);
      });
      // crash_nmi_callback halts inside the NMI handler: no IRET, so NMIs stay blocked.
      this.load(c, { ...this.kernelState(c, this.text!.stop, false, "stopped"), nmiBlocked: true });
    }
    // "Leave the nmi callback set", then the crashing CPU's own APIC.
    hw.on(cpu, () => this.disableLocalApicFull(k, hw));
    k.log("nmi_shootdown_cpus", `cpu ${cpu}: ${others.length} CPU(s) stopped by NMI`);
  }

  /** panic() after crash_kexec returned: smp_send_stop, then the blink loop with irqs on. */
  panicLoop(k: KexecServices, cpu: number): void {
    if (this.smp) this.smpSendStop(k, cpu, this.name === "x86_64");
    this.load(cpu, this.kernelState(cpu, this.text!.panicLoop, true, "running"));
    k.log("panic", `cpu ${cpu} spins in the panic loop`);
  }
}
