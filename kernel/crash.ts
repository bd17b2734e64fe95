/**
 * The crash path (reference kexec-kernel.md §3.5): panic(), die() (oops) and the NMI watchdog's
 * die_nmi() call crash_kexec, which takes kexec_lock, takes the crash image out of its slot and
 * runs machine_crash_shutdown then machine_kexec: no reboot notifiers, no device_shutdown
 * (the 8259 keeps its masks), no machine_shutdown. kexec3 has no crash kernel: panic stops the
 * other CPUs and spins.
 *
 * @module
 */

import type { KexecArch, KexecServices } from "./arch.ts";
import type { Kexec } from "./kexec.ts";

/** How the crash is triggered. */
export type CrashVia = "panic" | "oops" | "nmi-watchdog";

/** Arguments of the panic step. */
export interface PanicArgs {
  /** CPU that panics (default 0). */
  readonly cpu?: number;
  /** Trigger (default panic). */
  readonly via?: CrashVia;
  /** Panic message. */
  readonly message?: string;
}

/** Outcome of a panic. */
export interface PanicResult {
  /** True when a crash kernel was entered (the CPU is in the relocation stub). */
  readonly kexeced: boolean;
  /** The CPU. */
  readonly cpu: number;
}

/**
 * crash_kexec(regs) on `cpu`.
 *
 * @example
 * ```ts ignore
 * crashKexec({ k, arch, kexec }, 0, undefined); // true when a crash image was loaded
 * ```
 */
export function crashKexec(
  ctx: { k: KexecServices; arch: KexecArch; kexec: Kexec },
  cpu: number,
  withRegs: boolean,
): boolean {
  const { k, arch, kexec } = ctx;
  const st = kexec.state;
  if (st.locked) {
    k.log("crash_kexec", "kexec_lock held: returning");
    return false;
  }
  st.locked = true;
  const image = st.crashImage;
  st.crashImage = null;
  if (!image) {
    k.log("crash_kexec", "no crash image loaded");
    st.locked = false;
    return false;
  }
  arch.machineCrashShutdown(k, cpu, withRegs ? arch.crashRegs(cpu) : undefined);
  arch.machineKexec(k, image, cpu);
  return true;
}

/**
 * panic / die / die_nmi on a CPU.
 *
 * @example
 * ```ts ignore
 * panic({ k, arch, kexec }, { cpu: 1, via: "nmi-watchdog" });
 * ```
 */
export function panic(
  ctx: { k: KexecServices; arch: KexecArch; kexec: Kexec },
  args: PanicArgs,
): PanicResult {
  const { k, arch } = ctx;
  const cpu = args.cpu ?? 0;
  const via = args.via ?? "panic";
  k.machine.trace.currentCpu = cpu;
  const msg = args.message ?? "scenario";
  if (via === "oops") k.log("die", `Oops on cpu ${cpu}: kexec_should_crash`);
  else if (via === "nmi-watchdog") {
    k.log("die_nmi", `NMI Watchdog detected LOCKUP on CPU${cpu}`);
  } else k.log("panic", `Kernel panic - not syncing: ${msg}`);
  if (k.config.behaviour.crashImage) {
    if (crashKexec(ctx, cpu, via !== "panic")) return { kexeced: true, cpu };
  } else k.log("panic", "no crash_kexec in this version");
  arch.panicLoop(k, cpu);
  return { kexeced: false, cpu };
}
