/**
 * Specialized handlers for the most frequent instruction forms, chosen once per decoded
 * instruction ({@linkcode selectHandler}) so the hot loop calls them directly instead of going
 * through the generic `execute` switch and its helper chain. Each handler has exactly the
 * semantics of the generic path for its form; everything else uses `execute`.
 *
 * @example
 * ```ts ignore
 * import { selectHandler } from "./exec_fast.ts";
 * ins.fn = selectHandler(ins);
 * ```
 *
 * @module
 */

import type { X86Cpu } from "./cpu.ts";
import type { Instr } from "./decode.ts";
import { alu, alu64, cond, incDec, logicFlags, setResultFlags64, shift } from "./alu.ts";
import { execute } from "./exec.ts";
import { ea, segOf } from "./operands.ts";

type Handler = (cpu: X86Cpu, ins: Instr) => void;

function movLoad32(cpu: X86Cpu, ins: Instr): void {
  const v = cpu.rdx(segOf(ins), ea(cpu, ins), 4);
  cpu.reg[ins.reg] = v;
  cpu.regHi[ins.reg] = 0;
}

function movStore32(cpu: X86Cpu, ins: Instr): void {
  cpu.wr(segOf(ins), ea(cpu, ins), 4, cpu.reg[ins.reg]);
}

function movRR32(cpu: X86Cpu, ins: Instr): void {
  // 89 /r (rm <- reg) or 8B /r (reg <- rm), register form
  if (ins.op === 0x89) {
    cpu.reg[ins.rm] = cpu.reg[ins.reg];
    cpu.regHi[ins.rm] = 0;
  } else {
    cpu.reg[ins.reg] = cpu.reg[ins.rm];
    cpu.regHi[ins.reg] = 0;
  }
}

function aluRR32(cpu: X86Cpu, ins: Instr): void {
  const op = ins.op;
  const aop = (op >> 3) & 7;
  const R = cpu.reg;
  // form 1: rm <- rm op reg; form 3: reg <- reg op rm
  const dst = (op & 2) === 0 ? ins.rm : ins.reg;
  const src = (op & 2) === 0 ? ins.reg : ins.rm;
  const r = alu(cpu, aop, 4, R[dst], R[src]);
  if (aop !== 7) {
    R[dst] = r;
    cpu.regHi[dst] = 0;
  }
}

function aluRI32(cpu: X86Cpu, ins: Instr): void {
  const aop = ins.reg & 7;
  const imm = ins.op === 0x83 ? (ins.imm << 24) >> 24 : ins.imm;
  const r = alu(cpu, aop, 4, cpu.reg[ins.rm], imm);
  if (aop !== 7) {
    cpu.reg[ins.rm] = r;
    cpu.regHi[ins.rm] = 0;
  }
}

function jccShort(cpu: X86Cpu, ins: Instr): void {
  if (cond(cpu, ins.op & 15)) {
    const t = cpu.ip + ((ins.imm << 24) >> 24);
    cpu.ip = cpu.codeBits === 64 ? t : ins.osz === 2 ? t & 0xffff : t >>> 0;
  }
}

function incDecR32(cpu: X86Cpu, ins: Instr): void {
  const r = ins.op < 0x50 ? ins.op & 7 : ins.rm;
  const dec = ins.op < 0x50 ? ins.op >= 0x48 : (ins.reg & 7) === 1;
  cpu.reg[r] = incDec(cpu, 4, cpu.reg[r], dec);
  cpu.regHi[r] = 0;
}

function testRR32(cpu: X86Cpu, ins: Instr): void {
  logicFlags(cpu, 4, cpu.reg[ins.rm] & cpu.reg[ins.reg]);
}

function movRI32(cpu: X86Cpu, ins: Instr): void {
  cpu.reg[ins.rm] = ins.imm;
  cpu.regHi[ins.rm] = 0;
}

function jmpRel(cpu: X86Cpu, ins: Instr): void {
  const t = cpu.ip + (ins.op === 0xeb ? (ins.imm << 24) >> 24 : ins.imm);
  cpu.ip = cpu.codeBits === 64 ? t : ins.osz === 2 ? t & 0xffff : t >>> 0;
}

function jccNear(cpu: X86Cpu, ins: Instr): void {
  if (cond(cpu, ins.op & 15)) {
    const t = cpu.ip + ins.imm;
    cpu.ip = cpu.codeBits === 64 ? t : ins.osz === 2 ? t & 0xffff : t >>> 0;
  }
}

function lea32(cpu: X86Cpu, ins: Instr): void {
  cpu.reg[ins.reg] = ea(cpu, ins);
  cpu.regHi[ins.reg] = 0;
}

function aluLoad32(cpu: X86Cpu, ins: Instr): void {
  // 03/0B/.../3B /r with a memory operand: reg <- reg op [mem]
  const aop = (ins.op >> 3) & 7;
  const v = cpu.rdx(segOf(ins), ea(cpu, ins), 4);
  const r = alu(cpu, aop, 4, cpu.reg[ins.reg], v);
  if (aop !== 7) {
    cpu.reg[ins.reg] = r;
    cpu.regHi[ins.reg] = 0;
  }
}

function shiftRI32(cpu: X86Cpu, ins: Instr): void {
  // C1 /n ib, D1 /n: shift/rotate a 32-bit register
  const count = ins.op === 0xd1 ? 1 : ins.imm;
  cpu.reg[ins.rm] = shift(cpu, ins.reg & 7, 4, cpu.reg[ins.rm], count);
  cpu.regHi[ins.rm] = 0;
}

function movzxLoad8(cpu: X86Cpu, ins: Instr): void {
  const v = cpu.rdx(segOf(ins), ea(cpu, ins), 1);
  cpu.reg[ins.reg] = v;
  cpu.regHi[ins.reg] = 0;
}

function aluRR64(cpu: X86Cpu, ins: Instr): void {
  const op = ins.op;
  const aop = (op >> 3) & 7;
  const dst = (op & 2) === 0 ? ins.rm : ins.reg;
  const src = (op & 2) === 0 ? ins.reg : ins.rm;
  const R = cpu.reg, H = cpu.regHi;
  const lo = alu64(cpu, aop, R[dst], H[dst], R[src], H[src]);
  if (aop !== 7) {
    R[dst] = lo;
    H[dst] = cpu.hi;
  }
}

function aluRI64(cpu: X86Cpu, ins: Instr): void {
  const aop = ins.reg & 7;
  const imm = ins.op === 0x83 ? (ins.imm << 24) >> 24 : ins.imm;
  const r = ins.rm;
  const lo = alu64(cpu, aop, cpu.reg[r], cpu.regHi[r], imm, imm >> 31);
  if (aop !== 7) {
    cpu.reg[r] = lo;
    cpu.regHi[r] = cpu.hi;
  }
}

function testRR64(cpu: X86Cpu, ins: Instr): void {
  const R = cpu.reg, H = cpu.regHi;
  setResultFlags64(cpu, R[ins.rm] & R[ins.reg], H[ins.rm] & H[ins.reg], 0, 0, 0);
}

function movLoad64(cpu: X86Cpu, ins: Instr): void {
  const lo = cpu.rdx(segOf(ins), ea(cpu, ins), 8);
  cpu.reg[ins.reg] = lo;
  cpu.regHi[ins.reg] = cpu.hi;
}

function movRR64(cpu: X86Cpu, ins: Instr): void {
  const d = ins.op === 0x89 ? ins.rm : ins.reg, s = ins.op === 0x89 ? ins.reg : ins.rm;
  cpu.reg[d] = cpu.reg[s];
  cpu.regHi[d] = cpu.regHi[s];
}

function pushR(cpu: X86Cpu, ins: Instr): void {
  cpu.push(ins.osz, cpu.reg[ins.rm], cpu.regHi[ins.rm]);
}

function popR(cpu: X86Cpu, ins: Instr): void {
  const v = cpu.pop(ins.osz);
  cpu.reg[ins.rm] = v;
  cpu.regHi[ins.rm] = ins.osz === 8 ? cpu.hi : 0;
}

/** The handler for a decoded instruction (the generic `execute` unless a fast form applies). */
export function selectHandler(ins: Instr): Handler {
  if (ins.lock !== 0 || ins.op < 0) return execute;
  const op = ins.op;
  const o4 = ins.osz === 4;
  if (op >= 0x70 && op <= 0x7f) return jccShort;
  if (op >= 0x180 && op <= 0x18f) return jccNear;
  if (op === 0xeb || op === 0xe9) return jmpRel;
  if (op >= 0x50 && op <= 0x57 && ins.osz !== 2) return pushR;
  if (op >= 0x58 && op <= 0x5f && ins.osz !== 2) return popR;
  if (ins.osz === 8) {
    if (op < 0x40 && (op & 5) === 1 && ins.mod === 3) return aluRR64;
    if ((op === 0x83 || op === 0x81) && ins.mod === 3) return aluRI64;
    if (op === 0x85 && ins.mod === 3) return testRR64;
    if ((op === 0x89 || op === 0x8b) && ins.mod === 3) return movRR64;
    if (op === 0x8b) return movLoad64;
    return execute;
  }
  if (!o4) return execute;
  if ((op === 0xc1 || op === 0xd1) && ins.mod === 3) return shiftRI32;
  if (op === 0x1b6 && ins.mod !== 3) return movzxLoad8;
  if (op >= 0xb8 && op <= 0xbf) return movRI32;
  if (op === 0x85 && ins.mod === 3) return testRR32;
  if (op === 0x8d && ins.mod !== 3 && ins.asz === 4 && ins.ripRel === 0) return lea32;
  if (op < 0x40 && (op & 7) === 3 && ins.mod !== 3) return aluLoad32;
  if (op === 0x8b) return ins.mod === 3 ? movRR32 : movLoad32;
  if (op === 0x89) return ins.mod === 3 ? movRR32 : movStore32;
  if (op < 0x40 && (op & 5) === 1 && ins.mod === 3) return aluRR32; // 01/03/09/0B/.../39/3B
  if ((op === 0x83 || op === 0x81) && ins.mod === 3) return aluRI32;
  if (op >= 0x40 && op <= 0x4f && ins.mode !== 64) return incDecR32;
  if (op === 0xff && ins.mod === 3 && (ins.reg & 7) <= 1) return incDecR32;
  return execute;
}
