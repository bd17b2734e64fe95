/**
 * Generic old-kernel bring-up: the command line (`crashkernel=size@addr`, `reboot=s[N]`,
 * `noapic`, `nolapic`, `lapic`), the e820 map from the zero page (here: the BIOS copy in guest
 * memory), the iomem resource tree (with the x86_64 e820-64bit switch and the "Crash kernel"
 * reservation), and the free memory the page allocator manages. The architecture's boot hook
 * does the rest (page tables, GDT, interrupt hardware, APs).
 *
 * @module
 */

import type { BootE820Entry, KernelCmdline } from "./arch.ts";

/** A malformed kernel command line option. */
export class CmdlineError extends SyntaxError {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "CmdlineError";
  }
}

/**
 * memparse: a C-style number (0x hex, leading 0 octal, decimal) with an optional K/M/G suffix.
 * Returns the value and the rest of the string.
 *
 * @example
 * ```ts
 * import { memparse } from "./boot.ts";
 * memparse("64M@16M"); // { value: 67108864n, rest: "@16M" }
 * ```
 */
export function memparse(s: string): { value: bigint; rest: string } {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([KkMmGg]?)/.exec(s);
  if (!m) return { value: 0n, rest: s };
  const digits = m[1];
  let v: bigint;
  if (/^0[xX]/.test(digits)) v = BigInt(digits);
  else if (digits.length > 1 && digits[0] === "0") v = BigInt("0o" + digits.slice(1));
  else v = BigInt(digits);
  const suf = m[2].toUpperCase();
  if (suf === "G") v <<= 30n;
  else if (suf === "M") v <<= 20n;
  else if (suf === "K") v <<= 10n;
  return { value: v, rest: s.slice(m[0].length) };
}

/**
 * Parse the options the model understands. `crashkernel=` is recognised only when the version
 * has it (2.6.13); `reboot=` is parsed as i386's reboot_setup does (comma separated letters,
 * `s` followed by one or two digits selects reboot_cpu).
 *
 * @example
 * ```ts
 * import { parseCmdline } from "./boot.ts";
 * parseCmdline("ro reboot=s1 crashkernel=64M@16M", { crashkernel: true }).rebootCpu; // 1
 * ```
 */
export function parseCmdline(raw: string, options: { crashkernel: boolean }): KernelCmdline {
  let crashkernel: KernelCmdline["crashkernel"];
  let rebootCpu = -1;
  let noapic = false, nolapic = false, lapic = false;
  for (const word of raw.split(/\s+/).filter((w) => w.length > 0)) {
    if (word === "noapic") noapic = true;
    else if (word === "nolapic") nolapic = true;
    else if (word === "lapic") lapic = true;
    else if (word.startsWith("crashkernel=") && options.crashkernel) {
      const size = memparse(word.slice("crashkernel=".length));
      if (size.rest.startsWith("@")) {
        const base = memparse(size.rest.slice(1));
        crashkernel = { start: base.value, end: base.value + size.value - 1n };
      }
    } else if (word.startsWith("reboot=")) {
      for (const tok of word.slice("reboot=".length).split(",")) {
        if (tok[0] === "s") {
          const d1 = tok[1], d2 = tok[2];
          if (d1 !== undefined && /[0-9]/.test(d1)) {
            rebootCpu = Number(d1);
            if (d2 !== undefined && /[0-9]/.test(d2)) rebootCpu = rebootCpu * 10 + Number(d2);
          }
        }
      }
    }
  }
  return { raw, crashkernel, rebootCpu, noapic, nolapic, lapic };
}

/**
 * Free RAM for the page allocator: e820 RAM from 1 MiB up, below `top`, without the kernel
 * image and boot allocations (below `bootmemEnd`) and without the crashkernel reservation.
 *
 * @example
 * ```ts
 * import { freeRanges } from "./boot.ts";
 * freeRanges([{ base: 0x100000, size: 0x7f00000, type: "ram" }], { bootmemEnd: 0x500000, top: 0x8000000 });
 * // [{ start: 0x500000, end: 0x8000000 }]
 * ```
 */
export function freeRanges(
  e820: readonly BootE820Entry[],
  options: {
    bootmemEnd: number;
    top: number;
    reserved?: readonly { start: number; end: number }[];
  },
): { start: number; end: number }[] {
  let out: { start: number; end: number }[] = [];
  for (const e of e820) {
    if (e.type !== "ram") continue;
    const s = Math.max(e.base, options.bootmemEnd, 0x100000);
    const end = Math.min(e.base + e.size, options.top);
    if (end > s) out.push({ start: s, end });
  }
  for (const r of options.reserved ?? []) {
    const next: { start: number; end: number }[] = [];
    for (const f of out) {
      if (r.end <= f.start || r.start >= f.end) next.push(f);
      else {
        if (f.start < r.start) next.push({ start: f.start, end: r.start });
        if (f.end > r.end) next.push({ start: r.end, end: f.end });
      }
    }
    out = next;
  }
  return out;
}
