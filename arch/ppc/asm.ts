/**
 * A GNU as compatible PowerPC assembler (32-bit, big-endian) for the 750/Gekko integer subset:
 * it accepts what `powerpc-linux-gnu-as -a32 -mbig -mppc -mregnames` accepts for the instructions
 * of `asm_table.ts` and produces the same bytes (the golden vectors in `testdata/` check that).
 *
 * Supported syntax: registers as bare numbers, `r3`, `%r3`, `sp`, `rtoc`; CR fields `cr0`..`cr7`
 * and CR bit names `lt gt eq so un` as values (`4*cr1+eq`); comments from `#`; `;` between
 * statements; labels, local numeric labels (`1:`, `1b`, `1f`); `.`; GNU as expressions and number
 * forms (`0x`, `0b`, leading-0 octal, `'c'`); `@l`, `@h`, `@ha` resolved at assembly time (labels
 * are absolute addresses, counted from `org`); `.set`/`.equ`/`=`; `.long/.int/.4byte`,
 * `.word/.short/.hword/.2byte`, `.byte`, `.quad/.8byte`, `.ascii/.asciz/.string`, `.space/.skip/
 * .zero`, `.fill`, `.align`/`.p2align` (power of two) and `.balign` (bytes; in code sections the
 * padding is zeros up to a word, then `nop`s, as GNU as does), `.org` (offset from the start).
 * Sections (`.text`, `.data`, `.section`) do not reorder anything: the output is flat, in source
 * order. `.globl`, `.type`, `.size` and similar bookkeeping directives are accepted and ignored.
 *
 * GNU as semantics worth knowing: a branch to a plain number (`b 0x100`) is a branch by that
 * displacement, while a branch to a label or `.`-expression is relative to the instruction; `+`/`-`
 * hints set the y bit as pre-POWER4 processors expect (B-form: from the displacement sign).
 * Differences: values that GNU as truncates with a warning (`.byte 256`) are errors here.
 *
 * @module
 */

import {
  AsmError,
  Cursor,
  describe,
  type Expr,
  LineError,
  parseExpr,
  tokenize,
} from "./asm_parse.ts";
import {
  ALIASES,
  badStringLoad,
  BY_NAME,
  type Field,
  type InsnDef,
  MACROS,
  NEGATED,
  sprBits,
  validBo,
  Y_BIT,
} from "./asm_table.ts";

export { AsmError } from "./asm_parse.ts";

/** Options for {@linkcode assemble}. */
export interface AsmOptions {
  /** Address of the first byte (default 0). */
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
  /** The flat binary (big-endian instruction words). */
  bytes: Uint8Array;
  /** Every label and `.set` symbol with its final value (local numeric labels are left out). */
  labels: ReadonlyMap<string, bigint>;
  /** Address of `bytes[0]`. */
  origin: bigint;
  /** Listing: one entry per source line that produced bytes. */
  lines: AsmLine[];
}

interface Operand {
  e: Expr;
  base?: Expr;
  col: number;
}

type Stmt =
  | { k: "insn"; mnem: string; col: number; ops: Operand[] }
  | { k: "data"; width: number; items: Expr[] }
  | { k: "bytes"; bytes: Uint8Array }
  | { k: "space"; n: Expr; fill?: Expr }
  | { k: "fill"; rep: Expr; size?: Expr; value?: Expr }
  | { k: "align"; pow: boolean; n: Expr; fill?: Expr; max?: Expr }
  | { k: "org"; e: Expr; fill?: Expr }
  | { k: "set"; name: string; e: Expr; col: number }
  | { k: "section"; code: boolean };

interface Line {
  no: number;
  labels: { name: string; col: number }[];
  stmts: Stmt[];
}

/** Largest output (64 MiB). */
const MAX_OUTPUT = 1 << 26;

const PREDEF = new Map<string, bigint>();
for (let i = 0; i < 32; i++) {
  PREDEF.set(`r${i}`, BigInt(i));
  PREDEF.set(`%r${i}`, BigInt(i));
}
for (let i = 0; i < 8; i++) {
  PREDEF.set(`cr${i}`, BigInt(i));
  PREDEF.set(`%cr${i}`, BigInt(i));
}
for (
  const [n, v] of [["sp", 1], ["rtoc", 2], ["lt", 0], ["gt", 1], ["eq", 2], ["so", 3], [
    "un",
    3,
  ]] as const
) {
  PREDEF.set(n, BigInt(v));
  PREDEF.set("%" + n, BigInt(v));
}

const DATA: Record<string, number> = {
  ".byte": 1,
  ".short": 2,
  ".hword": 2,
  ".word": 2,
  ".2byte": 2,
  ".long": 4,
  ".int": 4,
  ".4byte": 4,
  ".quad": 8,
  ".8byte": 8,
};
const IGNORED = new Set([
  ".globl",
  ".global",
  ".local",
  ".weak",
  ".type",
  ".size",
  ".file",
  ".ident",
  ".machine",
  ".abiversion",
  ".gnu_attribute",
  ".hidden",
  ".protected",
  ".previous",
  ".extern",
]);

/** Splits a source line into statements, dropping `#` comments and one-line C comments. */
function splitLine(text: string): { s: string; col: number }[] {
  const out: { s: string; col: number }[] = [];
  let start = 0;
  let buf = "";
  let i = 0;
  let inStr = false;
  while (i < text.length) {
    const c = text[i];
    if (inStr) {
      buf += c;
      if (c === "\\" && i + 1 < text.length) buf += text[++i];
      else if (c === '"') inStr = false;
      i++;
      continue;
    }
    if (c === '"') {
      inStr = true;
      buf += c;
      i++;
      continue;
    }
    if (c === "'" && i + 1 < text.length) {
      // character constant: keep the next character (and a closing quote) verbatim
      buf += c + text[i + 1];
      i += 2;
      if (text[i - 1] === "\\" && i < text.length) buf += text[i++];
      continue;
    }
    if (c === "#") break;
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      buf += " ".repeat(stop - i);
      i = stop;
      continue;
    }
    if (c === ";") {
      out.push({ s: buf, col: start + 1 });
      buf = "";
      start = i + 1;
      i++;
      continue;
    }
    buf += c;
    i++;
  }
  out.push({ s: buf, col: start + 1 });
  return out;
}

function splitOperands(cur: Cursor): Cursor[] {
  const out: Cursor[] = [];
  let cur0: typeof cur.toks = [];
  let depth = 0;
  while (cur.peek.kind !== "end") {
    const t = cur.next();
    if (t.kind === "op" && t.text === "(") depth++;
    if (t.kind === "op" && t.text === ")") depth--;
    if (t.kind === "op" && t.text === "," && depth === 0) {
      out.push(new Cursor([...cur0, { kind: "end", text: "", col: t.col, end: t.col }]));
      cur0 = [];
      continue;
    }
    cur0.push(t);
  }
  const endTok = cur.peek;
  if (cur0.length || out.length) out.push(new Cursor([...cur0, endTok]));
  for (const c of out) {
    if (c.peek.kind === "end") throw new LineError("Missing operand", c.peek.col);
  }
  return out;
}

function expectEnd(cur: Cursor) {
  if (cur.peek.kind !== "end") {
    throw new LineError(`Unexpected ${describe(cur.peek)}`, cur.peek.col);
  }
}

/**
 * Assembles GNU as syntax PowerPC source into a flat big-endian binary.
 *
 * @example
 * ```ts
 * const r = assemble("start: li r3,1\n b start", { org: 0x1000 });
 * r.bytes; // Uint8Array [0x38, 0x60, 0x00, 0x01, 0x4b, 0xff, 0xff, 0xfc]
 * r.labels.get("start"); // 0x1000n
 * ```
 */
export function assemble(source: string, options: AsmOptions = {}): AsmResult {
  const lineOffset = options.lineOffset ?? 0;
  const columnOffset = options.columnOffset ?? 0;
  const file = options.file;
  const err = (no: number, col: number, msg: string) =>
    new AsmError(msg, { line: no + lineOffset, column: Math.max(col, 1) + columnOffset, file });
  if (typeof source !== "string") throw new TypeError("Source must be a string");
  const org = options.org ?? 0;
  if (
    (typeof org === "number" && (!Number.isSafeInteger(org) || org < 0 || org > 0xffffffff)) ||
    (typeof org === "bigint" && (org < 0n || org > 0xffffffffn))
  ) {
    throw new RangeError(`Invalid org option: ${org} (expected 0..0xffffffff)`);
  }
  const origin = BigInt(org);

  // ---- parse ----
  const localCount = new Map<string, number>();
  const localName = (n: string, inst: number) => `@${n}:${inst}`;
  const resolveLocal = (text: string, col: number): string => {
    const n = String(BigInt(text.slice(0, -1)));
    const count = localCount.get(n) ?? 0;
    if (text.endsWith("b")) {
      if (count === 0) throw new LineError(`Undefined local label: ${text}`, col);
      return localName(n, count - 1);
    }
    return localName(n, count);
  };
  const lines: Line[] = [];
  const srcLines = source.split(/\r?\n|\r/);
  for (let idx = 0; idx < srcLines.length; idx++) {
    const no = idx + 1;
    const line: Line = { no, labels: [], stmts: [] };
    let firstCol = 1;
    try {
      for (const part of splitLine(srcLines[idx])) {
        firstCol = part.col;
        const cur = new Cursor(tokenize(part.s, part.col));
        parseStatement(cur, line);
      }
    } catch (e) {
      if (e instanceof LineError) throw err(no, e.col || firstCol, e.message);
      if (e instanceof RangeError) throw err(no, firstCol, `Cannot parse: ${e.message}`);
      throw e;
    }
    lines.push(line);
  }

  function parseStatement(cur: Cursor, line: Line) {
    // labels
    for (;;) {
      const t = cur.peek;
      if (t.kind === "end") return;
      if (
        (t.kind === "id" || t.kind === "num") && cur.peek2.kind === "op" && cur.peek2.text === ":"
      ) {
        cur.next();
        cur.next();
        if (t.kind === "num") {
          if (!/^[0-9]+$/.test(t.text)) throw new LineError(`Invalid label: ${t.text}`, t.col);
          const n = String(BigInt(t.text));
          const c = localCount.get(n) ?? 0;
          line.labels.push({ name: localName(n, c), col: t.col });
          localCount.set(n, c + 1);
        } else {
          if (t.text === "." || PREDEF.has(t.text.toLowerCase())) {
            throw new LineError(`Invalid label name: ${t.text}`, t.col);
          }
          line.labels.push({ name: t.text, col: t.col });
        }
        continue;
      }
      break;
    }
    const t = cur.next();
    if (t.kind !== "id") {
      throw new LineError(`Expected an instruction but found ${describe(t)}`, t.col);
    }
    if (cur.isOp("=")) {
      cur.next();
      if (t.text === ".") {
        line.stmts.push({ k: "org", e: parseExpr(cur, resolveLocal) });
        expectEnd(cur);
        return;
      }
      if (PREDEF.has(t.text.toLowerCase())) {
        throw new LineError(`Invalid symbol name: ${t.text}`, t.col);
      }
      const e = parseExpr(cur, resolveLocal);
      expectEnd(cur);
      line.stmts.push({ k: "set", name: t.text, e, col: t.col });
      return;
    }
    const word = t.text.toLowerCase();
    if (word.startsWith(".")) {
      parseDirective(word, t.col, cur, line);
      return;
    }
    let mnem = word;
    if ((cur.isOp("+") || cur.isOp("-")) && cur.peek.col === t.end) {
      mnem += cur.next().text;
    }
    const ops: Operand[] = [];
    for (const oc of splitOperands(cur)) {
      const col = oc.peek.col;
      const e = parseExpr(oc, resolveLocal);
      let base: Expr | undefined;
      if (oc.isOp("(")) {
        oc.next();
        base = parseExpr(oc, resolveLocal);
        oc.expectOp(")");
      }
      expectEnd(oc);
      ops.push({ e, base, col });
    }
    line.stmts.push({ k: "insn", mnem, col: t.col, ops });
  }

  function parseDirective(word: string, col: number, cur: Cursor, line: Line) {
    const exprs = () =>
      splitOperands(cur).map((c) => {
        const e = parseExpr(c, resolveLocal);
        expectEnd(c);
        return e;
      });
    if (word in DATA) {
      line.stmts.push({ k: "data", width: DATA[word], items: exprs() });
      return;
    }
    switch (word) {
      case ".ascii":
      case ".asciz":
      case ".string": {
        for (const c of splitOperands(cur)) {
          const s = c.next();
          if (s.kind !== "str") {
            throw new LineError(`Expected a string but found ${describe(s)}`, s.col);
          }
          expectEnd(c);
          const b = Uint8Array.from(s.text, (ch) => ch.charCodeAt(0) & 0xff);
          line.stmts.push({ k: "bytes", bytes: b });
          if (word !== ".ascii") line.stmts.push({ k: "bytes", bytes: new Uint8Array(1) });
        }
        return;
      }
      case ".space":
      case ".skip":
      case ".zero": {
        const a = exprs();
        if (a.length < 1 || a.length > (word === ".zero" ? 1 : 2)) {
          throw new LineError(`Wrong number of operands for ${word}`, col);
        }
        line.stmts.push({ k: "space", n: a[0], fill: a[1] });
        return;
      }
      case ".fill": {
        const a = exprs();
        if (a.length < 1 || a.length > 3) {
          throw new LineError("Wrong number of operands for .fill", col);
        }
        line.stmts.push({ k: "fill", rep: a[0], size: a[1], value: a[2] });
        return;
      }
      case ".align":
      case ".p2align":
      case ".balign": {
        const a = exprs();
        if (a.length < 1 || a.length > 3) {
          throw new LineError(`Wrong number of operands for ${word}`, col);
        }
        line.stmts.push({ k: "align", pow: word !== ".balign", n: a[0], fill: a[1], max: a[2] });
        return;
      }
      case ".org": {
        const a = exprs();
        if (a.length < 1 || a.length > 2) {
          throw new LineError("Wrong number of operands for .org", col);
        }
        line.stmts.push({ k: "org", e: a[0], fill: a[1] });
        return;
      }
      case ".set":
      case ".equ": {
        const name = cur.next();
        if (name.kind !== "id" || name.text === "." || PREDEF.has(name.text.toLowerCase())) {
          throw new LineError(`Expected a symbol name but found ${describe(name)}`, name.col);
        }
        cur.expectOp(",");
        const e = parseExpr(cur, resolveLocal);
        expectEnd(cur);
        line.stmts.push({ k: "set", name: name.text, e, col: name.col });
        return;
      }
      case ".text":
        line.stmts.push({ k: "section", code: true });
        return;
      case ".data":
      case ".bss":
        line.stmts.push({ k: "section", code: false });
        return;
      case ".section": {
        const n = cur.next();
        const name = n.kind === "str" ? n.text : n.text;
        let flags = "";
        if (cur.isOp(",")) {
          cur.next();
          if (cur.peek.kind === "str") flags = cur.next().text;
        }
        line.stmts.push({ k: "section", code: name.startsWith(".text") || flags.includes("x") });
        return;
      }
    }
    if (IGNORED.has(word)) return;
    throw new LineError(`Unknown directive: ${word}`, col);
  }

  // ---- passes ----
  type Val = { v: bigint; rel: number; reloc: boolean };
  let prev = new Map<string, Val>();
  let final = false;
  let result: AsmResult | undefined;
  for (let pass = 0; pass < 50 && !result; pass++) {
    const cur = new Map<string, Val>();
    let offset = 0;
    let code = true;
    let out = new Uint8Array(final ? 4096 : 0);
    const listing: AsmLine[] = [];
    let lineNo = 0;
    const ensure = (n: number) => {
      if (offset + n > MAX_OUTPUT) throw new LineError("Output larger than 64 MiB", 0);
      if (!final) return;
      if (offset + n > out.length) {
        const b = new Uint8Array(Math.max(out.length * 2, offset + n));
        b.set(out);
        out = b;
      }
    };
    const put = (bytes: ArrayLike<number>) => {
      ensure(bytes.length);
      if (final) out.set(bytes, offset);
      offset += bytes.length;
    };
    const padTo = (n: number, fill: number) => {
      if (n < 0 || n > MAX_OUTPUT) throw new LineError("Output larger than 64 MiB", 0);
      ensure(n);
      if (final) out.fill(fill, offset, offset + n);
      offset += n;
    };
    const evalE = (e: Expr): Val => {
      switch (e.k) {
        case "num":
          return { v: e.v, rel: 0, reloc: false };
        case "dot":
          return { v: origin + BigInt(offset), rel: 1, reloc: false };
        case "sym": {
          const p = PREDEF.get(e.name.toLowerCase());
          if (p !== undefined && !cur.has(e.name)) return { v: p, rel: 0, reloc: false };
          const v = cur.get(e.name) ?? prev.get(e.name);
          if (v) return v;
          if (final) {
            const shown = e.name.startsWith("@") ? e.name.slice(1).replace(/:.*/, "f") : e.name;
            throw new LineError(`Undefined symbol: ${shown}`, e.col);
          }
          return { v: 0n, rel: 0, reloc: false };
        }
        case "un": {
          const a = evalE(e.a);
          if (e.op === "+") return a;
          if (a.rel !== 0 && final) {
            throw new LineError(`Invalid operand for '${e.op}': a label`, e.col);
          }
          const v = e.op === "-" ? -a.v : e.op === "~" ? ~a.v : a.v === 0n ? 1n : 0n;
          return { v: BigInt.asIntN(64, v), rel: 0, reloc: false };
        }
        case "reloc": {
          const a = evalE(e.a);
          const x = BigInt.asUintN(32, a.v);
          const v = e.op === "l"
            ? x & 0xffffn
            : e.op === "h"
            ? x >> 16n
            : ((x + 0x8000n) >> 16n) & 0xffffn;
          return { v, rel: 0, reloc: true };
        }
        case "bin": {
          const a = evalE(e.a);
          const b = evalE(e.b);
          let rel = 0;
          // an addend after @l/@h/@ha stays part of the 16-bit piece (GNU as: x@l+4)
          const reloc = a.reloc && (e.op === "+" || e.op === "-");
          if (e.op === "+") rel = a.rel + b.rel;
          else if (e.op === "-") rel = a.rel - b.rel;
          else if ((a.rel !== 0 || b.rel !== 0) && final) {
            throw new LineError(`Invalid operand for '${e.op}': a label`, e.col);
          }
          const x = a.v, y = b.v;
          let v: bigint;
          switch (e.op) {
            case "+":
              v = x + y;
              break;
            case "-":
              v = x - y;
              break;
            case "*":
              v = x * y;
              break;
            case "/":
            case "%":
              if (y === 0n) {
                if (final) throw new LineError("Division by zero", e.col);
                v = 0n;
              } else v = e.op === "/" ? x / y : x % y;
              break;
            case "<<":
              v = y < 0n || y > 63n ? 0n : x << y;
              break;
            case ">>":
              v = y < 0n || y > 63n ? (x < 0n ? -1n : 0n) : x >> y;
              break;
            case "|":
              v = x | y;
              break;
            case "&":
              v = x & y;
              break;
            case "^":
              v = x ^ y;
              break;
            case "!":
              v = x | ~y;
              break;
            case "==":
              v = x === y ? -1n : 0n;
              break;
            case "!=":
            case "<>":
              v = x !== y ? -1n : 0n;
              break;
            case "<":
              v = x < y ? -1n : 0n;
              break;
            case ">":
              v = x > y ? -1n : 0n;
              break;
            case "<=":
              v = x <= y ? -1n : 0n;
              break;
            case ">=":
              v = x >= y ? -1n : 0n;
              break;
            case "&&":
              v = x !== 0n && y !== 0n ? 1n : 0n;
              break;
            default:
              v = x !== 0n || y !== 0n ? 1n : 0n;
          }
          return { v: BigInt.asIntN(64, v), rel, reloc };
        }
      }
    };
    /** Evaluates a count (sizes): plain numbers only; 0 while labels are still unknown. */
    const evalCount = (e: Expr, what: string, max = MAX_OUTPUT): number => {
      const v = evalE(e);
      if (v.v < 0n || v.v > BigInt(max)) {
        if (!final) return 0;
        throw new LineError(`${what} out of range: ${v.v}`, e.col);
      }
      return Number(v.v);
    };
    try {
      for (const line of lines) {
        lineNo = line.no;
        const start = offset;
        for (const l of line.labels) {
          if (cur.has(l.name)) {
            throw new LineError(
              `Symbol already defined: ${l.name.replace(/^@|:.*$/g, "")}`,
              l.col,
            );
          }
          cur.set(l.name, { v: origin + BigInt(offset), rel: 1, reloc: false });
        }
        for (const s of line.stmts) {
          switch (s.k) {
            case "insn":
              if (final) {
                if (offset % 4 !== 0) {
                  throw new LineError("Instruction address is not a multiple of 4", s.col);
                }
                const w = encode(s, origin + BigInt(offset), evalE);
                put([w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff]);
              } else put([0, 0, 0, 0]);
              break;
            case "data":
              for (const it of s.items) {
                let v = 0n;
                if (final) {
                  v = evalE(it).v;
                  const bits = BigInt(s.width * 8);
                  if (s.width < 8 && (v < -(1n << (bits - 1n)) || v >= (1n << bits))) {
                    throw new LineError(
                      `Value out of range for ${s.width}-byte data: ${v}`,
                      it.col,
                    );
                  }
                }
                const b: number[] = [];
                for (let i = s.width - 1; i >= 0; i--) {
                  b.push(Number(BigInt.asUintN(8, v >> BigInt(i * 8))));
                }
                put(b);
              }
              break;
            case "bytes":
              put(s.bytes);
              break;
            case "space": {
              const n = evalCount(s.n, "Size");
              const fill = s.fill ? Number(BigInt.asUintN(8, evalE(s.fill).v)) : 0;
              padTo(n, fill);
              break;
            }
            case "fill": {
              const rep = evalCount(s.rep, "Repeat count");
              const size = s.size ? evalCount(s.size, "Size", 8) : 1;
              const value = s.value ? evalE(s.value).v : 0n;
              ensure(rep * Math.min(size, 8));
              for (let r = 0; r < rep; r++) {
                const b: number[] = [];
                // GNU as: the value is at most 4 bytes wide; for sizes 5..8 it comes first
                // (big-endian), followed by zeros.
                const vb = Math.min(size, 4);
                for (let i = vb - 1; i >= 0; i--) {
                  b.push(Number(BigInt.asUintN(8, value >> BigInt(i * 8))));
                }
                for (let i = vb; i < size; i++) b.push(0);
                put(b);
              }
              break;
            }
            case "align": {
              const n = evalCount(s.n, "Alignment", s.pow ? 31 : 1 << 30);
              const a = s.pow ? 2 ** n : n === 0 ? 1 : n;
              if (a & (a - 1)) throw new LineError(`Alignment not a power of two: ${a}`, s.n.col);
              const abs = Number(origin) + offset;
              const pad = (a - (abs % a)) % a;
              const max = s.max ? evalCount(s.max, "Maximum") : Infinity;
              if (pad > max) break;
              if (s.fill) padTo(pad, Number(BigInt.asUintN(8, evalE(s.fill).v)));
              else if (code && pad % 4 === 0) {
                // GNU as pads code with nops when the gap is whole words, else with zeros
                for (let i = 0; i < pad >> 2; i++) put([0x60, 0, 0, 0]);
              } else padTo(pad, 0);
              break;
            }
            case "org": {
              const v = evalE(s.e);
              const target = v.rel ? v.v - origin : v.v;
              if (target < BigInt(offset)) {
                if (!final) break;
                throw new LineError(
                  `Attempt to move .org backwards: ${target} < ${offset}`,
                  s.e.col,
                );
              }
              if (target > BigInt(MAX_OUTPUT)) {
                throw new LineError("Output larger than 64 MiB", s.e.col);
              }
              const fill = s.fill ? Number(BigInt.asUintN(8, evalE(s.fill).v)) : 0;
              padTo(Number(target) - offset, fill);
              break;
            }
            case "set":
              cur.set(s.name, evalE(s.e));
              break;
            case "section":
              code = s.code;
              break;
          }
        }
        if (final && offset > start) {
          listing.push({ line: line.no, offset: start, length: offset - start });
        }
      }
    } catch (e) {
      if (e instanceof LineError) throw err(lineNo, e.col, e.message);
      if (e instanceof RangeError) throw err(lineNo, 1, `Cannot assemble: ${e.message}`);
      throw e;
    }
    if (final) {
      const labels = new Map<string, bigint>();
      for (const [k, v] of cur) if (!k.startsWith("@")) labels.set(k, BigInt.asUintN(32, v.v));
      result = { bytes: out.slice(0, offset), labels, origin, lines: listing };
      break;
    }
    let same = pass > 0 && cur.size === prev.size;
    if (same) {
      for (const [k, v] of cur) {
        const p = prev.get(k);
        if (!p || p.v !== v.v) {
          same = false;
          break;
        }
      }
    }
    prev = cur;
    if (same) final = true;
  }
  if (!result) throw err(1, 1, "Label positions do not settle: too many passes");
  return result;
}

type Evaluator = (e: Expr) => { v: bigint; rel: number; reloc: boolean };

interface OpVal {
  v: bigint;
  rel: number;
  reloc: boolean;
  base?: bigint;
  col: number;
}

function encode(
  s: { mnem: string; col: number; ops: Operand[] },
  pc: bigint,
  evalE: Evaluator,
): number {
  let name = s.mnem;
  name = ALIASES.get(name) ?? name;
  let vals: OpVal[] = s.ops.map((o) => {
    const v = evalE(o.e);
    return { ...v, base: o.base ? evalE(o.base).v : undefined, col: o.col };
  });
  const macro = MACROS.get(name);
  if (macro) {
    if (vals.length !== macro.count) {
      throw new LineError(
        `Wrong number of operands for ${s.mnem}: ${vals.length} (expected ${macro.count})`,
        s.col,
      );
    }
    for (const [i, v] of vals.entries()) {
      if (v.base !== undefined) throw new LineError("Unexpected memory operand", v.col);
      const lo = i < 2 ? 0n : macro.checked.includes(i) ? 0n : -0x80000000n;
      const hi = i < 2 ? 31n : macro.checked.includes(i) ? BigInt(macro.max) : 0xffffffffn;
      if (v.v < lo || v.v > hi) {
        throw new LineError(`Operand out of range: ${v.v} (expected ${lo}..${hi})`, v.col);
      }
    }
    const mapped = macro.map(vals.map((v) => Number(v.v)));
    vals = mapped.map((v, i) => ({
      v: BigInt(v),
      rel: 0,
      reloc: false,
      col: vals[Math.min(i, vals.length - 1)].col,
    }));
    name = macro.target;
  }
  const neg = NEGATED.get(name);
  if (neg) {
    name = neg;
    const last = vals[vals.length - 1];
    if (last) {
      if (last.reloc) {
        // GNU as negates after taking the 16-bit piece: keep the piece signed
        const x = BigInt.asIntN(16, last.v);
        vals[vals.length - 1] = { ...last, v: -x, reloc: false };
      } else vals[vals.length - 1] = { ...last, v: -last.v, rel: -last.rel };
    }
  }
  if (/^rl(winm|wimi|wnm)\.?$/.test(name) && vals.length === 4) {
    // rlwinm rA,rS,SH,mask: MB and ME from a contiguous (possibly wrapping) mask
    const m = vals[3];
    if (m.base !== undefined) throw new LineError("Unexpected memory operand", m.col);
    const mask = Number(BigInt.asUintN(32, m.v));
    const mbme = maskBounds(mask);
    if (!mbme || m.v < -0x80000000n || m.v > 0xffffffffn) {
      throw new LineError(`Illegal bitmask: ${m.v}`, m.col);
    }
    vals = [...vals.slice(0, 3), { ...m, v: BigInt(mbme[0]) }, { ...m, v: BigInt(mbme[1]) }];
  }
  const defs = BY_NAME.get(name);
  if (!defs) throw new LineError(`Unknown instruction: ${s.mnem}`, s.col);
  let def: InsnDef | undefined;
  let omit = 0;
  for (const d of defs) {
    const opt = d.fields.filter((fl) => fl.optional).length;
    if (vals.length === d.fields.length) {
      def = d;
      omit = 0;
      break;
    }
    if (opt && vals.length === d.fields.length - opt) {
      def = d;
      omit = opt;
      break;
    }
  }
  if (!def) {
    const counts = defs.map((d) => d.fields.length).join(" or ");
    throw new LineError(
      `Wrong number of operands for ${s.mnem}: ${vals.length} (expected ${counts})`,
      s.col,
    );
  }
  let w = def.op;
  let vi = 0;
  const got: number[] = [];
  for (const fl of def.fields) {
    if (fl.optional && omit) {
      got.push(0);
      continue;
    }
    const ov = vals[vi++];
    const r = encodeField(fl, ov, pc);
    got.push(r.value);
    w |= r.bits;
  }
  // Branch hint on B-form: y bit from the displacement sign (pre-POWER4 convention).
  if (def.hint && (def.op >>> 26) === 16) {
    const disp = (w << 16) >> 16 & ~3;
    const y = def.hint === "+" ? disp >= 0 : disp < 0;
    if (y) w |= Y_BIT;
  }
  if (def.fields[0]?.kind === "u" && def.fields[0].shift === 21 && def.fields[1]?.kind === "crb") {
    // bc, bclr, bcctr and their forms: BO must be a valid encoding; bcctr must not decrement CTR
    const bo = (w >>> 21) & 0x1f;
    if (!validBo(bo) || ((def.op >>> 1) & 0x3ff) === 528 && (def.op >>> 26) === 19 && !(bo & 4)) {
      throw new LineError(`Invalid conditional option: ${bo}`, s.ops[0]?.col ?? s.col);
    }
  }
  if (def.name === "mftb" && def.fields.length === 2) {
    const tbr = got[1];
    if (tbr !== 268 && tbr !== 269) {
      throw new LineError(`Invalid time base register: ${tbr}`, s.ops[1].col);
    }
  }
  if (def.update) {
    const rt = got[0];
    const ra = (w >>> 16) & 0x1f;
    if (ra === 0 || (def.update === "load" && ra === rt)) {
      throw new LineError("Invalid register operand when updating", s.ops[1]?.col ?? s.col);
    }
  }
  if (def.lsw && badStringLoad(def.lsw, w)) {
    throw new LineError(
      def.lsw === "i"
        ? "Index register in load range"
        : "Invalid register operand: rD equals rA or rB",
      s.ops[1]?.col ?? s.col,
    );
  }
  if (def.lmw) {
    const rt = (w >>> 21) & 0x1f;
    const ra = (w >>> 16) & 0x1f;
    if (ra >= rt) throw new LineError("Index register in load range", s.ops[1]?.col ?? s.col);
  }
  return w >>> 0;
}

/** MB and ME of a rotate mask, or undefined if the mask is not a contiguous run of ones. */
function maskBounds(mask: number): [number, number] | undefined {
  for (let mb = 0; mb < 32; mb++) {
    for (let me = 0; me < 32; me++) {
      if (rotMask(mb, me) === mask) return [mb, me];
    }
  }
  return undefined;
}

function rotMask(mb: number, me: number): number {
  const a = 0xffffffff >>> mb;
  const b = me === 31 ? 0xffffffff : ~(0xffffffff >>> (me + 1)) >>> 0;
  return (mb <= me ? a & b : a | b) >>> 0;
}

function plainNumber(ov: OpVal, what: string): bigint {
  if (ov.base !== undefined) throw new LineError(`Unexpected '(' in ${what}`, ov.col);
  return ov.v;
}

function encodeField(
  fl: Field,
  ov: OpVal,
  pc: bigint,
): { bits: number; value: number } {
  const range = (v: bigint, lo: bigint, hi: bigint, what: string) => {
    if (v < lo || v > hi) {
      throw new LineError(`${what} out of range: ${v} (expected ${lo}..${hi})`, ov.col);
    }
    return Number(v);
  };
  const place = (v: number) => {
    let bits = (v & ((1 << fl.bits) - 1)) << fl.shift;
    for (const d of fl.dup ?? []) bits |= (v & ((1 << fl.bits) - 1)) << d;
    return { bits: bits | 0, value: v };
  };
  const s16 = (v: bigint, reloc: boolean) => (reloc ? BigInt.asIntN(16, v) : v);
  switch (fl.kind) {
    case "gpr":
    case "gpr0":
      return place(range(plainNumber(ov, "a register"), 0n, 31n, "Register number"));
    case "crf":
    case "crbit":
      return place(range(plainNumber(ov, "a CR field"), 0n, 7n, "CR field"));
    case "crb":
      return place(range(plainNumber(ov, "a CR bit"), 0n, 31n, "CR bit"));
    case "u":
      return place(range(plainNumber(ov, "a number"), 0n, BigInt((1 << fl.bits) - 1), "Operand"));
    case "s16":
      return place(
        range(s16(plainNumber(ov, "an immediate"), ov.reloc), -0x8000n, 0x7fffn, "Operand"),
      );
    case "s16u":
      return place(
        range(s16(plainNumber(ov, "an immediate"), ov.reloc), -0x8000n, 0xffffn, "Operand"),
      );
    case "u16":
      return place(range(plainNumber(ov, "an immediate"), 0n, 0xffffn, "Operand"));
    case "nb":
      return place(range(plainNumber(ov, "a byte count"), 0n, 32n, "Byte count") & 31);
    case "spr": {
      const n = range(plainNumber(ov, "an SPR number"), 0n, 1023n, "SPR number");
      return { bits: sprBits(n), value: n };
    }
    case "mem": {
      if (ov.base === undefined) throw new LineError("Expected a memory operand d(rA)", ov.col);
      const d = range(s16(ov.v, ov.reloc), -0x8000n, 0x7fffn, "Displacement");
      const ra = range(ov.base, 0n, 31n, "Register number");
      return { bits: (d & 0xffff) | (ra << 16), value: d };
    }
    case "bd":
    case "bda":
    case "li":
    case "lia": {
      const v = plainNumber(ov, "a branch target");
      const relative = fl.kind === "bd" || fl.kind === "li";
      const disp = relative && ov.rel !== 0 ? v - pc : v;
      if (disp % 4n !== 0n) {
        throw new LineError(`Branch target not a multiple of 4: ${disp}`, ov.col);
      }
      const lim = fl.kind === "bd" || fl.kind === "bda" ? 0x8000n : 0x2000000n;
      const d = range(disp, -lim, lim - 4n, relative ? "Branch displacement" : "Branch address");
      const mask = fl.kind === "bd" || fl.kind === "bda" ? 0xfffc : 0x3fffffc;
      return { bits: d & mask, value: d };
    }
  }
}
