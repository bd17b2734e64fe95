/**
 * A nasm-compatible x86 assembler for the instruction subset the kexec stubs, purgatory and test
 * payloads need (see `shared/reference/cpu-notes.md` §5.1). Output is a flat binary (`nasm -f bin`)
 * with the same bytes nasm 2.16 produces at its default optimisation level; the golden vectors in
 * `testdata/` check that.
 *
 * Supported: `bits 16|32|64` (also `[bits n]`, `use16/32/64`), `org`, `cpu 8086..686|p3|p4|x64|any`
 * (rejects instructions newer than the level, as nasm's instruction table says), `section`/`segment` (nasm bin layout: .text first, then progbits sections in order, nobits last; `align=`, `progbits`, `nobits`),
 * `default rel|abs`, labels (global and `.local`), `$`, `$$`, nasm expressions and number forms,
 * `equ`, `db/dw/dd/dq` (numbers, strings, lists), `times`, `align n[, statement]`, `alignb`,
 * `resb/resw/resd/resq` (zero bytes, as in bin output), prefixes `rep/repe/repz/repne/repnz/lock`,
 * `o16/o32/o64/a16/a32/a64`, size keywords, `strict`, `short`, `near`, `far`, `[rel x]`, `[abs x]`,
 * and of the preprocessor `%define`/`%idefine`/`%xdefine` (no parameters), `%undef`, `%assign`.
 *
 * Sizes follow nasm's optimiser: the passes start optimistic (unknown forward references give short
 * jumps, sign-extended imm8 forms and shift-by-1, but full displacements), labels take the values of
 * the previous pass, and values that involve a label (relocatable in nasm's sense: `label`,
 * `label+4`, `$`) keep full-size immediates and displacements while label differences and `$-$$`
 * are constants. Relocatable values are truncated silently to their field (as nasm does in flat
 * binaries); other values out of range are errors (where nasm only warns).
 *
 * One deliberate difference: `[rel 0x1234]` with a plain number is RIP-relative to that absolute
 * address (nasm warns and encodes it as absolute); in a flat binary every address is absolute, so
 * the disassembler prints RIP-relative operands this way and they must round-trip.
 *
 * @module
 */

import {
  AsmError,
  Cursor,
  describe,
  type Expr,
  LineError,
  lookupReg,
  type OperandAst,
  parseExpr,
  parseOperands,
  type Reg,
  tokenize,
} from "./asm_parse.ts";
import {
  CPU_LEVELS,
  cpuName,
  type EncCtx,
  encodeInsn,
  MNEMONICS,
  type Op,
  requiredCpu,
} from "./asm_encode.ts";

export { AsmError } from "./asm_parse.ts";

/** Options for {@linkcode assemble}. */
export interface AsmOptions {
  /** Initial mode (default 16, as nasm's bin format). */
  bits?: 16 | 32 | 64;
  /** Origin: address of the first byte (default 0; an `org` directive overrides it). */
  org?: number | bigint;
  /** File name used in error messages. */
  file?: string;
  /** Added to line numbers in errors (e.g. the line where an embedded block starts, minus one). */
  lineOffset?: number;
  /** Added to column numbers in errors. */
  columnOffset?: number;
}

/** One listing entry: where a source line's bytes went. */
export interface AsmLine {
  /** 1-based line in the source (without lineOffset). */
  line: number;
  /** Offset of the line's first byte from the start of the output. */
  offset: number;
  /** Number of bytes the line produced. */
  length: number;
}

/** Result of {@linkcode assemble}. */
export interface AsmResult {
  /** The flat binary. */
  bytes: Uint8Array;
  /** Every label and `equ` symbol with its final value (local labels as `global.local`). */
  labels: ReadonlyMap<string, bigint>;
  /** Address of `bytes[0]`. */
  origin: bigint;
  /** Listing: one entry per source line that produced bytes. */
  lines: AsmLine[];
}

type Stmt =
  | { k: "empty" }
  | { k: "insn"; mnem: string; mcol: number; prefixes: string[]; ops: OperandAst[] }
  | { k: "data"; width: number; items: OperandAst[] }
  | { k: "res"; width: number; count: Expr }
  | { k: "align"; n: Expr; fill?: Stmt; b: boolean }
  | { k: "bits"; n: 16 | 32 | 64 }
  | { k: "org"; e: Expr }
  | { k: "equ"; e: Expr }
  | { k: "default"; rel: boolean }
  | { k: "section"; name: string; nobits: boolean; align?: bigint }
  | { k: "cpu"; level: number };

interface Line {
  no: number;
  label?: { name: string; col: number };
  times?: Expr;
  stmt: Stmt;
}

/** Largest flat binary the assembler produces (64 MiB). */
const MAX_OUTPUT = 1 << 26;

const PREFIXES: Record<string, number> = {
  lock: 0xf0,
  rep: 0xf3,
  repe: 0xf3,
  repz: 0xf3,
  repne: 0xf2,
  repnz: 0xf2,
};
const SIZE_PREFIX = new Set(["o16", "o32", "o64", "a16", "a32", "a64"]);
/** Segment override prefixes written as words (`fs lodsb`, `es movsb`). */
const SEG_PREFIX: Record<string, number> = {
  es: 0x26,
  cs: 0x2e,
  ss: 0x36,
  ds: 0x3e,
  fs: 0x64,
  gs: 0x65,
};
const DATA: Record<string, number> = { db: 1, dw: 2, dd: 4, dq: 8 };
const RES: Record<string, number> = { resb: 1, resw: 2, resd: 4, resq: 8 };
const DIRECTIVES = new Set([
  "bits",
  "use16",
  "use32",
  "use64",
  "org",
  "cpu",
  "section",
  "segment",
  "default",
  "global",
  "extern",
  "align",
  "alignb",
  "times",
  "equ",
  ...Object.keys(DATA),
  ...Object.keys(RES),
]);

function isKeyword(w: string): boolean {
  const l = w.toLowerCase();
  return MNEMONICS.has(l) || DIRECTIVES.has(l) || l in PREFIXES || SIZE_PREFIX.has(l) ||
    l in SEG_PREFIX;
}

function parseStmt(cur: Cursor, allowLabel: boolean, line: Line): Stmt {
  const t = cur.peek;
  if (t.kind === "end") return { k: "empty" };
  if (t.kind === "op" && t.text === "[" && allowLabel) {
    // [bits 32] style directive
    cur.next();
    const inner = cur.toks.slice(cur.i);
    const close = inner.findIndex((x) => x.kind === "op" && x.text === "]");
    if (close < 0) throw new LineError("Expected ']'", t.col);
    const sub = new Cursor([...inner.slice(0, close), { ...inner[inner.length - 1] }]);
    const after = inner[close + 1];
    if (after && after.kind !== "end") {
      throw new LineError(`Unexpected ${describe(after)}`, after.col);
    }
    return parseStmt(sub, false, line);
  }
  if (t.kind !== "id") {
    throw new LineError(`Expected an instruction but found ${describe(t)}`, t.col);
  }
  let word = t.text.toLowerCase();
  if (allowLabel && (!isKeyword(word) || (cur.peek2.kind === "op" && cur.peek2.text === ":"))) {
    // label
    if (lookupReg(word)) throw new LineError(`Register name used as a label: ${t.text}`, t.col);
    cur.next();
    line.label = { name: t.text, col: t.col };
    if (cur.isOp(":")) cur.next();
    else if (cur.peek.kind !== "end" && cur.peek.kind !== "id") {
      throw new LineError(`Unknown instruction: ${t.text}`, t.col);
    } else if (cur.peek.kind === "id" && !isKeyword(cur.peek.text)) {
      throw new LineError(`Unknown instruction: ${t.text}`, t.col);
    }
    return parseStmt(cur, false, line);
  }
  cur.next();
  if (word === "times") {
    if (line.times) throw new LineError("Nested TIMES", t.col);
    line.times = parseExpr(cur, { allowRegs: false });
    return parseStmt(cur, false, line);
  }
  if (word === "equ") {
    if (!line.label) throw new LineError("EQU without a label", t.col);
    const e = parseExpr(cur, { allowRegs: false });
    endOfLine(cur);
    return { k: "equ", e };
  }
  if (word === "bits") {
    const n = cur.next();
    if (n.kind !== "num" || ![16n, 32n, 64n].includes(n.value!)) {
      throw new LineError(`Invalid BITS value: ${n.text}`, n.col);
    }
    endOfLine(cur);
    return { k: "bits", n: Number(n.value) as 16 | 32 | 64 };
  }
  if (word === "use16" || word === "use32" || word === "use64") {
    endOfLine(cur);
    return { k: "bits", n: Number(word.slice(3)) as 16 | 32 | 64 };
  }
  if (word === "org") {
    const e = parseExpr(cur, { allowRegs: false });
    endOfLine(cur);
    return { k: "org", e };
  }
  if (
    word === "section" || word === "segment"
  ) {
    return parseSection(cur, t.col);
  }
  if (word === "cpu") {
    let name = "";
    while (cur.peek.kind !== "end") name += cur.next().text;
    const level = CPU_LEVELS[name.toLowerCase()];
    if (level === undefined) throw new LineError(`Unknown cpu: ${name}`, t.col);
    return { k: "cpu", level };
  }
  if (
    word === "global" || word === "extern"
  ) {
    while (cur.peek.kind !== "end") cur.next();
    return { k: "empty" };
  }
  if (word === "default") {
    const w = cur.next();
    const l = w.text.toLowerCase();
    if (l !== "rel" && l !== "abs") throw new LineError(`Invalid DEFAULT value: ${w.text}`, w.col);
    endOfLine(cur);
    return { k: "default", rel: l === "rel" };
  }
  if (word === "align" || word === "alignb") {
    const n = parseExpr(cur, { allowRegs: false });
    let fill: Stmt | undefined;
    if (cur.isOp(",")) {
      cur.next();
      fill = parseStmt(cur, false, { no: line.no, stmt: { k: "empty" } });
    } else endOfLine(cur);
    return { k: "align", n, fill, b: word === "alignb" };
  }
  if (word in DATA) {
    const items = parseOperands(cur);
    if (!items.length) throw new LineError(`No data given to ${word}`, t.col);
    return { k: "data", width: DATA[word], items };
  }
  if (word in RES) {
    const count = parseExpr(cur, { allowRegs: false });
    endOfLine(cur);
    return { k: "res", width: RES[word], count };
  }
  const prefixes: string[] = [];
  let mcol = t.col;
  while (word in PREFIXES || SIZE_PREFIX.has(word) || word in SEG_PREFIX) {
    prefixes.push(word);
    if (cur.peek.kind === "end") {
      return { k: "insn", mnem: "", mcol, prefixes, ops: [] };
    }
    const n = cur.next();
    if (n.kind !== "id") {
      throw new LineError(`Expected an instruction but found ${describe(n)}`, n.col);
    }
    word = n.text.toLowerCase();
    mcol = n.col;
  }
  if (!MNEMONICS.has(word)) throw new LineError(`Unknown instruction: ${word}`, mcol);
  const ops = parseOperands(cur);
  return { k: "insn", mnem: word, mcol, prefixes, ops };
}

/** `section name [progbits|nobits] [align=n]` (bin output: .text first, nobits last). */
function parseSection(cur: Cursor, col: number): Stmt {
  const n = cur.next();
  if (n.kind !== "id") {
    throw new LineError(`Expected a section name but found ${describe(n)}`, n.col);
  }
  const name = n.text;
  let nobits = name === ".bss";
  let align: bigint | undefined;
  while (cur.peek.kind !== "end") {
    const a = cur.next();
    const w = a.text.toLowerCase();
    if (w === "nobits") nobits = true;
    else if (w === "progbits") nobits = false;
    else if (w === "align" && cur.isOp("=")) {
      cur.next();
      const v = cur.next();
      if (v.kind !== "num") throw new LineError(`Invalid section alignment: ${v.text}`, v.col);
      align = v.value!;
    } else {
      throw new LineError(`Section attribute not supported: ${a.text}`, a.col);
    }
  }
  if (align !== undefined && (align <= 0n || (align & (align - 1n)) !== 0n)) {
    throw new LineError(`Section alignment must be a power of two: ${align}`, col);
  }
  return { k: "section", name, nobits, align };
}

function endOfLine(cur: Cursor) {
  if (cur.peek.kind !== "end") {
    throw new LineError(`Unexpected ${describe(cur.peek)}`, cur.peek.col);
  }
}

/** Linear value: constant plus register terms (for effective addresses). */
interface Lin {
  c: bigint;
  /** Register terms; `scaled` marks a register written with `*` (nasm: not the base hint). */
  regs: { reg: Reg; k: bigint; scaled?: boolean }[];
  known: boolean;
  /** Coefficient of not-yet-defined symbols (first pass); the value is known when it is 0. */
  u: bigint;
  /** Net count of section-relative terms (labels, `$`, `$$`): non-zero means relocatable. */
  rel: number;
}

interface Env {
  here: bigint;
  base: bigint;
  final: boolean;
  lookup(name: string, col: number): { v: bigint; rel: number } | undefined;
}

const mask64 = (v: bigint) => BigInt.asIntN(64, v);

function lin(c: bigint, regs: Lin["regs"], u: bigint, rel: number): Lin {
  return { c, regs, known: u === 0n, u, rel };
}

function evalLin(e: Expr, env: Env): Lin {
  switch (e.k) {
    case "num":
      return lin(e.v, [], 0n, 0);
    case "here":
      return lin(env.here, [], 0n, 1);
    case "base":
      return lin(env.base, [], 0n, 1);
    case "reg":
      return lin(0n, [{ reg: e.reg, k: 1n }], 0n, 0);
    case "sym": {
      const v = env.lookup(e.name, e.col);
      // Like nasm's first pass, a not-yet-defined symbol is one "unknown" unit: the units of two
      // unknown symbols cancel in a difference (so `fwd1 - fwd2` is a known 0 there).
      return v ? lin(v.v, [], 0n, v.rel) : lin(0n, [], 1n, 0);
    }
    case "un": {
      const a = evalLin(e.a, env);
      if (e.op === "+") return a;
      if (e.op === "-") {
        return lin(mask64(-a.c), a.regs.map((r) => ({ ...r, k: -r.k })), -a.u, -a.rel);
      }
      if (a.regs.length) throw new LineError(`Invalid use of a register with '${e.op}'`, e.col);
      if (!a.known) return lin(0n, [], 1n, 0);
      if (e.op === "~") return lin(mask64(~a.c), [], 0n, a.rel ? 1 : 0);
      return lin(a.c === 0n ? 1n : 0n, [], 0n, a.rel ? 1 : 0);
    }
    case "bin": {
      const a = evalLin(e.a, env);
      const b = evalLin(e.b, env);
      if (e.op === "+" || e.op === "-") {
        const s = e.op === "+" ? 1n : -1n;
        const regs = [...a.regs, ...b.regs.map((r) => ({ ...r, k: s * r.k }))];
        // nasm drops the constant and relocation parts when unknown units are involved
        if (a.u !== 0n || b.u !== 0n) return lin(0n, regs, a.u + s * b.u, 0);
        return lin(mask64(a.c + s * b.c), regs, 0n, a.rel + Number(s) * b.rel);
      }
      if (e.op === "*") {
        if (a.regs.length && b.regs.length) {
          throw new LineError("Invalid effective address: register multiplied by register", e.col);
        }
        if (!a.known && !b.known) return lin(0n, [], 1n, 0);
        const [l, r] = a.regs.length || !a.known ? [a, b] : [b, a];
        return lin(
          mask64(l.c * r.c),
          l.regs.map((x) => ({ reg: x.reg, k: x.k * r.c, scaled: true })),
          l.u * r.c,
          a.rel || b.rel ? 1 : 0,
        );
      }
      if (a.regs.length || b.regs.length) {
        throw new LineError(`Invalid use of a register with '${e.op}'`, e.col);
      }
      if (!a.known || !b.known) return lin(0n, [], 1n, 0);
      const x = a.c, y = b.c;
      const ux = BigInt.asUintN(64, x), uy = BigInt.asUintN(64, y);
      let c: bigint;
      switch (e.op) {
        case "/":
        case "//":
        case "%":
        case "%%":
          if (y === 0n) throw new LineError("Division by zero", e.col);
          if (e.op === "/") c = ux / uy;
          else if (e.op === "%") c = ux % uy;
          else if (e.op === "//") c = x / y;
          else c = x % y;
          break;
        case "<<":
          c = uy >= 64n ? 0n : x << uy;
          break;
        case ">>":
          c = uy >= 64n ? 0n : ux >> uy;
          break;
        case "&":
          c = x & y;
          break;
        case "|":
          c = x | y;
          break;
        case "^":
          c = x ^ y;
          break;
        // nasm's comparisons are signed and give 1 or 0; && || ^^ are logical
        case "=":
        case "==":
          c = x === y ? 1n : 0n;
          break;
        case "!=":
        case "<>":
          c = x !== y ? 1n : 0n;
          break;
        case "<":
          c = x < y ? 1n : 0n;
          break;
        case ">":
          c = x > y ? 1n : 0n;
          break;
        case "<=":
          c = x <= y ? 1n : 0n;
          break;
        case ">=":
          c = x >= y ? 1n : 0n;
          break;
        case "&&":
          c = x !== 0n && y !== 0n ? 1n : 0n;
          break;
        case "||":
          c = x !== 0n || y !== 0n ? 1n : 0n;
          break;
        case "^^":
          c = (x !== 0n) !== (y !== 0n) ? 1n : 0n;
          break;
        default:
          throw new LineError(`Unknown operator: ${e.op}`, e.col);
      }
      return lin(mask64(c), [], 0n, a.rel || b.rel ? 1 : 0);
    }
  }
}

function evalScalar(e: Expr, env: Env): { v: bigint; known: boolean; rel: number } {
  const l = evalLin(e, env);
  if (l.regs.some((r) => r.k !== 0n)) {
    throw new LineError("Register not allowed in an immediate expression", e.col);
  }
  return { v: l.c, known: l.known, rel: l.rel };
}

function evalOperand(o: OperandAst, env: Env, bits: number, defaultRel: boolean): Op {
  switch (o.k) {
    case "reg":
      if (o.size !== undefined && o.reg.cls === "gpr" && o.size !== o.reg.size) {
        throw new LineError(`Operand size mismatch: ${o.reg.name} is not ${o.size}-bit`, o.col);
      }
      return { k: "reg", reg: o.reg, col: o.col, size: o.size };
    case "imm": {
      const { v, known, rel } = evalScalar(o.expr, env);
      return {
        k: "imm",
        col: o.col,
        v,
        known,
        reloc: rel !== 0,
        size: o.size,
        strict: o.strict,
        short: o.short,
        near: o.near,
        far: o.far,
      };
    }
    case "far": {
      const seg = evalScalar(o.seg, env);
      const off = evalScalar(o.off, env);
      return {
        k: "far",
        col: o.col,
        seg: seg.v,
        off: off.v,
        size: o.size,
        offReloc: off.rel !== 0,
        far: o.far,
      };
    }
    case "str": {
      // a string operand of an instruction is a character constant
      if (o.str.length > 8) throw new LineError("Character constant too long", o.col);
      let v = 0n;
      for (let i = o.str.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(o.str.charCodeAt(i));
      return { k: "imm", col: o.col, v, known: true, reloc: false };
    }
    case "mem": {
      const l = evalLin(o.expr, env);
      const terms = new Map<string, { reg: Reg; k: bigint; scaled?: boolean }>();
      const order: string[] = [];
      for (const r of l.regs) {
        if (r.reg.cls !== "gpr") {
          throw new LineError(`Invalid effective address: ${r.reg.name}`, o.col);
        }
        const t = terms.get(r.reg.name);
        if (t) t.k += r.k;
        else {
          terms.set(r.reg.name, { ...r });
          order.push(r.reg.name);
        }
      }
      const live = order.map((n) => terms.get(n)!).filter((t) => t.k !== 0n);
      let base: Reg | undefined, index: Reg | undefined, scale = 1;
      const bad = () => new LineError("Invalid effective address", o.col);
      if (live.length > 2) throw bad();
      if (live.length === 1) {
        const { reg, k } = live[0];
        if (k === 1n) base = reg;
        else if (!o.nosplit && (k === 2n || k === 3n || k === 5n || k === 9n)) {
          base = reg;
          index = reg;
          scale = Number(k - 1n);
        } else if (k === 2n || k === 4n || k === 8n) {
          index = reg;
          scale = Number(k);
        } else throw bad();
      } else if (live.length === 2) {
        let [a, b] = live;
        // nasm: the first register written is the base, unless it was written with a scale
        if (a.k !== 1n || (b.k === 1n && a.scaled)) [a, b] = [b, a];
        if (a.k !== 1n || ![1n, 2n, 4n, 8n].includes(b.k)) throw bad();
        base = a.reg;
        index = b.reg;
        scale = Number(b.k);
        if (scale === 1 && (index.num === 4) && index.size !== 16) [base, index] = [index, base];
      }
      const rel = !!o.rel || (defaultRel && !o.abs && bits === 64 && !base && !index);
      return {
        k: "mem",
        col: o.col,
        size: o.size,
        seg: o.seg,
        base,
        index,
        scale,
        disp: l.c,
        reloc: l.rel !== 0,
        known: l.known,
        rel,
        dispSize: o.dispSize,
        far: o.far,
      };
    }
  }
}

/**
 * Assembles nasm-syntax source into a flat binary.
 *
 * @example
 * ```ts
 * const r = assemble("bits 32\nstart: mov eax, 1\njmp start", { org: 0x1000 });
 * r.bytes; // Uint8Array [0xb8, 1, 0, 0, 0, 0xeb, 0xf9]
 * r.labels.get("start"); // 0x1000n
 * ```
 */
export function assemble(source: string, options: AsmOptions = {}): AsmResult {
  const lineOffset = options.lineOffset ?? 0;
  const columnOffset = options.columnOffset ?? 0;
  const file = options.file;
  const err = (no: number, col: number, msg: string) =>
    new AsmError(msg, { line: no + lineOffset, column: Math.max(col, 1) + columnOffset, file });
  const srcLines = source.split(/\r?\n/);
  const lines: Line[] = [];
  const defines = new Map<string, string>();
  srcLines.forEach((text, i) => {
    const no = i + 1;
    const line: Line = { no, stmt: { k: "empty" } };
    try {
      const expanded = preprocess(text, defines);
      const cur = new Cursor(tokenize(expanded));
      line.stmt = parseStmt(cur, true, line);
    } catch (e) {
      if (e instanceof LineError) throw err(no, e.col || firstCol(text), e.message);
      if (e instanceof RangeError) throw err(no, firstCol(text), `Cannot parse: ${e.message}`);
      throw e;
    }
    lines.push(line);
  });

  const startBits = options.bits ?? 16;
  if (startBits !== 16 && startBits !== 32 && startBits !== 64) {
    throw new RangeError(`Invalid bits option: ${startBits} (expected 16, 32 or 64)`);
  }
  let origin = BigInt(options.org ?? 0);
  let prev = new Map<string, bigint>();
  let prevRel = new Map<string, number>();
  /** Section start addresses from the previous pass (`.text` is always first). */
  let bases = new Map<string, bigint>();
  let textAlign = 1n;
  const sticky = lines.map(() => ({}) as { long?: boolean });
  let final = false;
  const alignUp = (a: bigint, n: bigint) => (a + n - 1n) / n * n;
  for (let pass = 0;; pass++) {
    if (pass > 40) {
      throw err(1, 1, "Label positions do not settle: too many passes");
    }
    const cur = new Map<string, bigint>();
    const curRel = new Map<string, number>();
    // nasm's `align` also raises the section alignment; bin output then moves the section start
    // up to that alignment and pads the file with zeros from the origin.
    const textStart = alignUp(origin, textAlign);
    const secs = new Map<string, Section>();
    const newSection = (name: string, nobits: boolean): Section => {
      const sec: Section = {
        name,
        nobits,
        align: name === ".text" ? 1n : 4n,
        out: [],
        listing: [],
      };
      secs.set(name, sec);
      return sec;
    };
    let sec = newSection(".text", false);
    const baseOf = (x: Section) => x.name === ".text" ? textStart : bases.get(x.name) ?? textStart;
    let unknown = false;
    let bits = startBits;
    let cpu = CPU_LEVELS.any;
    let defaultRel = false;
    let lastGlobal = "";
    let newOrigin = origin;
    let orgSeen = false;
    for (let li = 0; li < lines.length; li++) {
      const line = lines[li];
      const col0 = line.label?.col ?? firstCol(srcLines[line.no - 1]);
      try {
        const st = line.stmt;
        if (st.k === "section") {
          const found = secs.get(st.name);
          if (found && st.nobits !== found.nobits && st.name !== ".bss") {
            throw new LineError(`Section type changed: ${st.name}`, 0);
          }
          sec = found ?? newSection(st.name, st.nobits);
          if (st.align !== undefined && st.align > sec.align) sec.align = st.align;
        }
        const out = sec.out;
        const secBase = baseOf(sec);
        const qualify = (name: string) =>
          name.startsWith(".") && !name.startsWith("..") ? lastGlobal + name : name;
        const env: Env = {
          here: secBase + BigInt(out.length),
          base: secBase,
          final,
          lookup(name, col) {
            const q = qualify(name);
            const v = cur.get(q) ?? prev.get(q);
            if (v === undefined) {
              if (final) throw new LineError(`Undefined label: ${q}`, col);
              unknown = true;
              return undefined;
            }
            return { v, rel: curRel.get(q) ?? prevRel.get(q) ?? 1 };
          },
        };
        const start = out.length;
        if (line.label) {
          const name = line.label.name.startsWith("$") ? line.label.name.slice(1) : line.label.name;
          const q = qualify(name);
          if (!name.startsWith(".")) lastGlobal = name;
          if (cur.has(q)) throw new LineError(`Label redefined: ${q}`, line.label.col);
          let v = env.here;
          let rel = 1;
          if (st.k === "equ") {
            const r = evalScalar(st.e, env);
            if (!r.known) unknown = true;
            v = r.v;
            rel = r.rel;
          }
          cur.set(q, v);
          curRel.set(q, rel);
          if (prev.get(q) !== v) unknown = true;
        }
        if (st.k === "cpu") cpu = st.level;
        else if (st.k === "bits") {
          if ((st.n === 32 && cpu < CPU_LEVELS["386"]) || (st.n === 64 && cpu < CPU_LEVELS.x64)) {
            throw new LineError(`Cannot use ${st.n}-bit mode with cpu ${cpuName(cpu)}`, 0);
          }
          bits = st.n;
        } else if (st.k === "default") defaultRel = st.rel;
        else if (st.k === "org") {
          const r = evalScalar(st.e, env);
          if (!r.known && final) throw new LineError("ORG value must be known", 0);
          if (orgSeen) throw new LineError("Program origin redefined", 0);
          orgSeen = true;
          newOrigin = r.v;
        } else if (st.k !== "equ" && st.k !== "empty" && st.k !== "section") {
          if (sec.nobits && st.k !== "res" && !(st.k === "align" && st.b)) {
            throw new LineError(
              `Only RESB/RESW/RESD/RESQ and ALIGNB in nobits section ${sec.name}`,
              0,
            );
          }
          let count = 1n;
          if (line.times) {
            const r = evalScalar(line.times, env);
            if (!r.known) unknown = true;
            count = r.known ? r.v : 0n;
            if (count < 0n) {
              if (final) throw new LineError(`TIMES value is negative: ${count}`, 0);
              count = 0n;
            }
            if (count > BigInt(MAX_OUTPUT)) {
              throw new LineError(`TIMES value too large: ${count}`, 0);
            }
          }
          // nasm: `$` inside TIMES is the start of the whole line, not of each repetition
          const stat = { maxAlign: sec.align };
          for (let i = 0n; i < count; i++) {
            const jumps = pass > 12 ? "grow" : "free";
            emitStmt(st, env, out, {
              bits,
              cpu,
              defaultRel,
              sticky: sticky[li],
              final,
              stat,
              jumps,
            });
            if (out.length > MAX_OUTPUT) {
              throw new LineError(`Output larger than ${MAX_OUTPUT} bytes`, 0);
            }
          }
          sec.align = stat.maxAlign;
        }
        if (out.length > start && !sec.nobits) {
          sec.listing.push({ line: line.no, offset: start, length: out.length - start });
        }
      } catch (e) {
        if (e instanceof LineError) throw err(line.no, e.col || col0, e.message);
        if (e instanceof RangeError) throw err(line.no, col0, `Cannot assemble: ${e.message}`);
        throw e;
      }
    }
    const text = secs.get(".text")!;
    if (newOrigin !== origin || alignUp(newOrigin, text.align) !== textStart) {
      // the origin or section alignment moved: label values of this pass are stale, start over
      origin = newOrigin;
      textAlign = text.align;
      prev = new Map();
      prevRel = new Map();
      bases = new Map();
      for (const s of sticky) delete s.long;
      final = false;
      continue;
    }
    textAlign = text.align;
    // layout: .text, the other progbits sections in order of appearance, then the nobits ones
    const order = [...secs.values()].filter((x) => x !== text);
    const layout = [text, ...order.filter((x) => !x.nobits), ...order.filter((x) => x.nobits)];
    const newBases = new Map<string, bigint>();
    let pos = textStart;
    let fileEnd = textStart;
    for (const x of layout) {
      pos = x === text ? textStart : alignUp(pos, x.align);
      newBases.set(x.name, pos);
      pos += BigInt(x.out.length);
      if (!x.nobits) fileEnd = pos;
    }
    let changed = false;
    for (const [k, v] of newBases) if (bases.get(k) !== v) changed = true;
    bases = newBases;
    if (cur.size !== prev.size) changed = true;
    for (const [k, v] of cur) if (prev.get(k) !== v) changed = true;
    prev = cur;
    prevRel = curRel;
    if (final && !changed) {
      const bytes = new Uint8Array(Number(fileEnd - origin));
      const listing: AsmLine[] = [];
      for (const x of layout) {
        if (x.nobits) continue;
        const at = Number(newBases.get(x.name)! - origin);
        bytes.set(x.out, at);
        for (const l of x.listing) listing.push({ ...l, offset: l.offset + at });
      }
      listing.sort((a, b) => a.offset - b.offset);
      return { bytes, labels: cur, origin, lines: listing };
    }
    final = !changed && (!unknown || pass > 2);
  }
}

interface Section {
  name: string;
  nobits: boolean;
  align: bigint;
  out: number[];
  listing: AsmLine[];
}

/**
 * The small part of nasm's preprocessor the assembler supports: `%define NAME text` (and
 * `%idefine`, case-insensitive), `%undef NAME` and `%assign NAME expression`, expanded as whole
 * identifiers outside strings and comments. Returns the line to assemble.
 */
function preprocess(text: string, defines: Map<string, string>): string {
  const m = /^\s*%(\w+)\b\s*(.*)$/.exec(text);
  if (m) {
    const dir = m[1].toLowerCase();
    const rest = m[2].replace(/\s*;.*$/, "");
    const col = text.indexOf("%") + 1;
    const nm = /^([A-Za-z_.?@$][\w.?@$#~]*)(?:\s+(.*))?$/.exec(rest.trim());
    if (dir === "define" || dir === "idefine" || dir === "xdefine") {
      const fn = /^[A-Za-z_.?@$][\w.?@$#~]*\(/.exec(rest.trim());
      if (fn) {
        throw new LineError(`Macros with parameters are not supported: %${dir} ${fn[0]}`, col);
      }
      if (!nm) throw new LineError(`Invalid %${dir}: expected a name`, col);
      const key = dir === "idefine" ? "\0" + nm[1].toLowerCase() : nm[1];
      const body = nm[2] ?? "";
      defines.set(key, dir === "xdefine" ? expandDefines(body, defines) : body);
      return "";
    }
    if (dir === "undef") {
      if (!nm) throw new LineError("Invalid %undef: expected a name", col);
      defines.delete(nm[1]);
      defines.delete("\0" + nm[1].toLowerCase());
      return "";
    }
    if (dir === "assign" || dir === "iassign") {
      if (!nm || !nm[2]) throw new LineError(`Invalid %${dir}: expected a name and a value`, col);
      const cur = new Cursor(tokenize(expandDefines(nm[2], defines)));
      const e = parseExpr(cur, { allowRegs: false });
      if (cur.peek.kind !== "end") throw new LineError(`Unexpected ${describe(cur.peek)}`, col);
      const env: Env = {
        here: 0n,
        base: 0n,
        final: true,
        lookup(name, c) {
          throw new LineError(`%assign needs a constant expression: ${name} is not a number`, c);
        },
      };
      const v = evalScalar(e, env).v;
      defines.set(dir === "iassign" ? "\0" + nm[1].toLowerCase() : nm[1], `(${v})`);
      return "";
    }
    throw new LineError(`Preprocessor directive not supported: %${m[1]}`, col);
  }
  return defines.size ? expandDefines(text, defines) : text;
}

function expandDefines(text: string, defines: Map<string, string>, depth = 0): string {
  if (depth > 16) throw new LineError("Recursive %define", 1);
  let out = "";
  let changed = false;
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (c === ";") {
      out += text.slice(i);
      break;
    }
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += c === "`" && text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_.?@$]/.test(c) && !/[0-9]/.test(text[i - 1] ?? "")) {
      let j = i + 1;
      while (j < text.length && /[\w.?@$#~]/.test(text[j])) j++;
      const word = text.slice(i, j);
      const body = defines.get(word) ?? defines.get("\0" + word.toLowerCase());
      if (body !== undefined) {
        out += body;
        changed = true;
      } else out += word;
      i = j;
      continue;
    }
    out += c;
    i++;
  }
  return changed ? expandDefines(out, defines, depth + 1) : out;
}

function firstCol(text: string): number {
  const m = /\S/.exec(text);
  return m ? m.index + 1 : 1;
}

function emitStmt(
  st: Stmt,
  env: Env,
  out: number[],
  c: {
    bits: 16 | 32 | 64;
    cpu: number;
    defaultRel: boolean;
    sticky: { long?: boolean };
    final: boolean;
    stat: { maxAlign: bigint };
    jumps: "free" | "grow";
  },
) {
  switch (st.k) {
    case "insn": {
      if (!st.mnem) {
        // prefix alone on a line
        for (const p of st.prefixes) {
          if (p in PREFIXES) out.push(PREFIXES[p]);
          else if (p in SEG_PREFIX) out.push(SEG_PREFIX[p]);
          else throw new LineError(`Prefix without an instruction: ${p}`, st.mcol);
        }
        return;
      }
      const ops = st.ops.map((o) => evalOperand(o, env, c.bits, c.defaultRel));
      const pre: number[] = [];
      let oprefix: number | undefined, aprefix: number | undefined;
      let segPrefix: Reg | undefined;
      for (const p of st.prefixes) {
        if (p in PREFIXES) pre.push(PREFIXES[p]);
        else if (p in SEG_PREFIX) {
          if (segPrefix) throw new LineError("Conflicting segment overrides", st.mcol);
          segPrefix = lookupReg(p);
        } else if (p[0] === "o") oprefix = Number(p.slice(1));
        else aprefix = Number(p.slice(1));
      }
      try {
        const ectx: EncCtx = {
          bits: c.bits,
          addr: env.here,
          segPrefix,
          defaultRel: c.defaultRel,
          prefixes: pre,
          oprefix,
          aprefix,
          sticky: c.sticky,
          jumps: c.jumps,
          final: c.final,
          cpu: c.cpu,
        };
        const bytes = encodeInsn(st.mnem, ops, ectx);
        // an explicit o16/o32 prefix word is not checked by nasm; needCpu -1: any cpu
        const byBytes = requiredCpu(bytes, c.bits, { ignoreOperandSize: oprefix !== undefined });
        const need = ectx.needCpu === -1 ? 0 : Math.max(byBytes, ectx.needCpu ?? 0);
        if (need > c.cpu) {
          throw new LineError(
            `Instruction not supported by cpu ${cpuName(c.cpu)}: ${st.mnem} (needs cpu ${
              cpuName(need)
            })`,
            st.mcol,
          );
        }
        for (const b of bytes) out.push(b);
      } catch (e) {
        if (e instanceof LineError && e.col === 0) e.col = st.mcol;
        throw e;
      }
      return;
    }
    case "data": {
      for (const it of st.items) {
        if (it.k === "str") {
          const s = it.str;
          for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
          const pad = (st.width - (s.length % st.width)) % st.width;
          for (let i = 0; i < pad; i++) out.push(0);
          continue;
        }
        if (it.k !== "imm" || it.size !== undefined) {
          throw new LineError("Invalid data item: expected a number, string or label", it.col);
        }
        const { v, rel } = evalScalar(it.expr, env);
        if (c.final && st.width < 8 && rel === 0) {
          const bits = BigInt(st.width * 8);
          if (v < -(1n << bits) || v >= 1n << bits) {
            throw new LineError(`Value does not fit in ${st.width * 8} bits: ${v}`, it.col);
          }
        }
        for (let i = 0; i < st.width; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
      }
      return;
    }
    case "res": {
      const r = evalScalar(st.count, env);
      if (!r.known && c.final) throw new LineError("RESx count must be known", 0);
      if (r.v < 0n) {
        if (c.final) throw new LineError(`RESx count is negative: ${r.v}`, 0);
        return;
      }
      if (r.v * BigInt(st.width) + BigInt(out.length) > BigInt(MAX_OUTPUT)) {
        throw new LineError(`Output larger than ${MAX_OUTPUT} bytes`, 0);
      }
      const n = Number(r.v) * st.width;
      for (let i = 0; i < n; i++) out.push(0);
      return;
    }
    case "align": {
      const r = evalScalar(st.n, env);
      if (!r.known && c.final) throw new LineError("ALIGN value must be known", 0);
      const n = r.v;
      if (n <= 0n || (n & (n - 1n)) !== 0n) {
        throw new LineError(`ALIGN value must be a power of two: ${n}`, 0);
      }
      if (n > 1n << 24n) throw new LineError(`ALIGN value too large: ${n}`, 0);
      if (n > c.stat.maxAlign) c.stat.maxAlign = n;
      const pad = Number((n - ((env.here - env.base) % n)) % n);
      if (st.b) {
        for (let i = 0; i < pad; i++) out.push(0);
        return;
      }
      if (!st.fill) {
        for (let i = 0; i < pad; i++) out.push(0x90);
        return;
      }
      for (let i = 0; i < pad; i++) emitStmt(st.fill, env, out, c);
      return;
    }
    default:
      return;
  }
}
