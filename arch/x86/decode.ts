/**
 * x86 instruction decoder: prefixes, REX, opcode, ModRM/SIB, displacement and immediates into a
 * flat {@linkcode Instr} record that the interpreter caches per physical address and mode.
 *
 * @example
 * ```ts
 * import { decode } from "./decode.ts";
 * const bytes = [0x0f, 0x22, 0xe0];
 * const ins = decode((i) => bytes[i], 32);
 * ins.op; // 0x122 (MOV CRn, r)
 * ins.len; // 3
 * ```
 *
 * @module
 */

// Opcode property bits.
const M = 1; // ModRM follows
const I8 = 2; // imm8
const I16 = 4; // imm16
const IZ = 8; // imm16/32 by operand size
const IV = 16; // imm16/32/64 by operand size (MOV r, imm)
const FAR = 32; // ptr16:16 / ptr16:32
const MOFFS = 64; // moffs by address size
const BAD64 = 128; // invalid in 64-bit mode
const D64 = 256; // default operand size 64 in 64-bit mode
const F64 = 512; // forced operand size 64 in 64-bit mode
const ENTER = 1024; // imm16 + imm8

/** Opcode properties for one-byte (0..255) and two-byte 0F xx (256..511) opcodes. */
const PROPS = new Uint16Array(512);
function set(ops: number[], p: number): void {
  for (const o of ops) PROPS[o] |= p;
}
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

// ALU blocks 00-3F
for (let base = 0; base < 0x40; base += 8) {
  set([base, base + 1, base + 2, base + 3], M);
  set([base + 4], I8);
  set([base + 5], IZ);
}
set([0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f], BAD64);
set(range(0x50, 0x5f), D64);
set([0x60, 0x61, 0x62], BAD64);
set([0x62, 0x63], M);
set([0x68], IZ | D64);
set([0x69], M | IZ);
set([0x6a], I8 | D64);
set([0x6b], M | I8);
set(range(0x70, 0x7f), I8 | F64);
set([0x80, 0x82, 0x83], M | I8);
set([0x81], M | IZ);
set([0x82], BAD64);
set(range(0x84, 0x8f), M);
set([0x8f], D64);
set([0x9a], FAR | BAD64);
set([0x9c, 0x9d], D64);
set(range(0xa0, 0xa3), MOFFS);
set([0xa8], I8);
set([0xa9], IZ);
set(range(0xb0, 0xb7), I8);
set(range(0xb8, 0xbf), IV);
set([0xc0, 0xc1, 0xc6], M | I8);
set([0xc7], M | IZ);
set([0xc2], I16 | F64);
set([0xc3], F64);
set([0xc4, 0xc5], M | BAD64);
set([0xc8], ENTER | D64);
set([0xc9], D64);
set([0xca], I16);
set([0xcd], I8);
set([0xce, 0xd4, 0xd5, 0xd6], BAD64);
set([0xd4, 0xd5], I8);
set(range(0xd0, 0xd3), M);
set(range(0xd8, 0xdf), M);
set(range(0xe0, 0xe3), I8 | F64);
set(range(0xe4, 0xe7), I8);
set([0xe8, 0xe9], IZ | F64);
set([0xea], FAR | BAD64);
set([0xeb], I8 | F64);
set([0xf6, 0xf7, 0xfe, 0xff], M);
// Two-byte
const T = 0x100;
set([T + 0x00, T + 0x01, T + 0x02, T + 0x03, T + 0x0d], M);
set(range(T + 0x18, T + 0x1f), M);
set(range(T + 0x20, T + 0x23), M);
set(range(T + 0x40, T + 0x4f), M);
set(range(T + 0x80, T + 0x8f), IZ | F64);
set(range(T + 0x90, T + 0x9f), M);
set([T + 0xa0, T + 0xa1, T + 0xa8, T + 0xa9], D64);
set([T + 0xa3, T + 0xab, T + 0xb3, T + 0xbb, T + 0xa5, T + 0xad, T + 0xae, T + 0xaf], M);
set([T + 0xa4, T + 0xac, T + 0xba], M | I8);
set([T + 0xb0, T + 0xb1, T + 0xb2, T + 0xb4, T + 0xb5, T + 0xb6, T + 0xb7], M);
set([T + 0xbc, T + 0xbd, T + 0xbe, T + 0xbf, T + 0xc0, T + 0xc1, T + 0xc7], M);

/** Opcodes the decoder accepts (others decode to `op = -1`, executed as #UD). */
const KNOWN = new Uint8Array(512);
for (
  const o of [
    ...range(0x00, 0x3f).filter((x) =>
      (x & 7) < 6 || x === 0x06 || x === 0x07 || x === 0x0e ||
      x === 0x16 || x === 0x17 || x === 0x1e || x === 0x1f || x === 0x27 || x === 0x2f ||
      x === 0x37 || x === 0x3f
    ),
    ...range(0x40, 0x61),
    0x63,
    ...range(0x68, 0x6b),
    ...range(0x70, 0xc2),
    ...range(0xc2, 0xd3),
    0xd7,
    ...range(0xd8, 0xdf),
    ...range(0xe0, 0xef),
    0xf4,
    0xf5,
    ...range(0xf6, 0xff),
    ...[0x00, 0x01, 0x06, 0x08, 0x09, 0x0b, 0x30, 0x31, 0x32, 0xa2, 0xae].map((x) => T + x),
    ...range(T + 0x18, T + 0x1f),
    ...range(T + 0x20, T + 0x23),
    ...range(T + 0x40, T + 0x4f),
    ...range(T + 0x80, T + 0xa5),
    ...range(T + 0xa8, T + 0xa9),
    ...range(T + 0xab, T + 0xb7),
    ...range(T + 0xba, T + 0xc1),
    T + 0xc7,
    ...range(T + 0xc8, T + 0xcf),
  ]
) KNOWN[o] = 1;
for (const o of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x0f]) {
  KNOWN[o] = 0;
}
for (const o of [T + 0xa6, T + 0xa7]) KNOWN[o] = 0;

/** Segment register numbers (x86 encoding order). */
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

/**
 * A decoded instruction. All fields are numbers so V8 keeps one hidden class.
 *
 * @example
 * ```ts
 * import { Instr } from "./decode.ts";
 * const i = new Instr();
 * i.op; // -1 until the decoder fills it in
 * ```
 */
export class Instr {
  /** Opcode: 0..255 one-byte, 256 + xx for 0F xx; -1 invalid (#UD). */
  op: number = -1;
  /** Length in bytes. */
  len = 0;
  /** Operand size in bytes (2, 4, 8). */
  osz = 4;
  /** Address size in bytes (2, 4, 8). */
  asz = 4;
  /** Segment override (0-5) or -1. */
  seg: number = -1;
  /** Default segment of the memory operand (DS, or SS for BP/SP bases). */
  defSeg: number = DS;
  /** 0, 0xF2 (REPNE) or 0xF3 (REP/REPE). */
  rep = 0;
  /** 1 when a LOCK prefix was present. */
  lock = 0;
  /** REX byte (0 when absent). */
  rex = 0;
  /** ModRM mod field (3 = register operand), -1 when there is no ModRM. */
  mod: number = -1;
  /** ModRM reg field with REX.R. */
  reg = 0;
  /** ModRM rm field with REX.B (or the register of +r opcodes). */
  rm = 0;
  /** Base register of the memory operand, -1 none. */
  base: number = -1;
  /** Index register, -1 none. */
  index: number = -1;
  /** log2 of the SIB scale. */
  scale = 0;
  /** Displacement (sign-extended int32). */
  disp = 0;
  /** 1 for RIP-relative addressing. */
  ripRel = 0;
  /** Immediate (int32; imm8 sign-extended where the opcode says so happens in the interpreter). */
  imm = 0;
  /** Second immediate: high half of imm64, far selector, or ENTER nesting level. */
  imm2 = 0;
  /** Decode mode (16, 32, 64) the record is valid for. */
  mode = 0;
  /** Code size: 16, 32 or 64 — same as mode, kept for clarity. */
  /** Raw opcode byte after prefixes (for traces). */
  prefixLen = 0;
  /** Handler chosen by the interpreter for this instruction (set after decoding). */
  fn: ((cpu: never, ins: Instr) => void) | null = null;
}

/** Error thrown by {@linkcode decode} when the instruction exceeds 15 bytes (#GP). */
export class InstructionTooLongError extends RangeError {
  /** Create the error. */
  constructor() {
    super("Instruction longer than 15 bytes");
    this.name = "InstructionTooLongError";
  }
}

/**
 * Decode one instruction. `fetch(i)` returns byte `i` of the instruction stream (it may throw a
 * page fault). `mode` is the code size: 16, 32 or 64.
 */
export function decode(fetch: (i: number) => number, mode: number): Instr {
  const ins = new Instr();
  ins.mode = mode;
  let p = 0;
  let osz = mode === 16 ? 2 : 4;
  let asz = mode === 16 ? 2 : mode === 32 ? 4 : 8;
  let opsizePrefix = false;
  let rex = 0;
  let b = 0;
  // Prefixes
  for (;;) {
    if (p >= 15) throw new InstructionTooLongError();
    b = fetch(p++);
    switch (b) {
      case 0x26:
      case 0x2e:
      case 0x36:
      case 0x3e:
        if (mode !== 64) ins.seg = (b >> 3) & 3;
        rex = 0;
        continue;
      case 0x64:
      case 0x65:
        ins.seg = b - 0x60;
        rex = 0;
        continue;
      case 0x66:
        opsizePrefix = true;
        rex = 0;
        continue;
      case 0x67:
        asz = mode === 16 ? 4 : mode === 32 ? 2 : 4;
        rex = 0;
        continue;
      case 0xf0:
        ins.lock = 1;
        rex = 0;
        continue;
      case 0xf2:
      case 0xf3:
        ins.rep = b;
        rex = 0;
        continue;
    }
    if (mode === 64 && (b & 0xf0) === 0x40) {
      rex = b;
      continue;
    }
    break;
  }
  ins.prefixLen = p - 1;
  if (opsizePrefix) osz = mode === 16 ? 4 : 2;
  let op = b;
  if (b === 0x0f) {
    if (p >= 15) throw new InstructionTooLongError();
    op = 0x100 | fetch(p++);
  }
  const props = PROPS[op];
  ins.rex = rex;
  if (mode === 64) {
    if (props & BAD64) {
      ins.len = p;
      return ins; // op = -1: #UD
    }
    if (rex & 8) osz = 8;
    else if (props & F64) osz = 8;
    else if ((props & D64) && !opsizePrefix) osz = 8;
  }
  ins.osz = osz;
  ins.asz = asz;
  const rexR = (rex & 4) << 1, rexX = (rex & 2) << 2, rexB = (rex & 1) << 3;
  ins.rm = (op & 7) | rexB; // +r opcodes
  if (props & M) {
    if (p >= 15) throw new InstructionTooLongError();
    const modrm = fetch(p++);
    // MOV to/from CRn/DRn ignore the mod field: always the register form.
    const mod = op >= 0x120 && op <= 0x123 ? 3 : modrm >> 6;
    ins.mod = mod;
    ins.reg = ((modrm >> 3) & 7) | rexR;
    const rm = modrm & 7;
    ins.rm = rm | rexB;
    if (mod !== 3) {
      if (asz === 2) {
        switch (rm) {
          case 0:
            ins.base = 3, ins.index = 6;
            break;
          case 1:
            ins.base = 3, ins.index = 7;
            break;
          case 2:
            ins.base = 5, ins.index = 6, ins.defSeg = SS;
            break;
          case 3:
            ins.base = 5, ins.index = 7, ins.defSeg = SS;
            break;
          case 4:
            ins.base = 6;
            break;
          case 5:
            ins.base = 7;
            break;
          case 6:
            if (mod === 0) ins.base = -1;
            else ins.base = 5, ins.defSeg = SS;
            break;
          case 7:
            ins.base = 3;
            break;
        }
        if (mod === 1) {
          const d = fetch(p++);
          ins.disp = (d << 24) >> 24;
        } else if (mod === 2 || (mod === 0 && rm === 6)) {
          const d = fetch(p++) | (fetch(p++) << 8);
          ins.disp = (d << 16) >> 16;
        }
      } else {
        let hasDisp32 = mod === 2;
        if (rm === 4) {
          const sib = fetch(p++);
          const base = sib & 7;
          const index = ((sib >> 3) & 7) | rexX;
          ins.scale = sib >> 6;
          ins.index = index === 4 ? -1 : index;
          if (base === 5 && mod === 0) {
            ins.base = -1;
            hasDisp32 = true;
          } else {
            ins.base = base | rexB;
            if (base === 4 || base === 5) ins.defSeg = SS;
          }
        } else if (rm === 5 && mod === 0) {
          ins.base = -1;
          hasDisp32 = true;
          if (mode === 64) ins.ripRel = 1;
        } else {
          ins.base = rm | rexB;
          if (rm === 5) ins.defSeg = SS;
        }
        if (mod === 1) {
          const d = fetch(p++);
          ins.disp = (d << 24) >> 24;
        } else if (hasDisp32) {
          ins.disp = fetch(p++) | (fetch(p++) << 8) | (fetch(p++) << 16) | (fetch(p++) << 24);
        }
      }
    }
  }
  if (p > 15) throw new InstructionTooLongError();
  // Immediates
  if (props & I8) {
    ins.imm = fetch(p++);
  } else if (props & I16) {
    ins.imm = fetch(p++) | (fetch(p++) << 8);
  } else if (props & IZ) {
    if (osz === 2) ins.imm = ((fetch(p++) | (fetch(p++) << 8)) << 16) >> 16;
    else ins.imm = fetch(p++) | (fetch(p++) << 8) | (fetch(p++) << 16) | (fetch(p++) << 24);
  } else if (props & IV) {
    if (osz === 2) ins.imm = fetch(p++) | (fetch(p++) << 8);
    else {
      ins.imm = fetch(p++) | (fetch(p++) << 8) | (fetch(p++) << 16) | (fetch(p++) << 24);
      if (osz === 8) {
        ins.imm2 = fetch(p++) | (fetch(p++) << 8) | (fetch(p++) << 16) | (fetch(p++) << 24);
      }
    }
  } else if (props & FAR) {
    if (osz === 2) ins.imm = fetch(p++) | (fetch(p++) << 8);
    else ins.imm = fetch(p++) | (fetch(p++) << 8) | (fetch(p++) << 16) | (fetch(p++) << 24);
    ins.imm2 = fetch(p++) | (fetch(p++) << 8);
  } else if (props & MOFFS) {
    if (asz === 2) ins.disp = fetch(p++) | (fetch(p++) << 8);
    else {
      ins.disp = fetch(p++) | (fetch(p++) << 8) | (fetch(p++) << 16) | (fetch(p++) << 24);
      if (asz === 8) {
        ins.imm2 = fetch(p++) | (fetch(p++) << 8) | (fetch(p++) << 16) | (fetch(p++) << 24);
      }
    }
  } else if (props & ENTER) {
    ins.imm = fetch(p++) | (fetch(p++) << 8);
    ins.imm2 = fetch(p++);
  }
  // Group 3 TEST has an immediate that depends on the reg field.
  if ((op === 0xf6 || op === 0xf7) && (ins.reg & 7) < 2) {
    if (op === 0xf6) ins.imm = fetch(p++);
    else if (osz === 2) ins.imm = ((fetch(p++) | (fetch(p++) << 8)) << 16) >> 16;
    else ins.imm = fetch(p++) | (fetch(p++) << 8) | (fetch(p++) << 16) | (fetch(p++) << 24);
  }
  if (p > 15) throw new InstructionTooLongError();
  ins.len = p;
  if (KNOWN[op]) ins.op = op;
  return ins;
}
