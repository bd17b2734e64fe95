/**
 * Kernel image formats and the kexec-tools loader model: parse and build bzImage, ELF and DOL
 * files, place their segments as `kexec -l` does (`locate_hole`, zero page, command line, initrd)
 * and build our own purgatory in guest machine code.
 *
 * @example
 * ```ts
 * import { buildBzImage, loadWithKexecTools, parseBzImage } from "./mod.ts";
 *
 * const image = buildBzImage({ version: 0x0202, payload: new Uint8Array(0x5000) });
 * parseBzImage(image).header.version; // 0x0202
 * const { segments, entry } = loadWithKexecTools(image, {
 *   memoryMap: [
 *     { base: 0n, size: 0x9fc00n, type: "ram" },
 *     { base: 0x100000n, size: 0x7f00000n, type: "ram" },
 *   ],
 *   commandLine: "console=ttyS0",
 * });
 * segments.length; // 3: zero page, purgatory, kernel
 * ```
 *
 * @module
 */

export { ImageFormatError, KexecOptionError, KexecToolsError } from "./errors.ts";
export {
  buildBzImage,
  CAN_USE_HEAP,
  effectiveCmdlineSize,
  effectiveInitrdAddrMax,
  LOADED_HIGH,
  parseBzImage,
  XLF_CAN_BE_LOADED_ABOVE_4G,
  XLF_KERNEL_64,
} from "./bzimage.ts";
export type { BuildBzImageOptions, BzImage, SetupHeader } from "./bzimage.ts";
export {
  buildElf,
  EM_386,
  EM_PPC,
  EM_X86_64,
  ET_DYN,
  ET_EXEC,
  parseElf,
  PT_LOAD,
  PT_NOTE,
} from "./elf.ts";
export type {
  BuildElfOptions,
  ElfImage,
  ElfSegmentSpec,
  ParseElfOptions,
  ProgramHeader,
} from "./elf.ts";
export { buildDol, DOL_HEADER_SIZE, parseDol } from "./dol.ts";
export type { BuildDolOptions, DolImage, DolSection, DolSectionSpec } from "./dol.ts";
export { formatSegments, loadWithKexecTools, parseKexecToolsArgs } from "./kexec_tools.ts";
export type {
  KexecBuild,
  KexecFileType,
  KexecToolsOptions,
  KexecToolsResult,
} from "./kexec_tools.ts";
export { GAMECUBE_RANGES, loadDolWithKexecTools } from "./kexec_tools_dol.ts";
export type { DolLoadOptions, DolLoadResult } from "./kexec_tools_dol.ts";
export { formatMemoryRanges, KexecInfo, memoryRangesFromMap } from "./kexec_tools_memory.ts";
export type {
  KexecMemoryRange,
  KexecRangeType,
  KexecSegment,
  KexecToolsEra,
  MemoryMapEntry,
  MemoryRangesOptions,
} from "./kexec_tools_memory.ts";
export type { ElfArgStyle, EntryRegisters } from "./kexec_tools_x86.ts";
export {
  buildPurgatory,
  PURGATORY_SYMBOLS,
  purgatoryChecksum,
  purgatoryFromBytes,
  purgatorySource,
} from "./purgatory.ts";
export type {
  Assembler,
  BuildPurgatoryOptions,
  PurgatoryBlob,
  PurgatorySourceOptions,
  PurgatorySymbol,
} from "./purgatory.ts";
