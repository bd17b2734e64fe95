/**
 * kexec-tools' GameCube DOL loader (`kexec-dol-ppc.c`, identical in 1.101 and 2.0.25 apart from
 * cosmetics): one page-rounded segment per used section, overlapping segments merged, the top
 * four address bits cleared (virtual → physical), bufsz == memsz, BSS ignored, then one argument
 * segment (the `setup_dol` glue followed by the ELF boot notes, with kexec-tools' DOL boot-notes
 * bug) placed bottom-up; the kexec entry is the glue, whose `spr8` word holds the DOL entry.
 *
 * The glue is PowerPC machine code that belongs to the PPC side; it is passed in as bytes plus
 * the offset of its `spr8` word.
 *
 * @module
 */

import { type DolImage, parseDol } from "./dol.ts";
import { KexecOptionError } from "./errors.ts";
import { KexecInfo, type KexecMemoryRange, type KexecSegment } from "./kexec_tools_memory.ts";
import { elfBootNotes } from "./kexec_tools_x86.ts";
import { formatSegments } from "./kexec_tools.ts";

/** The GameCube build's hard-coded memory range: 0x3000–0x0174BFFF. */
export const GAMECUBE_RANGES: readonly KexecMemoryRange[] = [
  { start: 0x3000n, end: 0x174bfffn, type: "ram" },
];

/** Options of {@linkcode loadDolWithKexecTools}. */
export interface DolLoadOptions {
  /** `--command-line=` / `--append=`. */
  commandLine?: string;
  /** The `setup_dol` glue code and the byte offset of its `setup_dol_regs.spr8` word (big-endian). */
  glue: { bytes: Uint8Array; spr8Offset: number };
  /** Memory ranges; default {@linkcode GAMECUBE_RANGES}. */
  ranges?: readonly KexecMemoryRange[];
  /** Version string in the boot notes; default "2.0.25". */
  version?: string;
}

/** Result of {@linkcode loadDolWithKexecTools}. */
export interface DolLoadResult {
  /** Segments sorted by mem. */
  segments: KexecSegment[];
  /** Kexec entry: the physical address of the glue. */
  entry: bigint;
  /** Argument segment address (glue at +0, boot notes after it). */
  argBase: bigint;
  /** Merged section groups: bitmap of section indices per emitted segment. */
  groups: { start: number; size: number; sections: number }[];
  /** Warnings of the probe. */
  warnings: string[];
  /** `--debug` text. */
  debugText: string;
}

interface Group {
  start: number;
  end: number;
  bitmap: number;
}

/**
 * kexec-tools' `load_dol_segments` + `fix_dol_segments_overlaps` (32-bit arithmetic).
 */
function mergeSections(dol: DolImage): (Group | undefined)[] {
  const groups: (Group | undefined)[] = new Array(18).fill(undefined);
  for (const s of dol.sections) {
    const start = (s.address & ~0xfff) >>> 0;
    const end = (((s.address + s.size + 0xfff) >>> 0) & ~0xfff) >>> 0;
    groups[s.index] = { start, end, bitmap: 1 << s.index };
  }
  const overlap = (a: Group, b: Group) => !(a.start >= b.end || b.start >= a.end);
  for (let i = 0; i < 18; i++) {
    const gi = groups[i];
    if (!gi) continue;
    let restart = false;
    for (let j = 0; j < i; j++) {
      const gj = groups[j];
      if (!gj || !overlap(gi, gj)) continue;
      if (gj.start < gi.start) {
        if (gi.end > gj.end) gj.end = gi.end;
        gj.bitmap |= gi.bitmap;
        groups[i] = undefined;
        restart = true; // kexec-tools sets i = 0 and breaks: the loop goes on at i = 1
        break;
      }
      if (gj.end > gi.end) gi.end = gj.end;
      gi.start = Math.min(gi.start, gj.start);
      gi.bitmap |= gj.bitmap;
      groups[j] = undefined;
    }
    if (restart) i = 0;
  }
  return groups;
}

/**
 * Model `kexec -l --command-line=... file.dol` on the GameCube build.
 *
 * @example
 * ```ts
 * import { buildDol } from "./dol.ts";
 * import { loadDolWithKexecTools } from "./kexec_tools_dol.ts";
 * const dol = buildDol({ text: [{ address: 0x80003100, data: new Uint8Array(0x100) }], entry: 0x80003100 });
 * const r = loadDolWithKexecTools(dol, { glue: { bytes: new Uint8Array(0x100), spr8Offset: 0xf0 } });
 * r.segments[0].mem; // 0x3000n (the section's page)
 * ```
 */
export function loadDolWithKexecTools(image: Uint8Array, options: DolLoadOptions): DolLoadResult {
  const dol = parseDol(image);
  const glue = options.glue;
  if (glue.spr8Offset < 0 || glue.spr8Offset + 4 > glue.bytes.length) {
    throw new KexecOptionError(`Glue spr8 offset outside the glue: ${glue.spr8Offset}`);
  }
  const info = new KexecInfo({ ranges: [...(options.ranges ?? GAMECUBE_RANGES)], longBits: 32 });
  const groups = mergeSections(dol);
  const emitted: DolLoadResult["groups"] = [];
  for (const g of groups) {
    if (!g) continue;
    const size = (g.end - g.start) >>> 0;
    const buf = new Uint8Array(size);
    info.addSegment({
      buf,
      mem: BigInt((g.start & ~0xf0000000) >>> 0),
      memsz: BigInt(size),
      label: "DOL sections",
    });
    for (
      const s of [...dol.sections].filter((s) => g.bitmap & (1 << s.index)).sort((a, b) =>
        a.address - b.address
      )
    ) {
      buf.set(image.subarray(s.offset, s.offset + s.size), (s.address - g.start) >>> 0);
    }
    emitted.push({ start: g.start, size, sections: g.bitmap });
  }
  const cmd = options.commandLine === undefined
    ? new Uint8Array(0)
    : new TextEncoder().encode(options.commandLine + "\0");
  const notes = elfBootNotes({
    commandLine: cmd,
    version: options.version ?? "2.0.25",
    endian: "big",
    buggyDol: true,
  });
  const glueSize = (glue.bytes.length + 3) & ~3;
  const arg = new Uint8Array(glueSize + notes.length);
  arg.set(glue.bytes, 0);
  arg.set(notes, glueSize);
  new DataView(arg.buffer).setUint32(glue.spr8Offset, dol.entry >>> 0, false);
  const argBase = info.addBuffer({
    buf: arg,
    memsz: BigInt(arg.length),
    align: 4n,
    min: 0n,
    max: 0xffffffffn,
    end: 1,
    label: "setup_dol glue + boot notes",
  });
  if (!info.sortSegments()) info.die("sort_segments failed");
  info.print(`kexec_load: entry = 0x${argBase.toString(16)} flags = 0x0\n`);
  info.print(formatSegments(info.segments));
  return {
    segments: info.segments,
    entry: argBase,
    argBase,
    groups: emitted,
    warnings: dol.warnings,
    debugText: info.stderr,
  };
}
