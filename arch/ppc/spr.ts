/**
 * mfspr / mtspr semantics by SPR number (750 user's manual §2.1; Gekko extras per hardware.md
 * §6.4-6.5). Privilege and existence checks are the caller's: these functions only say whether
 * the model implements the access.
 *
 * @example
 * ```ts ignore
 * import { sprRead } from "./spr.ts";
 * sprRead(cpu, 287); // the PVR
 * ```
 *
 * @module
 */

import type { PpcCpu } from "./cpu.ts";

/** The SPR value as mfspr reads it (unsigned), or undefined when the model lacks it. */
export function sprRead(cpu: PpcCpu, n: number): number | undefined {
  if (!Number.isInteger(n) || n < 0 || n > 1023) return undefined;
  const kind = cpu.sprValid[n];
  if (kind === 0 || kind === 3) return undefined;
  switch (n) {
    case 1:
      return cpu.getXer();
    case 8:
      return cpu.lr >>> 0;
    case 9:
      return cpu.ctr >>> 0;
    case 22:
      return cpu.readDec() >>> 0;
    case 25:
      return cpu.sdr1 >>> 0;
    case 26:
      return cpu.srr0 >>> 0;
    case 27:
      return cpu.srr1 >>> 0;
    case 268:
      return tbLow(cpu);
    case 269:
      return tbHigh(cpu);
  }
  if (n >= 528 && n <= 535) return cpu.ibat[n - 528];
  if (n >= 536 && n <= 543) return cpu.dbat[n - 536];
  return cpu.spr[n];
}

/** Lower 32 bits of the timebase. */
export function tbLow(cpu: PpcCpu): number {
  const tb = cpu.timebase();
  return (tb - Math.floor(tb / 2 ** 32) * 2 ** 32) >>> 0;
}

/** Upper 32 bits of the timebase. */
export function tbHigh(cpu: PpcCpu): number {
  return Math.floor(cpu.timebase() / 2 ** 32) >>> 0;
}

/** mtspr `n` with `v` (unsigned); returns false when the model has no writable SPR `n`. */
export function sprWrite(cpu: PpcCpu, n: number, v: number): boolean {
  if (!Number.isInteger(n) || n < 0 || n > 1023) return false;
  const kind = cpu.sprValid[n];
  if (kind !== 1 && kind !== 3) return false;
  switch (n) {
    case 1:
      cpu.setXer(v);
      return true;
    case 8:
      cpu.lr = v;
      return true;
    case 9:
      cpu.ctr = v;
      return true;
    case 22:
      cpu.writeDec(v);
      return true;
    case 25:
      cpu.sdr1 = v;
      cpu.flushTranslation();
      return true;
    case 26:
      cpu.srr0 = v;
      return true;
    case 27:
      cpu.srr1 = v;
      return true;
    case 284:
      cpu.setTimebase(tbHigh(cpu) * 2 ** 32 + v);
      return true;
    case 285:
      cpu.setTimebase(v * 2 ** 32 + tbLow(cpu));
      return true;
  }
  if (n >= 528 && n <= 535) {
    cpu.ibat[n - 528] = v;
    cpu.flushTranslation();
    return true;
  }
  if (n >= 536 && n <= 543) {
    cpu.dbat[n - 536] = v;
    cpu.flushTranslation();
    return true;
  }
  cpu.spr[n] = v;
  return true;
}
