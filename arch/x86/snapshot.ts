/**
 * Snapshot of an x86 CPU for expectations and traces: mode, general registers (32-bit names,
 * plus 64-bit names on long-mode models), EIP/RIP, EFLAGS, segment registers with their caches,
 * control registers, EFER, descriptor-table registers, IA32_APIC_BASE, run state and the last
 * exception / shutdown reason.
 *
 * @example
 * ```ts ignore
 * import { buildSnapshot } from "./snapshot.ts";
 * buildSnapshot(cpu).mode; // "real"
 * ```
 *
 * @module
 */

import { RegisterValue, type Snapshot, type SnapshotValue } from "../../hw/fields.ts";
import type { X86Cpu } from "./cpu.ts";
import {
  APIC_BASE_FIELDS,
  CR0_FIELDS,
  CR4_FIELDS,
  EFER_FIELDS,
  EFLAGS_FIELDS,
  SEGMENT_ATTR_FIELDS,
} from "./fields.ts";
import { GPR_NAMES } from "./kexec_cpu.ts";

const NAMES32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const SEGS = ["es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"];

const u64 = (v: number) => BigInt.asUintN(64, BigInt(v));

/** Build the snapshot of `cpu`. */
export function buildSnapshot(cpu: X86Cpu): Snapshot {
  const out: Record<string, SnapshotValue> = {
    state: cpu.runState,
    mode: cpu.modeName,
    retired: cpu.retired,
  };
  for (let i = 0; i < 8; i++) out[NAMES32[i]] = new RegisterValue(cpu.reg[i] >>> 0, 32);
  const long = cpu.model.features.longMode;
  if (long) {
    for (let i = 0; i < 16; i++) out[GPR_NAMES[i]] = new RegisterValue(cpu.getGpr(i), 64);
    out.rip = new RegisterValue(u64(cpu.ip), 64);
  }
  out.eip = new RegisterValue(BigInt.asUintN(32, u64(cpu.ip)), 32);
  out.eflags = new RegisterValue(cpu.getFlags() >>> 0, 32, EFLAGS_FIELDS);
  for (let s = 0; s < 8; s++) {
    out[SEGS[s]] = {
      selector: cpu.segSel[s],
      base: new RegisterValue(u64(cpu.segBase[s]), long ? 64 : 32),
      limit: new RegisterValue(cpu.segLimit[s], 32),
      attributes: new RegisterValue(cpu.segAttr[s], 16, SEGMENT_ATTR_FIELDS),
    };
  }
  out.cr0 = new RegisterValue(cpu.cr0 >>> 0, 32, CR0_FIELDS);
  out.cr2 = new RegisterValue(u64(cpu.cr2), long ? 64 : 32);
  out.cr3 = new RegisterValue(u64(cpu.cr3), long ? 64 : 32);
  out.cr4 = new RegisterValue(cpu.cr4 >>> 0, 32, CR4_FIELDS);
  out.efer = new RegisterValue(cpu.efer >>> 0, 64, EFER_FIELDS);
  out.gdtr = { base: new RegisterValue(u64(cpu.gdtrBase), long ? 64 : 32), limit: cpu.gdtrLimit };
  out.idtr = { base: new RegisterValue(u64(cpu.idtrBase), long ? 64 : 32), limit: cpu.idtrLimit };
  out.apic_base = new RegisterValue(cpu.apicBase, 64, APIC_BASE_FIELDS);
  out.nmi_blocked = cpu.nmiBlocked;
  if (cpu.shutdownReason) out.shutdown_reason = cpu.shutdownReason;
  if (cpu.lastException) out.last_exception = cpu.lastException;
  return out;
}
