/**
 * Disassembler for the PowerPC subset of the assembler (`asm.ts`), printing GNU objdump-like text
 * in GNU as syntax:
 *
 * - registers as `r3`, CR fields as `cr1`, CR bits as `lt`, `gt`, `eq`, `so` (CR0) and
 *   `4*cr1+eq`; a literal 0 in an `(rA|0)` position as `0` (`lwz r3,8(0)`, `dcbst 0,r8`);
 * - extended mnemonics where GNU as has them: `li`, `lis`, `mr`, `not`, `nop`, `cmpw`, `slwi`,
 *   `srwi`, `clrlwi`, `clrrwi`, `rotlwi`, `beq cr1,...`, `bdnz`, `blr`, `bctrl`, `trap`, `tweq`,
 *   `crclr`; named SPR moves (`mtsrr0 r8`, `mflr r0`, `mtsprg 0,r3`, `mtibatu 1,r3`, `mftb r3`) and
 *   `mtspr 1008,r3` / `mfspr r3,1008` for the others;
 * - immediates: signed decimal (`addi r3,r3,-4`), unsigned 16-bit fields in hex from 10 on
 *   (`ori r3,r3,0x8000`, `lis r3,0x1234`);
 * - branch targets as absolute hex addresses (`bdnz 0x100`), or with `relativeBranches` as
 *   `.+8` / `.-4` (GNU as reads a plain number as a displacement, so only the relative form
 *   assembles back to the same bytes); `+`/`-` hints as needed to reproduce the y bit.
 *
 * Words outside the subset, reserved-bit variants and invalid forms (`lwzu r3,4(r3)`, a `bc` with
 * an invalid BO) decode as `.long 0x...`; a trailing partial word as `.byte 0x..`. It never throws.
 *
 * @module
 */

import {
  badStringLoad,
  type Field,
  getField,
  type InsnDef,
  INSNS,
  validBo,
  Y_BIT,
} from "./asm_table.ts";

/** Options for {@linkcode disassemble} and {@linkcode disassembleOne}. */
export interface DisasmOptions {
  /** Address of `bytes[0]` (for branch targets; default 0). */
  address?: number | bigint;
  /** Print relative branch targets as `.+8` instead of absolute addresses (default false). */
  relativeBranches?: boolean;
}

/** One disassembled instruction. */
export interface DisasmLine {
  /** Address of the first byte. */
  address: bigint;
  /** Offset in the input array. */
  offset: number;
  /** Number of bytes (4, or 1 for a trailing partial word). */
  length: number;
  /** The instruction bytes. */
  bytes: Uint8Array;
  /** GNU as syntax text. */
  text: string;
}

/** Candidate patterns by primary opcode, in table order. */
const BUCKETS: InsnDef[][] = (() => {
  const b: InsnDef[][] = Array.from({ length: 64 }, () => []);
  for (const d of INSNS) b[d.op >>> 26].push(d);
  return b;
})();

const CRB = ["lt", "gt", "eq", "so"];
const hex = (v: number) => "0x" + (v >>> 0).toString(16);
const shex = (v: number) => (v < 0 ? "-" + hex(-v) : hex(v));

function crBit(n: number): string {
  return n < 4 ? CRB[n] : `4*cr${n >> 2}+${CRB[n & 3]}`;
}

function target(disp: number, pc: number, relative: boolean): string {
  if (relative) return disp === 0 ? "." : disp > 0 ? `.+${disp}` : `.-${-disp}`;
  return hex((pc + disp) >>> 0);
}

function dispOf(w: number, fl: Field): number {
  return fl.kind === "bd" || fl.kind === "bda"
    ? ((w & 0xfffc) << 16) >> 16
    : ((w & 0x3fffffc) << 6) >> 6;
}

/** Text of the operands, or null when the word does not fit this pattern's constraints. */
function operands(d: InsnDef, w: number, pc: number, relative: boolean): string[] | null {
  const out: string[] = [];
  for (const fl of d.fields) {
    const v = getField(w, fl);
    for (const dup of fl.dup ?? []) {
      if (((w >>> dup) & ((1 << fl.bits) - 1)) !== v) return null;
    }
    if (fl.optional && v === 0) continue;
    switch (fl.kind) {
      case "gpr":
        out.push(`r${v}`);
        break;
      case "gpr0":
        out.push(v === 0 ? "0" : `r${v}`);
        break;
      case "crf":
      case "crbit":
        out.push(`cr${v}`);
        break;
      case "crb":
        out.push(crBit(v));
        break;
      case "u":
      case "nb":
        out.push(String(v));
        break;
      case "s16":
        out.push(String((v << 16) >> 16));
        break;
      case "u16":
      case "s16u":
        out.push(v < 10 ? String(v) : hex(v));
        break;
      case "mem": {
        const ra = (w >>> 16) & 0x1f;
        out.push(`${((w & 0xffff) << 16) >> 16}(${ra === 0 ? "0" : "r" + ra})`);
        break;
      }
      case "spr":
        out.push(String(((w >>> 16) & 0x1f) | (((w >>> 11) & 0x1f) << 5)));
        break;
      case "bd":
      case "li":
        out.push(target(dispOf(w, fl), pc, relative));
        break;
      case "bda":
      case "lia":
        out.push(shex(dispOf(w, fl)));
        break;
    }
  }
  return out;
}

/** rlwinm extended mnemonics (as objdump picks them). */
function rotate(w: number): string | null {
  const rc = w & 1 ? "." : "";
  const ra = (w >>> 16) & 31, rs = (w >>> 21) & 31;
  const sh = (w >>> 11) & 31, mb = (w >>> 6) & 31, me = (w >>> 1) & 31;
  const r = `r${ra},r${rs}`;
  if (mb === 0 && me === 31) return `rotlwi${rc} ${r},${sh}`;
  if (sh === 0 && me === 31) return `clrlwi${rc} ${r},${mb}`;
  if (mb === 0 && me === 31 - sh) return `slwi${rc} ${r},${sh}`;
  if (me === 31 && sh === 32 - mb) return `srwi${rc} ${r},${mb}`;
  if (sh === 0 && mb === 0) return `clrrwi${rc} ${r},${31 - me}`;
  return null;
}

function decodeWord(w: number, pc: number, relative: boolean): string | null {
  if (w >>> 26 === 21) {
    const t = rotate(w);
    if (t) return t;
  }
  for (const d of BUCKETS[w >>> 26]) {
    if (((w & d.mask) | 0) !== d.op) continue;
    if (d.hint && (d.mask & Y_BIT) === 0) {
      // B-form with a hint: the y bit must be set and agree with the displacement sign
      if (!(w & Y_BIT)) continue;
      const disp = ((w & 0xfffc) << 16) >> 16;
      if ((d.hint === "+") !== (disp >= 0)) continue;
    }
    const f0 = d.fields[0];
    if (f0?.kind === "u" && f0.shift === 21 && d.fields[1]?.kind === "crb") {
      const bo = (w >>> 21) & 31;
      if (!validBo(bo)) continue;
      if ((w >>> 26) === 19 && ((w >>> 1) & 0x3ff) === 528 && !(bo & 4)) continue;
    }
    if (d.update) {
      const ra = (w >>> 16) & 31;
      if (ra === 0 || (d.update === "load" && ra === ((w >>> 21) & 31))) continue;
    }
    if (d.lsw && badStringLoad(d.lsw, w)) continue;
    if (d.lmw && ((w >>> 16) & 31) >= ((w >>> 21) & 31)) continue;
    if (d.name === "mftb" && d.fields.length === 2) continue; // only 268/269, named above
    const ops = operands(d, w, pc, relative);
    if (ops === null) continue;
    return ops.length ? `${d.name} ${ops.join(",")}` : d.name;
  }
  return null;
}

const toNum = (a: number | bigint | undefined) => Number(BigInt.asUintN(32, BigInt(a ?? 0)));

/**
 * Disassembles the instruction at `offset` of `bytes`: 4 bytes, or `.byte 0x..` with length 1 when
 * fewer than 4 bytes remain (length 0 past the end).
 *
 * @example
 * ```ts
 * disassembleOne(new Uint8Array([0x84, 0x09, 0x00, 0x04]), 0); // { length: 4, text: "lwzu r0,4(r9)" }
 * ```
 */
export function disassembleOne(
  bytes: Uint8Array,
  offset: number,
  options: DisasmOptions = {},
): { length: number; text: string } {
  if (!(offset >= 0) || offset >= bytes.length) return { length: 0, text: "" };
  if (offset + 4 > bytes.length) return { length: 1, text: `.byte ${hex(bytes[offset])}` };
  const w = ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3]) | 0;
  const pc = (toNum(options.address) + offset) >>> 0;
  const text = decodeWord(w, pc, options.relativeBranches ?? false);
  return { length: 4, text: text ?? `.long ${hex(w)}` };
}

/**
 * Disassembles a whole buffer, one line per word.
 *
 * @example
 * ```ts
 * disassemble(new Uint8Array([0x42, 0x00, 0xff, 0xfc]), { address: 0x104 }).map((l) => l.text);
 * // ["bdnz 0x100"]
 * ```
 */
export function disassemble(bytes: Uint8Array, options: DisasmOptions = {}): DisasmLine[] {
  const out: DisasmLine[] = [];
  const base = BigInt(toNum(options.address));
  let off = 0;
  while (off < bytes.length) {
    const { length, text } = disassembleOne(bytes, off, options);
    out.push({
      address: BigInt.asUintN(32, base + BigInt(off)),
      offset: off,
      length,
      bytes: bytes.slice(off, off + length),
      text,
    });
    off += length;
  }
  return out;
}

/**
 * Text of the instruction at the start of `bytes` (for CPU trace messages).
 *
 * @example
 * ```ts
 * disassembleText(new Uint8Array([0x7d, 0x1a, 0x03, 0xa6]), 0x3000); // "mtsrr0 r8"
 * ```
 */
export function disassembleText(bytes: Uint8Array, address: number | bigint): string {
  return disassembleOne(bytes, 0, { address }).text;
}
