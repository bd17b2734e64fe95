/**
 * PowerPC CPU models as data: the processor version register, the timebase rate, the SPRs the
 * model implements beyond the common 750 set, and the hardware-facing facts the machine needs.
 * Sources: `shared/reference/hardware.md` §6 (750 user's manual, Dolphin's Gekko tables).
 *
 * Decisions (documented here because the reference leaves them open):
 * - `750` is a PowerPC 750 (G3) with PVR 0x00080200 (version 8, revision 2.0; the revision is
 *   UNCONFIRMED, any 0x0008xxxx value identifies a 750) on a 66 MHz bus, so the timebase
 *   (bus / 4) runs at 16.5 MHz.
 * - `gekko` is the GameCube CPU: PVR 0x00083214 ("Gekko 2.4e"), 162 MHz bus, timebase 40.5 MHz;
 *   it adds HID2 (920), the quantization registers GQR0-7 (912-919), WPAR (921), DMAU/DMAL
 *   (922/923). These are plain storage here: paired singles and the locked cache are not modelled.
 * - `750cl` is the 750CL (the Gekko's commercial sibling, also Unicorn's closest model): the
 *   Gekko SPRs plus HID4 (1011); PVR 0x00087210 (UNCONFIRMED revision), timebase 40.5 MHz.
 *
 * @example
 * ```ts
 * import { ppcModels } from "./models.ts";
 * ppcModels["gekko"].pvr.toString(16); // "83214"
 * ```
 *
 * @module
 */

import type { CpuModelInfo } from "../../hw/cpu.ts";

/** A PowerPC CPU model. */
export interface PpcModel {
  /** Name as scenarios write it. */
  readonly name: string;
  /** Processor version register (SPR 287). */
  readonly pvr: number;
  /** Timebase / decrementer frequency in Hz (bus clock / 4 on the 750 family). */
  readonly timebaseHz: number;
  /** Gekko SPRs: HID2, GQR0-7, WPAR, DMAU, DMAL. */
  readonly gekkoSprs: boolean;
  /** HID4 (SPR 1011, 750CL). */
  readonly hid4: boolean;
  /** HID0 value after hard reset. */
  readonly hid0Reset: number;
  /** HID1 value after hard reset (PLL configuration, read-only on hardware). */
  readonly hid1Reset: number;
  /** Hardware-facing facts for the machine. */
  readonly info: CpuModelInfo;
}

function info(name: string): CpuModelInfo {
  return {
    name,
    arch: "ppc",
    maxPhysAddr: 32,
    longMode: false,
    hasLocalApic: false,
    threadsPerPackage: 1,
  };
}

/** The PowerPC models by name. */
export const ppcModels: Readonly<Record<string, PpcModel>> = {
  "750": {
    name: "750",
    pvr: 0x00080200,
    timebaseHz: 16_500_000,
    gekkoSprs: false,
    hid4: false,
    hid0Reset: 0,
    hid1Reset: 0,
    info: info("750"),
  },
  "gekko": {
    name: "gekko",
    pvr: 0x00083214,
    timebaseHz: 40_500_000,
    gekkoSprs: true,
    hid4: false,
    hid0Reset: 0,
    hid1Reset: 0x80000000,
    info: info("gekko"),
  },
  "750cl": {
    name: "750cl",
    pvr: 0x00087210,
    timebaseHz: 40_500_000,
    gekkoSprs: true,
    hid4: true,
    hid0Reset: 0,
    hid1Reset: 0x80000000,
    info: info("750cl"),
  },
};

/**
 * Look up a PowerPC model by name; throws `RangeError` listing the known names.
 *
 * @example
 * ```ts
 * import { ppcModel } from "./models.ts";
 * ppcModel("750").info.arch; // "ppc"
 * ```
 */
export function ppcModel(name: string): PpcModel {
  const m = Object.hasOwn(ppcModels, name) ? ppcModels[name] : undefined;
  if (m !== undefined) return m;
  throw new RangeError(
    `Unknown PowerPC CPU model: ${name}; known models: ${Object.keys(ppcModels).join(", ")}`,
  );
}
