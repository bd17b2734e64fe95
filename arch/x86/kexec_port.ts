/**
 * The {@linkcode X86CpuPort} over the project's x86 interpreter (`X86Cpu`): how the kernel
 * model loads the state its modelled code leaves in a CPU.
 *
 * @module
 */

import type { CpuCore } from "../../hw/cpu.ts";
import type { X86Cpu } from "./cpu.ts";
import { GPR_NAMES, type X86CpuPort, type X86Segment, type X86State } from "./kexec_cpu.ts";
import { I386Kexec } from "./kexec_32.ts";
import { X8664Kexec } from "./kexec_64.ts";

const SEGS = ["cs", "ds", "es", "fs", "gs", "ss"] as const;

function toAttr(s: X86Segment): number {
  return (s.access & 0xff) | ((s.flags & 0xf) << 12);
}

function fromAttr(
  selector: number,
  base: number | bigint,
  limit: number,
  attr: number,
): X86Segment {
  return { selector, base: BigInt(base), limit, access: attr & 0xff, flags: (attr >> 12) & 0xf };
}

/**
 * Build the port over a machine's CPUs (all `X86Cpu` of the same model).
 *
 * @example
 * ```ts ignore
 * const port = x86CpuPort(machine.cpus);
 * port.caps.pae;
 * ```
 */
export function x86CpuPort(cpus: readonly CpuCore[]): X86CpuPort {
  const all = cpus as readonly X86Cpu[];
  const cpu = (i: number): X86Cpu => {
    const c = all[i];
    if (!c) throw new RangeError(`No CPU ${i} on this machine`);
    return c;
  };
  const model = cpu(0).model;
  const f = model.features;
  const edx1 = model.basicLeaves[1]?.[3] ?? 0;
  return {
    caps: {
      cpuid: f.cpuid,
      i486: f.i486,
      pae: f.pae && (edx1 & (1 << 6)) !== 0,
      pse: (edx1 & (1 << 3)) !== 0,
      pge: (edx1 & (1 << 13)) !== 0,
      apic: (edx1 & (1 << 9)) !== 0,
      msr: (edx1 & (1 << 5)) !== 0,
      apicBaseMsr: f.apicBaseMsr,
      longMode: f.longMode,
      nx: f.nx,
    },
    load(i: number, s: X86State): void {
      const c = cpu(i);
      if (f.cr4) c.setCr(4, s.cr4);
      if (f.efer) c.setEfer(s.efer);
      c.setCr(3, s.cr3);
      c.setCr(0, s.cr0); // with PAE paging outside long mode this also loads the PDPTEs
      for (const name of SEGS) {
        const seg = s[name];
        c.setSegment(name, {
          selector: seg.selector,
          base: seg.base,
          limit: seg.limit,
          attributes: toAttr(seg),
        });
      }
      c.setGdtr(s.gdtr);
      c.setIdtr(s.idtr);
      GPR_NAMES.forEach((n, idx) => c.setGpr(idx, s.gpr[n] ?? 0n));
      c.setRip(s.rip);
      c.setFlags(s.rflags);
      c.setRunState(s.runState);
      if (s.nmiBlocked !== undefined) c.nmiBlocked = s.nmiBlocked;
    },
    read(i: number): X86State {
      const c = cpu(i);
      const seg = (n: typeof SEGS[number]) => {
        const v = c.getSegment(n);
        return fromAttr(v.selector, v.base, v.limit, v.attributes);
      };
      const gpr: Record<string, bigint> = {};
      GPR_NAMES.forEach((n, idx) => gpr[n] = c.getGpr(idx));
      const rs = c.runState;
      return {
        mode: (Number(c.getEfer()) & 0x400) !== 0 ? "long" : "protected",
        gpr,
        rip: c.getRip(),
        rflags: c.getFlags(),
        cr0: c.getCr(0),
        cr3: c.getCr(3),
        cr4: f.cr4 ? c.getCr(4) : 0n,
        efer: f.efer ? c.getEfer() : 0n,
        cs: seg("cs"),
        ds: seg("ds"),
        es: seg("es"),
        fs: seg("fs"),
        gs: seg("gs"),
        ss: seg("ss"),
        gdtr: c.getGdtr(),
        idtr: c.getIdtr(),
        runState: rs === "halted" || rs === "stopped" ? rs : "running",
        nmiBlocked: c.nmiBlocked,
      };
    },
    acknowledgeInterrupt: (i) => cpu(i).env.pins.acknowledge(),
    rdmsr: (i, msr) => cpu(i).readMsr(msr),
    wrmsr: (i, msr, value) => cpu(i).writeMsr(msr, value),
  };
}

/**
 * The kexec architecture hooks for a machine's x86 CPUs: `i386` (PAE page tables when the CPU
 * reports PAE, unless `pae` says otherwise) or `x86_64`.
 *
 * @example
 * ```ts ignore
 * const arch = createX86KexecArch(machine, { arch: "i386" });
 * const kernel = new KernelModel(machine, { version: "2.6.13", arch });
 * ```
 */
export function createX86KexecArch(
  machine: { readonly cpus: readonly CpuCore[] },
  options: { arch: "i386" | "x86_64"; pae?: boolean },
): I386Kexec | X8664Kexec {
  const port = x86CpuPort(machine.cpus);
  if (options.arch === "x86_64") {
    if (!port.caps.longMode) {
      throw new RangeError("An x86_64 kernel needs a CPU with long mode");
    }
    return new X8664Kexec({ port, cpuCount: machine.cpus.length });
  }
  return new I386Kexec({ port, cpuCount: machine.cpus.length, pae: options.pae });
}
