/**
 * sys_reboot with LINUX_REBOOT_CMD_KEXEC (reference kexec-kernel.md §3.1–§3.4): magic numbers,
 * the kexec3 case inside sys_reboot and 2.6.13's kernel_kexec, the reboot notifier call,
 * device_shutdown (devices in reverse, then sysdev classes in reverse: the i8259 shutdown), then
 * the architecture's machine_shutdown and machine_kexec.
 *
 * @module
 */

import { ERRNO, type Errno } from "./errno.ts";
import type { KexecArch, KexecServices, SysdevClass } from "./arch.ts";
import type { Kexec, SyscallResult } from "./kexec.ts";

/** LINUX_REBOOT_MAGIC1. */
export const LINUX_REBOOT_MAGIC1 = 0xfee1dead;
/** LINUX_REBOOT_MAGIC2 and its alternatives. */
export const LINUX_REBOOT_MAGIC2 = [672274793, 85072278, 369367448, 537993216] as const;
/** Reboot commands. */
export const LINUX_REBOOT_CMD = {
  restart: 0x01234567,
  halt: 0xcdef0123,
  cad_on: 0x89abcdef,
  cad_off: 0,
  power_off: 0x4321fedc,
  restart2: 0xa1b2c3d4,
  sw_suspend: 0xd000fce2,
  kexec: 0x45584543,
} as const;

/** Arguments of the reboot system call. */
export interface RebootArgs {
  /** Command name or number. */
  readonly cmd: keyof typeof LINUX_REBOOT_CMD | number;
  /** CPU the calling task runs on (default 0). */
  readonly cpu?: number;
  /** magic1 (default LINUX_REBOOT_MAGIC1). */
  readonly magic1?: number;
  /** magic2 (default LINUX_REBOOT_MAGIC2). */
  readonly magic2?: number;
  /** Caller has CAP_SYS_BOOT (default true). */
  readonly capSysBoot?: boolean;
}

/** device_shutdown: no driver devices are modelled; sysdev classes in reverse. */
export function deviceShutdown(k: KexecServices, classes: readonly SysdevClass[]): void {
  k.log("device_shutdown", "devices (reverse order): none with a shutdown method");
  for (let i = classes.length - 1; i >= 0; i--) {
    const c = classes[i];
    if (c.shutdown) {
      k.log("sysdev_shutdown", `class ${c.name}: shutdown`);
      c.shutdown();
    } else k.log("sysdev_shutdown", `class ${c.name}: no shutdown method`);
  }
}

/**
 * The reboot system call as the model implements it.
 *
 * @example
 * ```ts ignore
 * sysReboot({ k, arch, kexec, sysdevs }, { cmd: "kexec" }); // { ret: 0, errno: 0 } and the CPU is in the stub
 * ```
 */
export function sysReboot(
  ctx: { k: KexecServices; arch: KexecArch; kexec: Kexec; sysdevs: readonly SysdevClass[] },
  args: RebootArgs,
): SyscallResult & { cpu?: number } {
  const { k, arch, kexec } = ctx;
  const fail = (errno: Errno, reason: string): SyscallResult => {
    k.log("sys_reboot", `${reason}: -${errno}`);
    return { ret: -ERRNO[errno], errno, reason: `${errno}: ${reason}` };
  };
  const cpu = args.cpu ?? 0;
  k.machine.trace.currentCpu = cpu;
  if (args.capSysBoot === false) return fail("EPERM", "no CAP_SYS_BOOT");
  const magic1 = args.magic1 ?? LINUX_REBOOT_MAGIC1;
  const magic2 = args.magic2 ?? LINUX_REBOOT_MAGIC2[0];
  if ((magic1 >>> 0) !== LINUX_REBOOT_MAGIC1) return fail("EINVAL", "bad magic1");
  if (!(LINUX_REBOOT_MAGIC2 as readonly number[]).includes(magic2 >>> 0)) {
    return fail("EINVAL", "bad magic2");
  }
  const cmd = typeof args.cmd === "number" ? args.cmd >>> 0 : LINUX_REBOOT_CMD[args.cmd];
  if (cmd === LINUX_REBOOT_CMD.kexec) {
    if (!k.config.patch("kexec-generic")) return fail("EINVAL", "no LINUX_REBOOT_CMD_KEXEC case");
    const image = kexec.takeImage();
    if (!image) return fail("EINVAL", "no kexec image loaded");
    k.log("notifier_call_chain", "reboot_notifier_list, SYS_RESTART");
    k.log("kernel_kexec", `system_state = ${k.config.behaviour.systemState}`);
    deviceShutdown(k, ctx.sysdevs);
    k.log("printk", "<0>Starting new kernel");
    const on = arch.machineShutdown(k, cpu);
    k.machine.trace.currentCpu = on;
    arch.machineKexec(k, image, on);
    return { ret: 0, errno: 0, cpu: on };
  }
  if (cmd === LINUX_REBOOT_CMD.halt || cmd === LINUX_REBOOT_CMD.power_off) {
    k.log(
      "notifier_call_chain",
      `reboot_notifier_list, ${cmd === LINUX_REBOOT_CMD.halt ? "SYS_HALT" : "SYS_POWER_OFF"}`,
    );
    deviceShutdown(k, ctx.sysdevs);
    arch.panicLoop(k, cpu);
    k.log("machine_halt", "no power-off hardware modelled: the CPU spins");
    return { ret: 0, errno: 0, cpu };
  }
  if (cmd === LINUX_REBOOT_CMD.restart) {
    k.log("notifier_call_chain", "reboot_notifier_list, SYS_RESTART");
    deviceShutdown(k, ctx.sysdevs);
    const on = arch.machineShutdown(k, cpu);
    k.machine.trace.currentCpu = on;
    k.machine.io.write(0x64, 1, 0xfe); // pulse the reset line through the keyboard controller
    k.log("machine_restart", "0xfe -> port 0x64");
    return { ret: 0, errno: 0, cpu: on };
  }
  return fail("EINVAL", `command 0x${cmd.toString(16)} not modelled`);
}
