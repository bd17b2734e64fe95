/**
 * Named bit fields of the x86 control and flag registers, as scenarios name them
 * (`cr0: { pg: 0 }`, `eflags: { if: 1 }`). Names are the lower-case datasheet names.
 *
 * @example
 * ```ts
 * import { CR0_FIELDS } from "./fields.ts";
 * import { RegisterValue } from "../../hw/fields.ts";
 * new RegisterValue(0x80000011, 32, CR0_FIELDS).field("pg"); // 1n
 * ```
 *
 * @module
 */

import type { FieldTable } from "../../hw/fields.ts";

const flag = (lsb: number, doc: string) => ({ lsb, width: 1, doc });

/** CR0 fields (Intel SDM vol. 3 §2.5). */
export const CR0_FIELDS: FieldTable = {
  pe: flag(0, "Protection enable"),
  mp: flag(1, "Monitor coprocessor"),
  em: flag(2, "x87 emulation (FPU instructions raise #NM)"),
  ts: flag(3, "Task switched"),
  et: flag(4, "Extension type (hard-wired 1 from the 486)"),
  ne: flag(5, "Numeric error reporting"),
  wp: flag(16, "Write protect (supervisor writes honour read-only pages)"),
  am: flag(18, "Alignment mask"),
  nw: flag(29, "Not write-through"),
  cd: flag(30, "Cache disable"),
  pg: flag(31, "Paging"),
};

/** CR4 fields (Intel SDM vol. 3 §2.5). */
export const CR4_FIELDS: FieldTable = {
  vme: flag(0, "Virtual-8086 mode extensions"),
  pvi: flag(1, "Protected-mode virtual interrupts"),
  tsd: flag(2, "Time stamp disable (RDTSC at CPL>0 raises #GP)"),
  de: flag(3, "Debugging extensions"),
  pse: flag(4, "Page size extensions (4 MiB pages with 2-level paging)"),
  pae: flag(5, "Physical address extension"),
  mce: flag(6, "Machine-check enable"),
  pge: flag(7, "Page global enable"),
  pce: flag(8, "Performance-monitoring counter enable"),
  osfxsr: flag(9, "OS supports FXSAVE/FXRSTOR"),
  osxmmexcpt: flag(10, "OS supports unmasked SIMD exceptions"),
};

/** EFER fields (MSR 0xC0000080). */
export const EFER_FIELDS: FieldTable = {
  sce: flag(0, "SYSCALL enable"),
  lme: flag(8, "Long mode enable"),
  lma: flag(10, "Long mode active (read-only, set when paging is enabled with LME)"),
  nxe: flag(11, "No-execute enable"),
  svme: flag(12, "SVM enable (AMD)"),
  ffxsr: flag(14, "Fast FXSAVE/FXRSTOR (AMD)"),
};

/** EFLAGS / RFLAGS fields. */
export const EFLAGS_FIELDS: FieldTable = {
  cf: flag(0, "Carry"),
  pf: flag(2, "Parity of the low result byte"),
  af: flag(4, "Auxiliary carry"),
  zf: flag(6, "Zero"),
  sf: flag(7, "Sign"),
  tf: flag(8, "Trap"),
  if: flag(9, "Interrupt enable"),
  df: flag(10, "Direction"),
  of: flag(11, "Overflow"),
  iopl: { lsb: 12, width: 2, doc: "I/O privilege level" },
  nt: flag(14, "Nested task"),
  rf: flag(16, "Resume"),
  vm: flag(17, "Virtual-8086 mode"),
  ac: flag(18, "Alignment check (cannot be set on a 386)"),
  vif: flag(19, "Virtual interrupt flag"),
  vip: flag(20, "Virtual interrupt pending"),
  id: flag(21, "CPUID available (toggles only on CPUs with CPUID)"),
};

/**
 * IA32_APIC_BASE fields (MSR 0x1B): one table for the one MSR, defined with the local APIC that it
 * controls and shared by the CPU's `apic_base` register, so `expect: cpu:` and `expect: lapic:`
 * use the same names (`bsp`, `enable`, `base`).
 */
export { APIC_BASE_FIELDS } from "../../hw/lapic.ts";

/**
 * Segment attribute fields, in the packed form used by snapshots and `setSegment`:
 * bits 0-3 type, 4 S, 5-6 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G (descriptor bytes 5 and 6).
 */
export const SEGMENT_ATTR_FIELDS: FieldTable = {
  type: { lsb: 0, width: 4, doc: "Segment type" },
  s: flag(4, "Code/data (1) or system (0)"),
  dpl: { lsb: 5, width: 2, doc: "Descriptor privilege level" },
  p: flag(7, "Present"),
  avl: flag(12, "Available to software"),
  l: flag(13, "64-bit code segment"),
  db: flag(14, "Default operation size / big"),
  g: flag(15, "Granularity (limit in 4 KiB units)"),
};
