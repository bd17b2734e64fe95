/**
 * The x86 CPU interpreter: state, memory access through a software TLB, the run loop, the
 * machine pins (INTR/NMI/INIT/SIPI) and snapshots. Instruction semantics live in `exec.ts`
 * (one-byte opcodes), `exec_0f.ts` (two-byte opcodes), `alu.ts` (arithmetic and flags),
 * `string_ops.ts` (MOVS/STOS/... with bulk REP fast paths), `system.ts` (control registers,
 * MSRs, descriptors, far transfers), `interrupts.ts` (exception and interrupt delivery) and
 * `paging.ts` (address translation).
 *
 * Representation (chosen for speed on V8, see `shared/reference/cpu-notes.md` §2):
 * - general registers are int32 pairs (`reg` low halves, `regHi` high halves);
 * - RIP is a JavaScript number: the 32-bit EIP outside long mode, the signed canonical 64-bit
 *   value in 64-bit mode (exact below 2^53);
 * - linear addresses are numbers (unsigned 32-bit outside long mode, signed canonical in
 *   long mode); physical addresses are non-negative numbers;
 * - arithmetic flags are lazy (`lfOp`, `lfA`, `lfB`, `lfRes`, `lfBits`) and materialized on
 *   demand; 64-bit operations compute flags eagerly.
 * - faults are raised by throwing the preallocated {@linkcode FAULT} marker after filling in
 *   `faultVector` / `faultCode`, and delivered by the run loop.
 *
 * Conventions (decisions where the hardware leaves room):
 * - `run()` counts an exception or interrupt delivery as one retired instruction, so a guest
 *   stuck in a fault loop still consumes its budget;
 * - a REP string instruction yields after a slice of elements (IP stays on it, registers
 *   consistent, as when hardware takes an interrupt between iterations), so one REP over
 *   gigabytes counts as several instructions and never blocks the run loop;
 * - the TSC counts virtual nanoseconds (a 1 GHz clock) plus the offset WRMSR 0x10 sets;
 * - self-modifying code is seen immediately (Pentium and later behaviour, also for 386/486);
 * - not modelled: x87/SSE (x87 opcodes raise #NM when CR0.EM/TS, else #UD), task switches and
 *   task gates (#GP), call gates, virtual-8086 mode, SYSENTER/SYSCALL, debug-register
 *   breakpoints, A20 masking, the TSS I/O bitmap (CPL > IOPL port access raises #GP).
 *
 * @example
 * ```ts
 * import { createX86Cpu } from "./cpu.ts";
 * import { createTestEnv } from "./test_env.ts";
 * const env = createTestEnv();
 * env.bus.memory.writeBytes(0xffff0, new Uint8Array([0xf4])); // hlt at the reset vector
 * const cpu = createX86Cpu(env, { model: "pentium" });
 * cpu.run(10); // 1
 * cpu.runState; // "stopped" (HLT with IF=0)
 * ```
 *
 * @module
 */

import type {
  CpuCore,
  CpuEnvironment,
  CpuFactory,
  CpuModelInfo,
  CpuRunState,
  CpuStopReason,
} from "../../hw/cpu.ts";
import type { PhysicalMemory } from "../../hw/memory.ts";
import type { Snapshot } from "../../hw/fields.ts";
import { decode, type Instr } from "./decode.ts";
import { type X86Model, x86Models } from "./models.ts";
import { FLAG_CF, FLAG_IF } from "./flags.ts";
import { materializeFlags } from "./alu.ts";
import { loadPdptes, translate } from "./paging.ts";
import { deliverEvent, EXC_GP, EXC_SS, EXC_UD } from "./interrupts.ts";
import { rdmsrValue, wrmsrValue } from "./system.ts";
import { selectHandler } from "./exec_fast.ts";
import { buildSnapshot } from "./snapshot.ts";

import {
  ACC_R,
  ACC_W,
  ACC_X,
  FAULT,
  SEG_CS,
  SEG_FS,
  SEG_GS,
  SEG_LDTR,
  SEG_SS,
  SEG_TR,
  TLB_SIZE,
} from "./cpu_constants.ts";
export * from "./cpu_constants.ts";
const TLB_MASK = TLB_SIZE - 1;

/** A disassembler for trace messages: returns text such as `mov cr4, eax`. */
export type X86Disassembler = (bytes: Uint8Array, address: number, bits: 16 | 32 | 64) => string;

/** Options for {@linkcode createX86Cpu}. */
export interface X86CpuOptions {
  /** CPU model (an entry of `x86Models` or its name). */
  model: X86Model | string;
  /** Disassembler used to name instructions in #UD trace messages (default: hex bytes). */
  disassemble?: X86Disassembler;
  /** Initial APIC ID reported by CPUID.1:EBX[31:24] (default: the CPU index). */
  apicId?: number;
}

/** A segment register as set with {@linkcode X86Cpu.setSegment}. */
export interface X86SegmentValue {
  /** Selector. */
  selector: number;
  /** Base (linear). */
  base: number | bigint;
  /** Limit in bytes minus one (after granularity scaling). */
  limit: number;
  /**
   * Packed attributes: bits 0-3 type, 4 S, 5-6 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G
   * (see `SEGMENT_ATTR_FIELDS`); e.g. 0xC09B flat 32-bit code, 0xA09B 64-bit code, 0xC093 data.
   */
  attributes: number;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const i32Views = new WeakMap<Uint8Array, Int32Array>();

/** A cached Int32Array over a memory chunk (little-endian hosts only, else null). */
function int32View(chunk: Uint8Array): Int32Array | null {
  if (!LITTLE_ENDIAN_HOST) return null;
  let v = i32Views.get(chunk);
  if (v === undefined) {
    v = new Int32Array(chunk.buffer, chunk.byteOffset, chunk.length >> 2);
    i32Views.set(chunk, v);
  }
  return v;
}

// All CPUs sharing one PhysicalMemory, so a newly marked code page drops everybody's fast
// write entries for it.
const cpusByMemory = new WeakMap<PhysicalMemory, X86Cpu[]>();

/**
 * One x86 logical processor. Create it with {@linkcode createX86Cpu}.
 *
 * Besides the {@linkcode CpuCore} contract it offers direct state access for the kernel model
 * (which loads the state kernel code would have left before running the relocation stub):
 * `setGpr/getGpr`, `setRip/getRip`, `setSegment/getSegment`, `setCr/getCr`, `setEfer/getEfer`,
 * `setGdtr/getGdtr`, `setIdtr/getIdtr`, `setFlags/getFlags`, `setRunState`, `readMsr/writeMsr`.
 *
 * @example
 * ```ts
 * import { createX86Cpu } from "./cpu.ts";
 * import { createTestEnv } from "./test_env.ts";
 * const cpu = createX86Cpu(createTestEnv(), { model: "pentium" });
 * cpu.snapshot().state; // "running"
 * ```
 */
export class X86Cpu implements CpuCore {
  /** CPU index within the machine. */
  readonly index: number;
  /** The model this CPU implements. */
  readonly model: X86Model;
  /** Machine environment. */
  readonly env: CpuEnvironment;
  /** Physical memory behind the bus. */
  readonly mem: PhysicalMemory;
  /** Optional disassembler for trace messages. */
  readonly disassemble: X86Disassembler | undefined;
  /** Initial APIC ID (CPUID.1:EBX[31:24]). */
  readonly apicId: number;

  // ---- architectural state ----
  /** Low 32 bits of the 16 general registers. */
  reg: Int32Array = new Int32Array(16);
  /** High 32 bits of the 16 general registers. */
  regHi: Int32Array = new Int32Array(16);
  /** Instruction pointer (see module doc). */
  ip = 0;
  /** EFLAGS; the six arithmetic bits are stale while `lfOp !== 0`. */
  flags = 2;
  /** Lazy flags: operation (LF_*), operands, result, operand width in bits, carry-in. */
  lfOp = 0;
  /** Lazy flags: first operand. */
  lfA = 0;
  /** Lazy flags: second operand. */
  lfB = 0;
  /** Lazy flags: result. */
  lfRes = 0;
  /** Lazy flags: operand width in bits. */
  lfBits = 32;
  /** Lazy flags: carry-in of ADC/SBB. */
  lfCin = 0;
  /** Segment selectors, bases, limits (byte granular) and packed attributes; 6 = LDTR, 7 = TR. */
  segSel: Int32Array = new Int32Array(8);
  /** Segment bases. */
  segBase: Float64Array = new Float64Array(8);
  /** Segment limits (byte granular). */
  segLimit: Float64Array = new Float64Array(8);
  /** Segment attributes (packed, see SEGMENT_ATTR_FIELDS). */
  segAttr: Int32Array = new Int32Array(8);
  /** CR0. */
  cr0 = 0x60000010;
  /** Page-fault linear address (signed canonical in long mode). */
  cr2 = 0;
  /** Page-table base. */
  cr3 = 0;
  /** CR4 (0 on models without it). */
  cr4 = 0;
  /** IA32_EFER (LMA at bit 10 maintained by the CPU). */
  efer = 0;
  /** Debug registers DR0-DR7 (stored, not acted upon). */
  dr: Float64Array = new Float64Array(8);
  /** GDTR base (linear). */
  gdtrBase = 0;
  /** GDTR limit. */
  gdtrLimit = 0xffff;
  /** IDTR base (linear). */
  idtrBase = 0;
  /** IDTR limit. */
  idtrLimit = 0xffff;
  /** IA32_APIC_BASE value. */
  apicBase = 0n;
  /** Other MSRs written by the guest (cold path). */
  msrs: Map<number, bigint> = new Map();
  /** TSC offset: TSC = clock ns + offset. */
  tscOffset = 0;
  /** PAE PDPTEs (low, high) loaded on CR3 writes in legacy PAE mode. */
  pdpte: Int32Array = new Int32Array(8);

  // ---- derived mode state (updateMode) ----
  /** Code size of the current CS: 16, 32 or 64. */
  codeBits = 16;
  /** Stack address size: 16, 32 or 64. */
  stackBits = 16;
  /** True in 64-bit mode (LMA and CS.L). */
  mode64 = false;
  /** True when CR0.PE is set. */
  protectedMode = false;
  /** Current privilege level. */
  cpl = 0;
  /** True when paging is on. */
  paging = false;

  // ---- run state ----
  /** Current run state (see `runState`). */
  runStateValue: CpuRunState = "running";
  /** Why the last run() returned (see `lastStop`). */
  lastStopValue: CpuStopReason = "budget";
  /** Instructions retired (deliveries count as one). */
  retiredCount = 0;
  /** Value of `retiredCount` right after an STI/MOV SS/POP SS (interrupt shadow). */
  shadowAt: number = -1;
  /** INTR pin level. */
  intrLine = false;
  /** An NMI edge is latched. */
  nmiPending = false;
  /** NMIs are blocked until the next IRET. */
  nmiBlocked = false;
  /** requestExit() was called. */
  exitRequested = false;
  /** Set when something outside the instruction stream needs the run loop's attention. */
  eventPending = false;
  /** Why the CPU shut down (triple fault chain), or empty. */
  shutdownReason = "";
  /** Description of the last exception delivered, or empty. */
  lastException = "";
  /** Fault being raised (set before throwing FAULT). */
  faultVector = 0;
  /** Error code of the fault being raised. */
  faultCode = 0;
  /** The fault being raised pushes an error code. */
  faultHasCode = false;
  /** Start of the current instruction (ip), for faults and traces. */
  instrStart = 0;
  /** Length of the instruction being executed. */
  instrLen = 0;
  /** Scratch: high half of the last 64-bit value read. */
  hi = 0;
  /** Scratch: high half of the last 64-bit effective address (kept apart from `hi`). */
  eaHi = 0;

  // ---- software TLB: [kind * TLB_SIZE + i] ----
  /** TLB tags: linear page numbers (NaN = empty). */
  tlbTag: Float64Array = new Float64Array(3 * TLB_SIZE).fill(NaN);
  /** TLB physical page bases. */
  tlbPhys: Float64Array = new Float64Array(3 * TLB_SIZE);
  /** TLB fast-path memory chunks (null: go through the bus). */
  tlbChunk: (Uint8Array | null)[] = new Array(3 * TLB_SIZE).fill(null);
  /** Int32Array view of the same chunk (aligned 32-bit accesses; null with tlbChunk). */
  tlbI32: (Int32Array | null)[] = new Array(3 * TLB_SIZE).fill(null);
  /** Offset of each TLB page inside its chunk. */
  tlbOff: Int32Array = new Int32Array(3 * TLB_SIZE);
  /** 1 for global pages (kept on CR3 writes with CR4.PGE). */
  tlbGlobal: Uint8Array = new Uint8Array(3 * TLB_SIZE);
  /** 1 when the entry's page is RAM/ROM backed by PhysicalMemory (bulk copies allowed). */
  tlbRam: Uint8Array = new Uint8Array(3 * TLB_SIZE);
  /** Decoded instructions per physical page (index = offset in page). */
  codePages: Map<number, (Instr | undefined)[]> = new Map();
  /** Code array for each execute TLB entry (same index as the X TLB). */
  tlbCode: ((Instr | undefined)[] | null)[] = new Array(TLB_SIZE).fill(null);

  /** Create a CPU; prefer {@linkcode createX86Cpu}. */
  constructor(env: CpuEnvironment, options: X86CpuOptions) {
    this.env = env;
    this.index = env.index;
    this.model = typeof options.model === "string" ? lookupModel(options.model) : options.model;
    this.mem = env.bus.memory;
    this.disassemble = options.disassemble;
    this.apicId = options.apicId ?? env.index;
    let peers = cpusByMemory.get(this.mem);
    if (peers === undefined) {
      peers = [];
      cpusByMemory.set(this.mem, peers);
    }
    peers.push(this);
    this.mem.onCodeWrite((page) => this.codeWritten(page));
    this.reset();
  }

  // ---------------------------------------------------------------- reset, INIT, SIPI

  /** Power-on reset (hardware.md §5.4). An AP (index > 0) then waits for SIPI. */
  reset(): void {
    this.resetCommon();
    this.apicBase = this.model.features.apicBaseMsr || this.model.info.hasLocalApic
      ? (0xfee00800n | (this.index === 0 ? 0x100n : 0n))
      : 0n;
    this.msrs.clear();
    this.tscOffset = 0;
    if (this.model.features.apicBaseMsr) this.env.pins.apicBaseWritten?.(this.apicBase);
    this.runStateValue = this.index === 0 ? "running" : "wait-for-sipi";
  }

  /** State common to RESET and INIT. */
  resetCommon(): void {
    this.reg.fill(0);
    this.regHi.fill(0);
    this.reg[2] = this.model.signature; // EDX = processor signature
    this.flags = 2;
    this.lfOp = 0;
    this.ip = 0xfff0;
    for (let s = 0; s < 6; s++) {
      this.segSel[s] = 0;
      this.segBase[s] = 0;
      this.segLimit[s] = 0xffff;
      this.segAttr[s] = 0x93;
    }
    this.segSel[SEG_CS] = 0xf000;
    this.segBase[SEG_CS] = 0xffff0000;
    this.segAttr[SEG_CS] = 0x9b;
    this.segSel[SEG_LDTR] = 0, this.segBase[SEG_LDTR] = 0, this.segLimit[SEG_LDTR] = 0xffff;
    this.segAttr[SEG_LDTR] = 0x82;
    this.segSel[SEG_TR] = 0, this.segBase[SEG_TR] = 0, this.segLimit[SEG_TR] = 0xffff;
    this.segAttr[SEG_TR] = 0x8b;
    this.cr0 = this.model.features.i486 ? 0x60000010 : 0x7fffffe0 | 0x10;
    this.cr2 = 0;
    this.cr3 = 0;
    this.cr4 = 0;
    this.efer = 0;
    this.dr.fill(0);
    this.dr[6] = this.model.features.i486 ? 0xffff0ff0 : 0xffff1ff0;
    this.dr[7] = 0x400;
    this.gdtrBase = 0, this.gdtrLimit = 0xffff;
    this.idtrBase = 0, this.idtrLimit = 0xffff;
    this.pdpte.fill(0);
    // The INTR pin level belongs to the machine: RESET/INIT do not change it.
    this.nmiPending = false;
    this.nmiBlocked = false;
    this.shadowAt = -1;
    this.shutdownReason = "";
    this.updateMode();
    this.flushTlb(true);
  }

  /** Recompute derived mode fields after CR0/EFER/CS/SS changes. */
  updateMode(): void {
    this.fetchSpan = 0;
    this.protectedMode = (this.cr0 & 1) !== 0;
    this.paging = (this.cr0 & 0x80000000) !== 0 && this.protectedMode;
    const lma = (this.efer & 0x400) !== 0;
    const csAttr = this.segAttr[SEG_CS];
    this.mode64 = lma && (csAttr & 0x2000) !== 0;
    this.codeBits = this.mode64 ? 64 : (csAttr & 0x4000) !== 0 ? 32 : 16;
    this.stackBits = this.mode64 ? 64 : (this.segAttr[SEG_SS] & 0x4000) !== 0 ? 32 : 16;
    const newCpl = !this.protectedMode
      ? 0
      : (this.flags & 0x20000) !== 0
      ? 3
      : (this.segAttr[SEG_SS] >> 5) & 3;
    if (newCpl !== this.cpl) {
      this.cpl = newCpl;
      this.flushTlb(true); // TLB entries hold permissions checked for one privilege level
    }
  }

  /** Current operating mode name as snapshots report it. */
  get modeName(): "real" | "protected16" | "protected32" | "long64" | "compat" {
    if (!this.protectedMode) return "real";
    if ((this.efer & 0x400) !== 0) return this.mode64 ? "long64" : "compat";
    return this.codeBits === 32 ? "protected32" : "protected16";
  }

  // ---------------------------------------------------------------- TLB and code cache

  /** Drop TLB entries; global pages survive unless `all` (CR4.PGE semantics). */
  flushTlb(all: boolean): void {
    this.fetchSpan = 0;
    const tag = this.tlbTag, g = this.tlbGlobal;
    if (all) {
      tag.fill(NaN);
      g.fill(0);
      this.tlbCode.fill(null);
      return;
    }
    for (let i = 0; i < tag.length; i++) {
      if (g[i] === 0) {
        tag[i] = NaN;
        if (i >= 2 * TLB_SIZE) this.tlbCode[i - 2 * TLB_SIZE] = null;
      }
    }
  }

  /** INVLPG: drop the entries for the page containing linear address `lin`. */
  flushTlbPage(lin: number): void {
    this.fetchSpan = 0;
    const lpn = Math.floor(lin / 4096);
    const i = lpn & TLB_MASK;
    for (let k = 0; k < 3; k++) {
      if (this.tlbTag[k * TLB_SIZE + i] === lpn) this.tlbTag[k * TLB_SIZE + i] = NaN;
    }
    this.tlbCode[i] = null;
  }

  /** Code-write listener: a page holding decoded code was written. */
  codeWritten(page: number): void {
    if (!this.codePages.delete(page)) return;
    this.fetchSpan = 0;
    const base = page * 4096;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (this.tlbPhys[2 * TLB_SIZE + i] === base) {
        this.tlbTag[2 * TLB_SIZE + i] = NaN;
        this.tlbCode[i] = null;
      }
    }
  }

  /** Drop every CPU's fast write entries for physical page base `base` (it now holds code). */
  dropFastWrites(base: number): void {
    for (const cpu of cpusByMemory.get(this.mem) ?? [this]) {
      for (let i = TLB_SIZE; i < 2 * TLB_SIZE; i++) {
        if (cpu.tlbPhys[i] === base) cpu.tlbTag[i] = NaN;
      }
    }
  }

  /** Fill the TLB entry for linear page `lpn` and access kind; returns the entry index. */
  tlbFill(lin: number, kind: number, lpn: number): number {
    const phys = translate(this, lin, kind); // may raise #PF
    const base = phys - (phys % 4096);
    const i = kind * TLB_SIZE + (lpn & TLB_MASK);
    this.tlbTag[i] = lpn;
    this.tlbPhys[i] = base;
    this.tlbGlobal[i] = this.lastWalkGlobal ? 1 : 0;
    let chunk: Uint8Array | null = null;
    const ram = this.env.bus.classify(base) === 0 /* PageKind.Memory */ &&
      base < this.mem.addressSpace;
    this.tlbRam[i] = ram ? 1 : 0;
    if (ram) {
      if (kind === ACC_W) {
        if (!this.mem.isCode(base)) chunk = this.mem.chunk(base, true);
      } else if (this.mem.isAllocated(base)) {
        chunk = this.mem.chunk(base, false);
      } else if (kind === ACC_X) {
        chunk = this.mem.chunk(base, true); // code must see later writes: back it now
      }
    }
    this.tlbChunk[i] = chunk;
    this.tlbI32[i] = chunk === null ? null : int32View(chunk);
    this.tlbOff[i] = base % (1 << 20);
    if (kind === ACC_X) this.tlbCode[lpn & TLB_MASK] = null;
    return i;
  }

  /** Set by `translate`: the last walk ended in a global page. */
  lastWalkGlobal = false;

  /**
   * Read through TLB entry `i` when it has no fast chunk: RAM that has been written since the
   * entry was filled gets its chunk now (later reads take the fast path); otherwise the bus.
   */
  entryRead(i: number, lin: number, size: 1 | 2 | 4): number {
    const base = this.tlbPhys[i];
    if (this.tlbRam[i] === 1 && this.mem.isAllocated(base)) {
      const c = this.mem.chunk(base, false);
      this.tlbChunk[i] = c;
      this.tlbI32[i] = int32View(c);
      const o = this.tlbOff[i] + (lin & 0xfff);
      return size === 1
        ? c[o]
        : size === 2
        ? c[o] | (c[o + 1] << 8)
        : c[o] | (c[o + 1] << 8) | (c[o + 2] << 16) | (c[o + 3] << 24);
    }
    return this.busRead(base + (lin & 0xfff), size);
  }

  /** Physical read through the bus (MMIO, unclaimed, untouched RAM); int32 for size 4. */
  busRead(phys: number, size: 1 | 2 | 4): number {
    if (phys >= this.mem.addressSpace && this.env.bus.classify(phys) === 0) {
      return size === 4 ? -1 : (1 << (size * 8)) - 1;
    }
    const v = this.env.bus.read(phys, size, this.index);
    return typeof v === "bigint" ? Number(v & 0xffffffffn) | 0 : size === 4 ? v | 0 : v;
  }

  /** Physical write through the bus. */
  busWrite(phys: number, size: 1 | 2 | 4, value: number): void {
    if (phys >= this.mem.addressSpace && this.env.bus.classify(phys) === 0) return;
    this.env.bus.write(
      phys,
      size,
      size === 4 ? value >>> 0 : value & ((1 << (size * 8)) - 1),
      this.index,
    );
  }

  // ---------------------------------------------------------------- linear memory access

  /** Read a byte at a linear address. */
  rdLin8(lin: number): number {
    const lpn = Math.floor(lin / 4096);
    let i = lpn & TLB_MASK;
    if (this.tlbTag[i] !== lpn) i = this.tlbFill(lin, ACC_R, lpn);
    const c = this.tlbChunk[i];
    if (c !== null) return c[this.tlbOff[i] + (lin & 0xfff)];
    return this.entryRead(i, lin, 1);
  }

  /** Read 16 bits at a linear address. */
  rdLin16(lin: number): number {
    if ((lin & 0xfff) > 0xffe) return this.rdLin8(lin) | (this.rdLin8(lin + 1) << 8);
    const lpn = Math.floor(lin / 4096);
    let i = lpn & TLB_MASK;
    if (this.tlbTag[i] !== lpn) i = this.tlbFill(lin, ACC_R, lpn);
    const c = this.tlbChunk[i];
    if (c !== null) {
      const o = this.tlbOff[i] + (lin & 0xfff);
      return c[o] | (c[o + 1] << 8);
    }
    return this.entryRead(i, lin, 2);
  }

  /** Read 32 bits (int32) at a linear address. */
  rdLin32(lin: number): number {
    if ((lin & 0xfff) > 0xffc) {
      return this.rdLin16(lin) | (this.rdLin16(lin + 2) << 16);
    }
    const lpn = Math.floor(lin / 4096);
    let i = lpn & TLB_MASK;
    if (this.tlbTag[i] !== lpn) i = this.tlbFill(lin, ACC_R, lpn);
    const w = this.tlbI32[i];
    if (w !== null && (lin & 3) === 0) return w[(this.tlbOff[i] + (lin & 0xfff)) >> 2];
    const c = this.tlbChunk[i];
    if (c !== null) {
      const o = this.tlbOff[i] + (lin & 0xfff);
      return c[o] | (c[o + 1] << 8) | (c[o + 2] << 16) | (c[o + 3] << 24);
    }
    return this.entryRead(i, lin, 4);
  }

  /** Read 64 bits: returns the low half, the high half goes to `hi`. */
  rdLin64(lin: number): number {
    const lo = this.rdLin32(lin);
    this.hi = this.rdLin32(lin + 4);
    return lo;
  }

  #wrEntry(lin: number): number {
    const lpn = Math.floor(lin / 4096);
    const i = TLB_SIZE + (lpn & TLB_MASK);
    if (this.tlbTag[i] !== lpn) return this.tlbFill(lin, ACC_W, lpn);
    return i;
  }

  /** Write a byte at a linear address. */
  wrLin8(lin: number, v: number): void {
    const i = this.#wrEntry(lin);
    const c = this.tlbChunk[i];
    if (c !== null) c[this.tlbOff[i] + (lin & 0xfff)] = v;
    else this.busWrite(this.tlbPhys[i] + (lin & 0xfff), 1, v);
  }

  /** Write 16 bits at a linear address. */
  wrLin16(lin: number, v: number): void {
    if ((lin & 0xfff) > 0xffe) {
      this.#wrEntry(lin + 1);
      this.wrLin8(lin, v & 0xff);
      this.wrLin8(lin + 1, (v >> 8) & 0xff);
      return;
    }
    const i = this.#wrEntry(lin);
    const c = this.tlbChunk[i];
    if (c !== null) {
      const o = this.tlbOff[i] + (lin & 0xfff);
      c[o] = v;
      c[o + 1] = v >> 8;
    } else this.busWrite(this.tlbPhys[i] + (lin & 0xfff), 2, v);
  }

  /** Write 32 bits at a linear address. */
  wrLin32(lin: number, v: number): void {
    if ((lin & 0xfff) > 0xffc) {
      this.#wrEntry(lin + 3);
      this.#wrEntry(lin);
      for (let k = 0; k < 4; k++) this.wrLin8(lin + k, (v >> (8 * k)) & 0xff);
      return;
    }
    const i = this.#wrEntry(lin);
    const w = this.tlbI32[i];
    if (w !== null && (lin & 3) === 0) {
      w[(this.tlbOff[i] + (lin & 0xfff)) >> 2] = v;
      return;
    }
    const c = this.tlbChunk[i];
    if (c !== null) {
      const o = this.tlbOff[i] + (lin & 0xfff);
      c[o] = v;
      c[o + 1] = v >> 8;
      c[o + 2] = v >> 16;
      c[o + 3] = v >> 24;
    } else this.busWrite(this.tlbPhys[i] + (lin & 0xfff), 4, v);
  }

  /** Write 64 bits (`lo`, `hi`) at a linear address. */
  wrLin64(lin: number, lo: number, hi: number): void {
    this.#wrEntry(lin + 7);
    this.#wrEntry(lin);
    this.wrLin32(lin, lo);
    this.wrLin32(lin + 4, hi);
  }

  /** Fetch a code byte at a linear address (execute access). */
  fetchLin8(lin: number): number {
    const lpn = Math.floor(lin / 4096);
    let i = 2 * TLB_SIZE + (lpn & TLB_MASK);
    if (this.tlbTag[i] !== lpn) i = this.tlbFill(lin, ACC_X, lpn);
    const c = this.tlbChunk[i];
    if (c !== null) return c[this.tlbOff[i] + (lin & 0xfff)];
    return this.busRead(this.tlbPhys[i] + (lin & 0xfff), 1);
  }

  // ---------------------------------------------------------------- faults

  /** Abort the current instruction with exception `vector` (error code optional). */
  fault(vector: number, code = -1): never {
    this.faultVector = vector;
    this.faultHasCode = code >= 0;
    this.faultCode = code < 0 ? 0 : code;
    throw FAULT;
  }

  /** #GP with an error code (default 0). */
  gp(code = 0): never {
    return this.fault(EXC_GP, code);
  }

  /** #UD. */
  ud(): never {
    return this.fault(EXC_UD);
  }

  // ---------------------------------------------------------------- segmented access

  /**
   * Linear address of `size` bytes at offset `off` in segment `seg`, with the limit, presence
   * and type checks of the current mode (#GP(0), or #SS(0) for SS).
   */
  lin(seg: number, off: number, size: number, write: boolean): number {
    if (!this.mode64) {
      // Fast path: present, expand-up data segment (writable when writing), within the limit.
      const attr = this.segAttr[seg];
      if ((attr & 0x9c) === 0x90 && (!write || (attr & 2) !== 0)) {
        if (off + size - 1 <= this.segLimit[seg]) return (this.segBase[seg] + off) >>> 0;
      }
      return this.linSlow(seg, off, size, write);
    }
    return this.linSlow(seg, off, size, write);
  }

  /** {@linkcode X86Cpu.lin} for every case. */
  linSlow(seg: number, off: number, size: number, write: boolean): number {
    if (this.mode64) {
      const l = seg >= SEG_FS ? off + this.segBase[seg] : off;
      // Canonical addresses are exactly the signed values in [-2^47, 2^47).
      if (l < -0x800000000000 || l + size > 0x800000000000) {
        return this.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
      }
      return l;
    }
    const attr = this.segAttr[seg];
    if (this.protectedMode) {
      if ((attr & 0x80) === 0) return this.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
      if (write && (attr & 0x1a) !== 0x12) return this.fault(EXC_GP, 0);
      if ((attr & 0x1c) === 0x14) {
        // expand-down data segment: valid offsets are limit+1 .. 0xFFFF / 0xFFFFFFFF
        const top = (attr & 0x4000) !== 0 ? 0xffffffff : 0xffff;
        if (off <= this.segLimit[seg] || off + size - 1 > top) {
          return this.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
        }
        return (this.segBase[seg] + off) >>> 0;
      }
    }
    if (off + size - 1 > this.segLimit[seg]) {
      return this.fault(seg === SEG_SS ? EXC_SS : EXC_GP, 0);
    }
    return (this.segBase[seg] + off) >>> 0;
  }

  /** Read `size` (1, 2, 4) bytes at seg:off; int32 for 4, zero-extended otherwise. */
  rd(seg: number, off: number, size: number): number {
    const l = this.lin(seg, off, size, false);
    return size === 4 ? this.rdLin32(l) : size === 2 ? this.rdLin16(l) : this.rdLin8(l);
  }

  /** Read `size` (1, 2, 4, 8) bytes at seg:off; the high half of 8-byte reads goes to `hi`. */
  rdx(seg: number, off: number, size: number): number {
    // Fast path (no calls): flat-enough data segment, TLB hit on RAM, access inside one page.
    let lin: number;
    if (!this.mode64) {
      const attr = this.segAttr[seg];
      if ((attr & 0x9c) !== 0x90 || off + size - 1 > this.segLimit[seg]) {
        return this.rdxSlow(seg, off, size);
      }
      lin = (this.segBase[seg] + off) >>> 0;
    } else {
      lin = seg >= SEG_FS ? off + this.segBase[seg] : off;
      if (lin < -0x800000000000 || lin + size > 0x800000000000) return this.rdxSlow(seg, off, size);
    }
    const po = lin & 0xfff;
    const lpn = (lin - po) / 4096;
    const i = lpn & TLB_MASK;
    if (this.tlbTag[i] === lpn && po <= 4096 - size) {
      const o = this.tlbOff[i] + po;
      if (size === 4) {
        const w = this.tlbI32[i];
        if (w !== null && (o & 3) === 0) return w[o >> 2];
      }
      const c = this.tlbChunk[i];
      if (c !== null) {
        switch (size) {
          case 1:
            return c[o];
          case 2:
            return c[o] | (c[o + 1] << 8);
          case 4:
            return c[o] | (c[o + 1] << 8) | (c[o + 2] << 16) | (c[o + 3] << 24);
        }
      }
    }
    return this.rdxSlow(seg, off, size);
  }

  /** {@linkcode X86Cpu.rdx} through the checked path. */
  rdxSlow(seg: number, off: number, size: number): number {
    const l = this.lin(seg, off, size, false);
    switch (size) {
      case 1:
        return this.rdLin8(l);
      case 2:
        return this.rdLin16(l);
      case 4:
        return this.rdLin32(l);
      default:
        return this.rdLin64(l);
    }
  }

  /** Write `size` (1, 2, 4, 8) bytes at seg:off (`hi` = high half for 8). */
  wr(seg: number, off: number, size: number, v: number, hi = 0): void {
    let lin: number;
    if (!this.mode64) {
      const attr = this.segAttr[seg];
      if ((attr & 0x9e) !== 0x92 || off + size - 1 > this.segLimit[seg]) {
        return this.wrSlow(seg, off, size, v, hi);
      }
      lin = (this.segBase[seg] + off) >>> 0;
    } else {
      lin = seg >= SEG_FS ? off + this.segBase[seg] : off;
      if (lin < -0x800000000000 || lin + size > 0x800000000000) {
        return this.wrSlow(seg, off, size, v, hi);
      }
    }
    const po = lin & 0xfff;
    const lpn = (lin - po) / 4096;
    const i = TLB_SIZE + (lpn & TLB_MASK);
    if (this.tlbTag[i] === lpn && po <= 4096 - size) {
      const o = this.tlbOff[i] + po;
      if (size === 4) {
        const w = this.tlbI32[i];
        if (w !== null && (o & 3) === 0) {
          w[o >> 2] = v;
          return;
        }
      }
      const c = this.tlbChunk[i];
      if (c !== null) {
        switch (size) {
          case 1:
            c[o] = v;
            return;
          case 2:
            c[o] = v;
            c[o + 1] = v >> 8;
            return;
          case 4:
            c[o] = v;
            c[o + 1] = v >> 8;
            c[o + 2] = v >> 16;
            c[o + 3] = v >> 24;
            return;
        }
      }
    }
    return this.wrSlow(seg, off, size, v, hi);
  }

  /** {@linkcode X86Cpu.wr} through the checked path. */
  wrSlow(seg: number, off: number, size: number, v: number, hi: number): void {
    const l = this.lin(seg, off, size, true);
    switch (size) {
      case 1:
        return this.wrLin8(l, v);
      case 2:
        return this.wrLin16(l, v);
      case 4:
        return this.wrLin32(l, v);
      default:
        return this.wrLin64(l, v, hi);
    }
  }

  // ---------------------------------------------------------------- registers

  /** A 64-bit register as a signed number (exact below 2^53). */
  r64(r: number): number {
    return this.regHi[r] * 4294967296 + (this.reg[r] >>> 0);
  }

  /** Set a 64-bit register from a number (two's complement of negative values). */
  setR64(r: number, v: number): void {
    this.reg[r] = v % 4294967296 | 0;
    this.regHi[r] = Math.floor(v / 4294967296) | 0;
  }

  /** Read an operand-size register: 8-bit names honour REX (SPL..DIL) vs AH..BH. */
  getReg(size: number, r: number, rex: number): number {
    switch (size) {
      case 1:
        if (r < 4 || rex !== 0 || r > 7) return this.reg[r] & 0xff;
        return (this.reg[r - 4] >> 8) & 0xff;
      case 2:
        return this.reg[r] & 0xffff;
      case 8:
        this.hi = this.regHi[r];
        return this.reg[r];
      default:
        return this.reg[r];
    }
  }

  /** Write an operand-size register; 32-bit writes clear the high half (as in long mode). */
  setReg(size: number, r: number, rex: number, v: number, hi = 0): void {
    const R = this.reg;
    switch (size) {
      case 1:
        if (r < 4 || rex !== 0 || r > 7) R[r] = (R[r] & ~0xff) | (v & 0xff);
        else R[r - 4] = (R[r - 4] & ~0xff00) | ((v & 0xff) << 8);
        return;
      case 2:
        R[r] = (R[r] & ~0xffff) | (v & 0xffff);
        return;
      case 8:
        R[r] = v;
        this.regHi[r] = hi;
        return;
      default:
        R[r] = v;
        this.regHi[r] = 0;
    }
  }

  // ---------------------------------------------------------------- stack

  /** Current stack pointer as an offset for the stack size. */
  getSp(): number {
    const b = this.stackBits;
    return b === 64 ? this.r64(4) : b === 32 ? this.reg[4] >>> 0 : this.reg[4] & 0xffff;
  }

  /** Set the stack pointer for the stack size. */
  setSp(v: number): void {
    const b = this.stackBits;
    if (b === 64) this.setR64(4, v);
    else if (b === 32) this.reg[4] = v | 0, this.regHi[4] = 0;
    else this.reg[4] = (this.reg[4] & ~0xffff) | (v & 0xffff);
  }

  /** Stack offset `delta` bytes from `sp`, wrapped to the stack size. */
  spAdd(sp: number, delta: number): number {
    const b = this.stackBits;
    return b === 64 ? sp + delta : b === 32 ? (sp + delta) >>> 0 : (sp + delta) & 0xffff;
  }

  /** Push `size` bytes (`hi` = high half for 8). */
  push(size: number, v: number, hi = 0): void {
    const sp = this.spAdd(this.getSp(), -size);
    this.wr(SEG_SS, sp, size, v, hi);
    this.setSp(sp);
  }

  /** Pop `size` bytes (high half of 8-byte pops to `hi`). */
  pop(size: number): number {
    const sp = this.getSp();
    const v = this.rdx(SEG_SS, sp, size);
    this.setSp(this.spAdd(sp, size));
    return v;
  }

  // ---------------------------------------------------------------- flags

  /** EFLAGS with the arithmetic flags materialized. */
  getFlags(): number {
    if (this.lfOp !== 0) materializeFlags(this);
    return this.flags;
  }

  /** Carry flag (0/1). */
  cf(): number {
    if (this.lfOp !== 0) materializeFlags(this);
    return this.flags & FLAG_CF;
  }

  /** Instruction pointer advanced past the current instruction, wrapped to the code size. */
  nextIp(): number {
    const n = this.instrStart + this.instrLen;
    return this.codeBits === 64 ? n : this.codeBits === 32 ? n >>> 0 : n & 0xffff;
  }

  // ---------------------------------------------------------------- fetch and decode

  /** The decoded-instruction array of a physical code page (marks the page as code). */
  codeArray(base: number): (Instr | undefined)[] {
    const page = base / 4096;
    let arr = this.codePages.get(page);
    if (arr === undefined) {
      arr = new Array<Instr | undefined>(4096).fill(undefined);
      this.codePages.set(page, arr);
      this.mem.markCode(base);
      this.dropFastWrites(base);
    }
    return arr;
  }

  /** Fetch and decode the instruction at CS:IP (cached by physical address and code size). */
  fetchDecode(): Instr {
    // Fast path: IP inside the code page of the previous fetch (within the CS limit).
    const off = this.ip - this.fetchIp;
    if (off >= 0 && off < this.fetchSpan) {
      const ins = this.fetchArr[off];
      if (ins !== undefined && ins.mode === this.codeBits) return ins;
    }
    return this.fetchDecodeSlow();
  }

  /** IP of the first byte of the current code page (IP = linear - CS.base). */
  fetchIp = 0;
  /** Number of valid IPs from `fetchIp` (0: no current page). */
  fetchSpan = 0;
  /** Decoded instructions of the current code page (shared with `codePages`). */
  fetchArr: (Instr | undefined)[] = new Array<Instr | undefined>(4096).fill(undefined);

  /** Forget the current code page (TLB flush, code write, mode change). */
  dropFetchPage(): void {
    this.fetchSpan = 0;
  }

  /** Fetch and decode through the TLB and the per-page cache. */
  fetchDecodeSlow(): Instr {
    let lin: number;
    if (this.mode64) {
      lin = this.ip;
      if (lin < -0x800000000000 || lin >= 0x800000000000) this.gp(0);
    } else {
      if (this.ip > this.segLimit[SEG_CS]) this.gp(0);
      lin = (this.segBase[SEG_CS] + this.ip) >>> 0;
    }
    const lpn = Math.floor(lin / 4096);
    const ti = lpn & TLB_MASK;
    let i = 2 * TLB_SIZE + ti;
    if (this.tlbTag[i] !== lpn) i = this.tlbFill(lin, ACC_X, lpn);
    let code = this.tlbCode[ti];
    if (code === null) {
      if (this.tlbChunk[i] === null) return this.decodeAt(lin);
      code = this.tlbCode[ti] = this.codeArray(this.tlbPhys[i]);
    }
    const off = lin & 0xfff;
    let ins = code[off];
    if (ins === undefined || ins.mode !== this.codeBits) {
      ins = this.decodeAt(lin);
      // The page may have been written (and its array dropped) while decoding: re-check.
      if (off + ins.len <= 4096 && this.tlbCode[ti] === code) code[off] = ins;
    }
    if (this.tlbCode[ti] === code) {
      this.fetchArr = code;
      if (this.mode64) {
        this.fetchIp = lin - off;
        this.fetchSpan = 4096;
      } else {
        const base = this.segBase[SEG_CS];
        const page = lin - off;
        // Only when the page does not wrap around 4 GiB relative to CS.base.
        this.fetchIp = page - base;
        const span = Math.min(4096, this.segLimit[SEG_CS] - this.fetchIp + 1);
        this.fetchSpan = page >= base && span > 0 ? span : 0;
      }
    }
    return ins;
  }

  /** Decode at a linear address without caching. */
  decodeAt(lin: number): Instr {
    const bits = this.codeBits;
    const mask = bits === 64 ? -1 : 0;
    try {
      const ins = decode((k) => {
        const a = mask ? lin + k : (lin + k) >>> 0;
        return this.fetchLin8(a);
      }, bits);
      ins.fn = selectHandler(ins) as (cpu: never, ins: Instr) => void;
      return ins;
    } catch (e) {
      if (e === FAULT) throw e;
      if (e instanceof RangeError) return this.gp(0); // longer than 15 bytes
      throw e;
    }
  }

  /** Raise #UD for the current instruction, naming it in the trace. */
  undefinedOpcode(note = ""): never {
    const bytes: number[] = [];
    const base = this.mode64 ? this.instrStart : this.segBase[SEG_CS] + this.instrStart;
    try {
      for (let k = 0; k < Math.max(1, Math.min(this.instrLen, 15)); k++) {
        bytes.push(this.fetchLin8(this.mode64 ? base + k : (base + k) >>> 0));
      }
    } catch (e) {
      if (e !== FAULT) throw e;
    }
    const u8 = new Uint8Array(bytes);
    let text = Array.from(u8, (b) => b.toString(16).padStart(2, "0")).join(" ");
    if (this.disassemble !== undefined) {
      try {
        text = this.disassemble(u8, base, this.codeBits as 16 | 32 | 64);
      } catch {
        // keep the hex bytes
      }
    }
    const addr = "0x" + (base < 0 ? base + 2 ** 64 : base).toString(16).padStart(8, "0");
    this.env.trace.emit(
      "exception",
      `#UD at ${addr}: ${text}${note ? ` (${note})` : ""}`,
      this.index,
    );
    return this.fault(EXC_UD);
  }

  /** #UD for an instruction this model does not have. */
  notOnModel(): never {
    return this.undefinedOpcode(`not on ${this.model.name}`);
  }

  // ---------------------------------------------------------------- run loop

  /** Current run state. */
  get runState(): CpuRunState {
    return this.runStateValue;
  }

  /** Why the last run() returned. */
  get lastStop(): CpuStopReason {
    return this.lastStopValue;
  }

  /** Instructions retired since reset (exception and interrupt deliveries count as one). */
  get retired(): number {
    return this.retiredCount;
  }

  /** True when a maskable interrupt may be taken now. */
  interruptWindow(): boolean {
    return (this.flags & FLAG_IF) !== 0 && this.retiredCount !== this.shadowAt;
  }

  /** Take pending NMI/INTR if allowed; returns true when run() must return (exit request). */
  serviceEvents(): boolean {
    if (this.exitRequested) {
      this.exitRequested = false;
      this.eventPending = this.intrLine || this.nmiPending;
      this.lastStopValue = "exit-requested";
      return true;
    }
    if (this.retiredCount !== this.shadowAt) {
      if (this.nmiPending && !this.nmiBlocked) {
        this.nmiPending = false;
        this.nmiBlocked = true;
        this.runStateValue = "running";
        this.retiredCount++;
        deliverEvent(this, 2, -1, true);
      } else if (this.intrLine && (this.flags & FLAG_IF) !== 0) {
        const vector = this.env.pins.acknowledge() & 0xff;
        this.runStateValue = "running";
        this.retiredCount++;
        deliverEvent(this, vector, -1, true);
      }
    }
    this.eventPending = this.intrLine || this.nmiPending || this.exitRequested;
    return false;
  }

  /** Execute up to `budget` instructions; see {@linkcode CpuCore.run}. */
  run(budget: number): number {
    const start = this.retiredCount;
    const end = start + Math.max(0, Math.floor(budget));
    this.lastStopValue = "budget";
    // requestExit() asks a *running* run() to return; a request left from before is void.
    this.exitRequested = false;
    this.eventPending = this.intrLine || this.nmiPending;
    while (this.retiredCount < end) {
      const st = this.runStateValue;
      if (st !== "running") {
        if (st === "halted" || st === "stopped") {
          if (this.exitRequested) {
            this.exitRequested = false;
            this.lastStopValue = "exit-requested";
            break;
          }
          const wake = (this.nmiPending && !this.nmiBlocked) ||
            (this.intrLine && (this.flags & FLAG_IF) !== 0);
          if (!wake) {
            this.lastStopValue = st;
            break;
          }
        } else {
          this.lastStopValue = st;
          break;
        }
      }
      try {
        if (this.eventPending && this.serviceEvents()) break;
        if (this.runInner(end)) return this.retiredCount - start;
      } catch (e) {
        if (e !== FAULT) throw e;
        this.ip = this.instrStart;
        this.retiredCount++;
        deliverEvent(this, this.faultVector, this.faultHasCode ? this.faultCode : -1, false);
      }
    }
    return this.retiredCount - start;
  }

  /**
   * The hot loop (kept free of try/catch): execute until `end` retired, a state change, or an
   * exit request (returns true for the latter).
   */
  runInner(end: number): boolean {
    let n = this.retiredCount;
    while (n < end) {
      if (this.eventPending) {
        if (this.serviceEvents()) return true;
        n = this.retiredCount;
      }
      const ip = this.ip;
      const off = ip - this.fetchIp;
      let ins: Instr | undefined;
      if (off >= 0 && off < this.fetchSpan) {
        ins = this.fetchArr[off];
        if (ins === undefined || ins.mode !== this.codeBits) ins = this.fetchDecodeSlow();
      } else ins = this.fetchDecodeSlow();
      const len = ins.len;
      this.instrStart = ip;
      this.instrLen = len;
      const bits = this.codeBits;
      this.ip = bits === 32 ? (ip + len) >>> 0 : bits === 64 ? ip + len : (ip + len) & 0xffff;
      (ins.fn as (cpu: X86Cpu, ins: Instr) => void)(this, ins);
      this.retiredCount = ++n;
      if (this.runStateValue !== "running") break;
    }
    return false;
  }

  /** Ask run() to return at the next instruction boundary. */
  requestExit(): void {
    this.exitRequested = true;
    this.eventPending = true;
  }

  /** Set the INTR pin level. */
  setIntr(level: boolean): void {
    this.intrLine = level;
    if (level) this.eventPending = true;
  }

  /** NMI edge. */
  nmi(): void {
    this.nmiPending = true;
    this.eventPending = true;
  }

  /** INIT: the INIT state (MSRs such as IA32_APIC_BASE survive); an AP then waits for SIPI. */
  init(): void {
    this.resetCommon();
    this.eventPending = this.exitRequested || this.intrLine;
    this.runStateValue =
      (this.apicBase & 0x100n) !== 0n || (this.index === 0 && this.apicBase === 0n)
        ? "running"
        : "wait-for-sipi";
    this.env.trace.emit("cpu", `INIT -> ${this.runStateValue}`, this.index);
  }

  /** Startup IPI: only a CPU waiting for SIPI starts, at `vector << 12` in real mode. */
  sipi(vector: number): void {
    if (this.runStateValue !== "wait-for-sipi") return;
    const v = vector & 0xff;
    this.segSel[SEG_CS] = v << 8;
    this.segBase[SEG_CS] = v << 12;
    this.segLimit[SEG_CS] = 0xffff;
    this.ip = 0;
    this.runStateValue = "running";
    this.updateMode();
    this.env.trace.emit(
      "cpu",
      `SIPI vector 0x${v.toString(16)} -> start at 0x${(v << 12).toString(16)}`,
      this.index,
    );
  }

  /** Enter shutdown (triple fault). */
  shutdown(reason: string): void {
    this.runStateValue = "shutdown";
    this.shutdownReason = reason;
    this.env.trace.emit("exception", `shutdown: ${reason}`, this.index);
  }

  /** State for expectations and traces. */
  snapshot(): Snapshot {
    return buildSnapshot(this);
  }

  // ---------------------------------------------------------------- direct state access

  /** Set general register `index` (0 = rax ... 15 = r15) to a 64-bit value. */
  setGpr(index: number, value: number | bigint): void {
    checkIndex(index, 16, "general register");
    const v = BigInt.asUintN(64, BigInt(value));
    this.reg[index] = Number(v & 0xffffffffn) | 0;
    this.regHi[index] = Number(v >> 32n) | 0;
  }

  /** General register `index` as an unsigned 64-bit value. */
  getGpr(index: number): bigint {
    checkIndex(index, 16, "general register");
    return (BigInt(this.regHi[index] >>> 0) << 32n) | BigInt(this.reg[index] >>> 0);
  }

  /** Set RIP/EIP (linear = CS.base + rip). */
  setRip(value: number | bigint): void {
    const v = BigInt.asIntN(64, BigInt(value));
    this.ip = this.mode64 ? Number(v) : Number(BigInt.asUintN(32, v));
  }

  /** RIP/EIP as an unsigned 64-bit value. */
  getRip(): bigint {
    return BigInt.asUintN(64, BigInt(this.ip));
  }

  /** Load a segment register's selector and hidden descriptor cache directly. */
  setSegment(
    reg: "es" | "cs" | "ss" | "ds" | "fs" | "gs" | "ldtr" | "tr",
    value: X86SegmentValue,
  ): void {
    const s = SEG_NAMES.indexOf(reg);
    if (s < 0) throw new RangeError(`Unknown segment register: ${reg}`);
    this.segSel[s] = value.selector & 0xffff;
    this.segBase[s] = Number(BigInt.asIntN(64, BigInt(value.base)));
    if (s !== SEG_FS && s !== SEG_GS) this.segBase[s] = this.segBase[s] >>> 0;
    this.segLimit[s] = value.limit >>> 0;
    this.segAttr[s] = value.attributes & 0xf0ff;
    this.updateMode();
  }

  /** A segment register with its descriptor cache. */
  getSegment(reg: "es" | "cs" | "ss" | "ds" | "fs" | "gs" | "ldtr" | "tr"): X86SegmentValue {
    const s = SEG_NAMES.indexOf(reg);
    if (s < 0) throw new RangeError(`Unknown segment register: ${reg}`);
    return {
      selector: this.segSel[s],
      base: this.segBase[s] < 0 ? BigInt.asUintN(64, BigInt(this.segBase[s])) : this.segBase[s],
      limit: this.segLimit[s],
      attributes: this.segAttr[s],
    };
  }

  /** Set CR0, CR2, CR3 or CR4 without checks (PAE PDPTEs are reloaded from memory). */
  setCr(n: 0 | 2 | 3 | 4, value: number | bigint): void {
    const v = Number(BigInt.asUintN(64, BigInt(value)));
    if (n === 0) this.cr0 = v >>> 0;
    else if (n === 2) this.cr2 = v;
    else if (n === 3) this.cr3 = v;
    else if (n === 4) this.cr4 = v >>> 0;
    else throw new RangeError(`Unknown control register: CR${n}`);
    if (
      ((this.cr0 & 0x80000001) >>> 0) === 0x80000001 && (this.cr4 & 0x20) && !(this.efer & 0x400)
    ) {
      loadPdptes(this, false);
    }
    this.updateMode();
    this.flushTlb(true);
  }

  /** CR0, CR2, CR3 or CR4. */
  getCr(n: 0 | 2 | 3 | 4): bigint {
    const v = n === 0
      ? this.cr0
      : n === 2
      ? this.cr2
      : n === 3
      ? this.cr3
      : n === 4
      ? this.cr4
      : NaN;
    if (Number.isNaN(v)) throw new RangeError(`Unknown control register: CR${n}`);
    return BigInt.asUintN(64, BigInt(v));
  }

  /** Set IA32_EFER (LMA included, no checks). */
  setEfer(value: number | bigint): void {
    this.efer = Number(BigInt.asUintN(32, BigInt(value)));
    this.updateMode();
    this.flushTlb(true);
  }

  /** IA32_EFER. */
  getEfer(): bigint {
    return BigInt(this.efer >>> 0);
  }

  /** Set GDTR. */
  setGdtr(value: { base: number | bigint; limit: number }): void {
    this.gdtrBase = Number(BigInt.asIntN(64, BigInt(value.base)));
    this.gdtrLimit = value.limit & 0xffff;
  }

  /** GDTR. */
  getGdtr(): { base: bigint; limit: number } {
    return { base: BigInt.asUintN(64, BigInt(this.gdtrBase)), limit: this.gdtrLimit };
  }

  /** Set IDTR. */
  setIdtr(value: { base: number | bigint; limit: number }): void {
    this.idtrBase = Number(BigInt.asIntN(64, BigInt(value.base)));
    this.idtrLimit = value.limit & 0xffff;
  }

  /** IDTR. */
  getIdtr(): { base: bigint; limit: number } {
    return { base: BigInt.asUintN(64, BigInt(this.idtrBase)), limit: this.idtrLimit };
  }

  /** Set EFLAGS/RFLAGS (bit 1 forced to 1). */
  setFlags(value: number | bigint): void {
    this.lfOp = 0;
    this.flags = (Number(BigInt.asUintN(32, BigInt(value))) | 2) & 0x3f7fd7;
    this.updateMode();
  }

  /** Set the run state directly (e.g. "halted" after kernel code's HLT); clears pending NMI. */
  setRunState(state: CpuRunState): void {
    this.runStateValue = state;
    this.nmiPending = false;
    this.eventPending = this.intrLine || this.exitRequested;
  }

  /** RDMSR semantics without privilege checks; throws RangeError for an MSR the model lacks. */
  readMsr(index: number): bigint {
    const v = rdmsrValue(this, index >>> 0);
    if (v === undefined) {
      throw new RangeError(
        `MSR 0x${(index >>> 0).toString(16)} does not exist on ${this.model.name}`,
      );
    }
    return v;
  }

  /** WRMSR semantics without privilege checks; throws RangeError when the CPU would #GP. */
  writeMsr(index: number, value: bigint): void {
    if (!wrmsrValue(this, index >>> 0, BigInt.asUintN(64, value))) {
      throw new RangeError(
        `WRMSR 0x${(index >>> 0).toString(16)} <- 0x${
          value.toString(16)
        } faults on ${this.model.name}`,
      );
    }
  }

  /** The complete state as a read-only view: see `snapshot()`. */
  get state(): Snapshot {
    return buildSnapshot(this);
  }
}

/** Segment register names in index order. */
export const SEG_NAMES = ["es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"] as const;

function checkIndex(i: number, n: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new RangeError(`Invalid ${what} index: ${i} (expected 0..${n - 1})`);
  }
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length][b.length];
}

/**
 * Look up an x86 model by name; throws `RangeError` with a "did you mean" suggestion.
 *
 * @example
 * ```ts
 * import { lookupModel } from "./cpu.ts";
 * lookupModel("opteron").maxPhysAddr; // 40
 * ```
 */
export function lookupModel(name: string): X86Model {
  const m = x86Models[name];
  if (m !== undefined) return m;
  const names = Object.keys(x86Models);
  const best = names.map((n) => [n, editDistance(name.toLowerCase(), n)] as const)
    .sort((a, b) => a[1] - b[1])[0];
  const hint = best && best[1] <= Math.max(3, name.length / 2) ? ` (did you mean ${best[0]}?)` : "";
  throw new RangeError(`Unknown x86 CPU model: ${name}${hint}; known models: ${names.join(", ")}`);
}

/**
 * Create an x86 CPU for a machine.
 *
 * @example
 * ```ts
 * import { createX86Cpu } from "./cpu.ts";
 * import { createTestEnv } from "./test_env.ts";
 * const cpu = createX86Cpu(createTestEnv(), { model: "i386" });
 * cpu.snapshot().mode; // "real"
 * ```
 */
export function createX86Cpu(env: CpuEnvironment, options: X86CpuOptions): X86Cpu {
  return new X86Cpu(env, options);
}

/**
 * A machine-facing factory and model facts for a model name; throws `RangeError` with a
 * "did you mean" suggestion for an unknown name.
 *
 * @example
 * ```ts
 * import { x86CpuFactory } from "./cpu.ts";
 * const { info } = x86CpuFactory("pentium4-xeon");
 * info.threadsPerPackage; // 2
 * ```
 */
export function x86CpuFactory(
  modelName: string,
  options: { disassemble?: X86Disassembler } = {},
): { factory: CpuFactory; info: CpuModelInfo } {
  const model = lookupModel(modelName);
  return {
    factory: (env) => new X86Cpu(env, { model, disassemble: options.disassemble }),
    info: model.info,
  };
}
