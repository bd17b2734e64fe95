/**
 * Named bit fields of the PowerPC registers, as scenarios name them (`msr: { ee: 0, ir: 1 }`,
 * `cr: { cr0: 2 }`, `xer: { ca: 1 }`). Bit positions are LSB-numbered (`lsb: 15` is MSR[EE],
 * PowerPC bit 16); names are the lower-case 750 user's manual names.
 *
 * @example
 * ```ts
 * import { MSR_FIELDS } from "./fields.ts";
 * import { RegisterValue } from "../../hw/fields.ts";
 * new RegisterValue(0x00008030, 32, MSR_FIELDS).field("ee"); // 1n
 * ```
 *
 * @module
 */

import type { FieldTable } from "../../hw/fields.ts";

const flag = (lsb: number, doc: string) => ({ lsb, width: 1, doc });

/** MSR fields (hardware.md §6.1). */
export const MSR_FIELDS: FieldTable = {
  pow: flag(18, "Power management enable (doze/nap/sleep per HID0)"),
  ile: flag(16, "Exception little-endian mode (ignored: big-endian only)"),
  ee: flag(15, "External interrupt and decrementer enable"),
  pr: flag(14, "Problem state (1 = user mode)"),
  fp: flag(13, "Floating point available"),
  me: flag(12, "Machine check enable"),
  fe0: flag(11, "FP exception mode 0"),
  se: flag(10, "Single-step trace enable"),
  be: flag(9, "Branch trace enable"),
  fe1: flag(8, "FP exception mode 1"),
  ip: flag(6, "Exception prefix: vectors at 0xFFF00000 + offset"),
  ir: flag(5, "Instruction address translation"),
  dr: flag(4, "Data address translation"),
  pm: flag(2, "Performance monitor marked mode"),
  ri: flag(1, "Recoverable exception"),
  le: flag(0, "Little-endian mode (ignored: big-endian only)"),
};

/** CR fields: the eight 4-bit fields cr0..cr7 (LT=8, GT=4, EQ=2, SO=1) plus cr0's bits. */
export const CR_FIELDS: FieldTable = {
  cr0: { lsb: 28, width: 4, doc: "CR field 0 (LT GT EQ SO)" },
  cr1: { lsb: 24, width: 4, doc: "CR field 1" },
  cr2: { lsb: 20, width: 4, doc: "CR field 2" },
  cr3: { lsb: 16, width: 4, doc: "CR field 3" },
  cr4: { lsb: 12, width: 4, doc: "CR field 4" },
  cr5: { lsb: 8, width: 4, doc: "CR field 5" },
  cr6: { lsb: 4, width: 4, doc: "CR field 6" },
  cr7: { lsb: 0, width: 4, doc: "CR field 7" },
  lt: flag(31, "cr0 less than (negative)"),
  gt: flag(30, "cr0 greater than (positive)"),
  eq: flag(29, "cr0 equal (zero)"),
  so: flag(28, "cr0 summary overflow"),
};

/** XER fields. */
export const XER_FIELDS: FieldTable = {
  so: flag(31, "Summary overflow"),
  ov: flag(30, "Overflow"),
  ca: flag(29, "Carry"),
  bc: { lsb: 0, width: 7, doc: "Byte count of lswx/stswx" },
};

/** HID0 fields (hardware.md §6.5). */
export const HID0_FIELDS: FieldTable = {
  emcp: flag(31, "Enable machine check pin"),
  dbp: flag(30, "Disable bus parity"),
  eba: flag(29, "Enable address bus parity"),
  ebd: flag(28, "Enable data bus parity"),
  bclk: flag(27, "CLK_OUT select"),
  eclk: flag(25, "CLK_OUT select"),
  par: flag(24, "Disable precharge of ARTRY"),
  doze: flag(23, "Doze mode (with MSR[POW])"),
  nap: flag(22, "Nap mode (with MSR[POW])"),
  sleep: flag(21, "Sleep mode (with MSR[POW])"),
  dpm: flag(20, "Dynamic power management"),
  nhr: flag(16, "Not hard reset (software flag)"),
  ice: flag(15, "Instruction cache enable"),
  dce: flag(14, "Data cache enable"),
  ilock: flag(13, "Instruction cache lock"),
  dlock: flag(12, "Data cache lock"),
  icfi: flag(11, "Instruction cache flash invalidate"),
  dcfi: flag(10, "Data cache flash invalidate"),
  spd: flag(9, "Speculative cache access disable"),
  ifem: flag(8, "Instruction fetch M bit"),
  sge: flag(7, "Store gathering enable"),
  dcfa: flag(6, "Data cache flush assist"),
  btic: flag(5, "Branch target instruction cache enable"),
  abe: flag(3, "Address broadcast enable"),
  bht: flag(2, "Branch history table enable"),
  noopti: flag(0, "No-op the data cache touch instructions"),
};

/** Upper BAT register fields (BATxU). */
export const BATU_FIELDS: FieldTable = {
  bepi: { lsb: 17, width: 15, doc: "Block effective page index (EA bits 0-14)" },
  bl: { lsb: 2, width: 11, doc: "Block length mask (0 = 128 KiB ... 0x7FF = 256 MiB)" },
  vs: flag(1, "Valid in supervisor mode"),
  vp: flag(0, "Valid in user mode"),
};

/** Lower BAT register fields (BATxL). */
export const BATL_FIELDS: FieldTable = {
  brpn: { lsb: 17, width: 15, doc: "Block real page number" },
  wimg: { lsb: 3, width: 4, doc: "Write-through, cache-inhibited, coherent, guarded" },
  pp: { lsb: 0, width: 2, doc: "Protection: 0 none, 1 read-only, 2 read/write, 3 read-only" },
};

/** Segment register fields (T = 0 form). */
export const SR_FIELDS: FieldTable = {
  t: flag(31, "Direct-store segment (not supported on the 750: T=1 faults)"),
  ks: flag(30, "Supervisor key"),
  kp: flag(29, "User key"),
  n: flag(28, "No-execute"),
  vsid: { lsb: 0, width: 24, doc: "Virtual segment ID" },
};

/** SDR1 fields. */
export const SDR1_FIELDS: FieldTable = {
  htaborg: { lsb: 16, width: 16, doc: "Physical base of the hashed page table (64 KiB aligned)" },
  htabmask: { lsb: 0, width: 9, doc: "Hash mask (table size beyond 64 KiB)" },
};
