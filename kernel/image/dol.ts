/**
 * Nintendo GameCube DOL executables (big-endian, 0x100-byte header, 7 text + 11 data sections,
 * BSS, entry point): a parser with kexec-tools' `dol_ppc_probe` rules and a builder.
 *
 * The parser is a little stricter than kexec-tools in one place: kexec-tools computes
 * `offset + size` in 32 bits, so an absurd size can wrap and pass; here it is an error.
 *
 * @module
 */

import { ImageFormatError } from "./errors.ts";

/** One used DOL section. */
export interface DolSection {
  /** Section index 0..17 (0–6 text, 7–17 data). */
  index: number;
  /** "text" or "data". */
  kind: "text" | "data";
  /** File offset. */
  offset: number;
  /** Load address (virtual, e.g. 0x80003100). */
  address: number;
  /** Size in bytes. */
  size: number;
}

/** A parsed DOL. */
export interface DolImage {
  /** Used sections (size != 0) in index order. */
  sections: DolSection[];
  /** BSS address. */
  bssAddress: number;
  /** BSS size. */
  bssSize: number;
  /** Entry point (virtual). */
  entry: number;
  /** Warnings kexec-tools prints (segments below 2 GiB). */
  warnings: string[];
}

/** Size of the DOL header. */
export const DOL_HEADER_SIZE = 0x100;
const FORMAT = "DOL";
const hex = (n: number) => `0x${n.toString(16)}`;

function fail(message: string, offset: number): never {
  throw new ImageFormatError(message, { offset, format: FORMAT });
}

/**
 * Parse and validate a DOL. Throws {@linkcode ImageFormatError} for a file shorter than the header,
 * a section whose data starts inside the header or ends beyond the file, or an entry point outside
 * every text section.
 *
 * @example
 * ```ts
 * import { buildDol, parseDol } from "./dol.ts";
 * const dol = parseDol(buildDol({ text: [{ address: 0x80003100, data: new Uint8Array(8) }], entry: 0x80003100 }));
 * dol.sections[0].address; // 0x80003100
 * ```
 */
export function parseDol(bytes: Uint8Array): DolImage {
  if (bytes.length < DOL_HEADER_SIZE) {
    fail(`File too short for the DOL header: ${bytes.length} bytes`, bytes.length);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => v.getUint32(o, false);
  const sections: DolSection[] = [];
  const warnings: string[] = [];
  for (let i = 0; i < 18; i++) {
    const offField = i * 4;
    const addrField = 0x48 + i * 4;
    const sizeField = 0x90 + i * 4;
    const offset = u32(offField);
    const address = u32(addrField);
    const size = u32(sizeField);
    const kind = i < 7 ? "text" : "data";
    if (offset !== 0 && offset < DOL_HEADER_SIZE) {
      fail(`Section ${i} (${kind}) data at ${hex(offset)} is inside the header`, offField);
    }
    if (offset + size > bytes.length) {
      fail(
        `Section ${i} (${kind}) ends beyond the file: ${hex(offset)} + ${hex(size)} > ${
          hex(bytes.length)
        }`,
        sizeField,
      );
    }
    if (address !== 0 && (address & 0x80000000) === 0) {
      warnings.push(`warning, ${kind} segment below 2GB`);
    }
    if (size !== 0) sections.push({ index: i, kind, offset, address, size });
  }
  const bssAddress = u32(0xd8);
  const bssSize = u32(0xdc);
  const entry = u32(0xe0);
  if (bssAddress !== 0 && (bssAddress & 0x80000000) === 0) {
    warnings.push("warning, bss segment is below 2GB");
  }
  const inText = sections.some((s) =>
    s.kind === "text" && entry >= s.address && entry < s.address + s.size
  );
  if (!inText) fail(`Entry point ${hex(entry)} is not inside a text section`, 0xe0);
  return { sections, bssAddress, bssSize, entry, warnings };
}

/** A section of {@linkcode buildDol}. */
export interface DolSectionSpec {
  /** Load address (virtual). */
  address: number;
  /** Contents. */
  data: Uint8Array;
}

/** Options of {@linkcode buildDol}. */
export interface BuildDolOptions {
  /** Up to 7 text sections. */
  text: DolSectionSpec[];
  /** Up to 11 data sections. */
  data?: DolSectionSpec[];
  /** BSS range. */
  bss?: { address: number; size: number };
  /** Entry point (must be inside a text section for the result to parse). */
  entry: number;
}

/**
 * Build a DOL: the header, then each section's data at a 32-byte aligned offset.
 *
 * @example
 * ```ts
 * import { buildDol } from "./dol.ts";
 * const bytes = buildDol({ text: [{ address: 0x80003100, data: new Uint8Array([0x48, 0, 0, 0]) }], entry: 0x80003100 });
 * bytes.length; // 0x104
 * ```
 */
export function buildDol(options: BuildDolOptions): Uint8Array {
  const data = options.data ?? [];
  if (options.text.length > 7) {
    throw new RangeError(`Too many text sections: ${options.text.length}`);
  }
  if (data.length > 11) throw new RangeError(`Too many data sections: ${data.length}`);
  const all = [
    ...options.text.map((s, i) => ({ s, i })),
    ...data.map((s, i) => ({ s, i: i + 7 })),
  ];
  let off = DOL_HEADER_SIZE;
  const offsets: number[] = [];
  for (const { s } of all) {
    offsets.push(off);
    off = (off + s.data.length + 31) & ~31;
  }
  const last = all.length ? offsets[all.length - 1] + all[all.length - 1].s.data.length : off;
  const out = new Uint8Array(Math.max(last, DOL_HEADER_SIZE));
  const v = new DataView(out.buffer);
  all.forEach(({ s, i }, k) => {
    v.setUint32(i * 4, offsets[k], false);
    v.setUint32(0x48 + i * 4, s.address >>> 0, false);
    v.setUint32(0x90 + i * 4, s.data.length, false);
    out.set(s.data, offsets[k]);
  });
  if (options.bss) {
    v.setUint32(0xd8, options.bss.address >>> 0, false);
    v.setUint32(0xdc, options.bss.size >>> 0, false);
  }
  v.setUint32(0xe0, options.entry >>> 0, false);
  return out;
}
