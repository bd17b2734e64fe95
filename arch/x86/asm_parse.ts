/**
 * Lexer, register table, expression and operand parser for the nasm-compatible x86 assembler.
 * The parser turns one source line into a {@linkcode Statement} whose expressions are evaluated
 * again on every assembler pass (labels may move between passes).
 *
 * @module
 */

export { AsmError } from "../asm_error.ts";

/**
 * Internal error carrying a column inside the current line; the driver turns it into an
 * {@linkcode AsmError} with the line number.
 *
 * @example
 * ```ts
 * throw new LineError("Unknown instruction: movz", 1);
 * ```
 */
export class LineError extends Error {
  /** 1-based column within the line (0 = start of statement). */
  col: number;
  /** Creates an error at a column of the current line. */
  constructor(message: string, col: number) {
    super(message);
    this.col = col;
  }
}

/** Register classes. */
export type RegClass = "gpr" | "seg" | "cr" | "dr";

/** A register operand description. */
export interface Reg {
  /** Lower-case name (`eax`, `r8b`, `cr0`). */
  readonly name: string;
  /** Register class. */
  readonly cls: RegClass;
  /** Size in bits (8/16/32/64; 16 for segment registers, 0 for control/debug registers). */
  readonly size: number;
  /** Register number 0..15. */
  readonly num: number;
  /** spl/bpl/sil/dil/r8b..: needs a REX prefix. */
  readonly rex8: boolean;
  /** ah/ch/dh/bh: cannot be used with a REX prefix. */
  readonly high8: boolean;
}

const REGS = new Map<string, Reg>();
function addReg(name: string, cls: RegClass, size: number, num: number, extra: Partial<Reg> = {}) {
  REGS.set(name, { name, cls, size, num, rex8: false, high8: false, ...extra });
}
{
  const b8 = ["al", "cl", "dl", "bl"];
  b8.forEach((n, i) => addReg(n, "gpr", 8, i));
  ["ah", "ch", "dh", "bh"].forEach((n, i) => addReg(n, "gpr", 8, i + 4, { high8: true }));
  ["spl", "bpl", "sil", "dil"].forEach((n, i) => addReg(n, "gpr", 8, i + 4, { rex8: true }));
  const w = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
  w.forEach((n, i) => {
    addReg(n, "gpr", 16, i);
    addReg("e" + n, "gpr", 32, i);
    addReg("r" + n, "gpr", 64, i);
  });
  for (let i = 8; i < 16; i++) {
    addReg(`r${i}`, "gpr", 64, i);
    addReg(`r${i}d`, "gpr", 32, i);
    addReg(`r${i}w`, "gpr", 16, i);
    addReg(`r${i}b`, "gpr", 8, i, { rex8: true });
    addReg(`r${i}l`, "gpr", 8, i, { rex8: true });
  }
  ["es", "cs", "ss", "ds", "fs", "gs"].forEach((n, i) => addReg(n, "seg", 16, i));
  for (let i = 0; i < 16; i++) {
    addReg(`cr${i}`, "cr", 0, i);
    addReg(`dr${i}`, "dr", 0, i);
  }
}

/**
 * Looks up a register by (case-insensitive) name.
 *
 * @example
 * ```ts
 * lookupReg("EAX")?.num; // 0
 * ```
 */
export function lookupReg(name: string): Reg | undefined {
  return REGS.get(name.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Lexer

/** Token kinds. */
export type TokKind = "id" | "num" | "str" | "op" | "end";

/** A token with its 1-based column. */
export interface Tok {
  /** Token kind. */
  kind: TokKind;
  /** Source text. */
  text: string;
  /** 1-based column. */
  col: number;
  /** Numeric value for `num`. */
  value?: bigint;
  /** Decoded string (bytes as char codes) for `str`. */
  str?: string;
}

const ID_START = /[A-Za-z_.?@$]/;
const ID_CHAR = /[A-Za-z0-9_.?@$#~]/;

function parseNumber(text: string, col: number): bigint {
  const t = text.toLowerCase().replace(/_/g, "");
  const bad = () => new LineError(`Invalid number: ${text}`, col);
  const conv = (digits: string, radix: number): bigint => {
    if (digits === "") throw bad();
    const valid = "0123456789abcdef".slice(0, radix);
    let v = 0n;
    for (const ch of digits) {
      const d = valid.indexOf(ch);
      if (d < 0) throw bad();
      v = v * BigInt(radix) + BigInt(d);
    }
    return v;
  };
  if (t.startsWith("0x") || t.startsWith("0h")) return conv(t.slice(2), 16);
  if (t.startsWith("$")) return conv(t.slice(1), 16);
  if (t.endsWith("h")) return conv(t.slice(0, -1), 16);
  if (t.startsWith("0b") || t.startsWith("0y")) return conv(t.slice(2), 2);
  if (t.startsWith("0o") || t.startsWith("0q")) return conv(t.slice(2), 8);
  if (t.startsWith("0d") || t.startsWith("0t")) return conv(t.slice(2), 10);
  const last = t[t.length - 1];
  const body = t.slice(0, -1);
  if (last === "h") return conv(body, 16);
  if (last === "b" || last === "y") return conv(body, 2);
  if (last === "q" || last === "o") return conv(body, 8);
  if (last === "d" || last === "t") return conv(body, 10);
  return conv(t, 10);
}

/**
 * Splits one line (without its comment) into tokens.
 *
 * @example
 * ```ts
 * tokenize("mov eax, 10h").map((t) => t.text); // ["mov", "eax", ",", "10h", ""]
 * ```
 */
export function tokenize(line: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    const col = i + 1;
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (c === ";") break;
    if (/[0-9]/.test(c) || (c === "$" && /[0-9]/.test(line[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_]/.test(line[j])) j++;
      const text = line.slice(i, j);
      if (line[j] === "." && /[0-9]/.test(line[j + 1] ?? "")) {
        const m = /^[0-9.eE+-]*/.exec(line.slice(j))![0];
        throw new LineError(`Floating-point constants are not supported: ${text}${m}`, col);
      }
      toks.push({ kind: "num", text, col, value: parseNumber(text, col) });
      i = j;
      continue;
    }
    if (ID_START.test(c)) {
      let j = i + 1;
      while (j < n && ID_CHAR.test(line[j])) j++;
      toks.push({ kind: "id", text: line.slice(i, j), col });
      i = j;
      continue;
    }
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      let s = "";
      while (j < n && line[j] !== c) {
        if (c === "`" && line[j] === "\\" && j + 1 < n) {
          const e = line[j + 1];
          const map: Record<string, string> = {
            n: "\n",
            t: "\t",
            r: "\r",
            "0": "\0",
            "\\": "\\",
            "'": "'",
            '"': '"',
            "`": "`",
            a: "\x07",
            b: "\b",
            e: "\x1b",
            f: "\f",
            v: "\v",
          };
          if (e === "x" && /[0-9a-fA-F]/.test(line[j + 2] ?? "")) {
            let k = j + 2;
            let h = "";
            while (k < n && h.length < 2 && /[0-9a-fA-F]/.test(line[k])) h += line[k++];
            s += String.fromCharCode(parseInt(h, 16));
            j = k;
            continue;
          }
          s += map[e] ?? e;
          j += 2;
          continue;
        }
        s += line[j++];
      }
      if (j >= n) throw new LineError("Unterminated string", col);
      const enc = new TextEncoder().encode(s);
      let bytes = "";
      for (const b of enc) bytes += String.fromCharCode(b);
      toks.push({ kind: "str", text: line.slice(i, j + 1), col, str: bytes });
      i = j + 1;
      continue;
    }
    const two = line.slice(i, i + 2);
    if (["<<", ">>", "//", "%%", "==", "!=", "<=", ">=", "&&", "||", "<>", "^^"].includes(two)) {
      toks.push({ kind: "op", text: two, col });
      i += 2;
      continue;
    }
    if ("+-*/%&|^~!()[],:<>=".includes(c)) {
      toks.push({ kind: "op", text: c, col });
      i++;
      continue;
    }
    throw new LineError(`Unexpected character: ${c}`, col);
  }
  toks.push({ kind: "end", text: "", col: n + 1 });
  return toks;
}

// ---------------------------------------------------------------------------------------------
// Expressions

/** Expression tree. */
export type Expr =
  | { k: "num"; v: bigint; col: number }
  | { k: "sym"; name: string; col: number }
  | { k: "here"; col: number }
  | { k: "base"; col: number }
  | { k: "reg"; reg: Reg; col: number }
  | { k: "un"; op: string; a: Expr; col: number }
  | { k: "bin"; op: string; a: Expr; b: Expr; col: number };

/** Size keywords and their sizes in bits. */
export const SIZE_KW: Record<string, number> = {
  byte: 8,
  word: 16,
  dword: 32,
  qword: 64,
  tword: 80,
  oword: 128,
};

/**
 * A token stream cursor.
 *
 * @example
 * ```ts
 * const c = new Cursor(tokenize("eax, 1"));
 * c.next().text; // "eax"
 * c.isOp(","); // true
 * ```
 */
export class Cursor {
  /** The tokens (the last is `end`). */
  toks: Tok[];
  /** Index of the current token. */
  i = 0;
  /** Creates a cursor over tokens. */
  constructor(toks: Tok[]) {
    this.toks = toks;
  }
  /** Current token. */
  get peek(): Tok {
    return this.toks[this.i];
  }
  /** Next token after the current one. */
  get peek2(): Tok {
    return this.toks[Math.min(this.i + 1, this.toks.length - 1)];
  }
  /** Consumes the current token. */
  next(): Tok {
    const t = this.toks[this.i];
    if (t.kind !== "end") this.i++;
    return t;
  }
  /** Whether the current token is operator `op`. */
  isOp(op: string): boolean {
    return this.peek.kind === "op" && this.peek.text === op;
  }
  /** Whether the current token is identifier `id` (case-insensitive). */
  isId(id: string): boolean {
    return this.peek.kind === "id" && this.peek.text.toLowerCase() === id;
  }
  /** Consumes operator `op` or throws. */
  expectOp(op: string): void {
    if (!this.isOp(op)) {
      throw new LineError(
        `Expected '${op}' but found ${describe(this.peek)}`,
        this.peek.col,
      );
    }
    this.next();
  }
}

/**
 * Human description of a token for messages.
 *
 * @example
 * ```ts
 * describe(tokenize("")[0]); // "end of line"
 * ```
 */
export function describe(t: Tok): string {
  return t.kind === "end" ? "end of line" : `'${t.text}'`;
}

const BIN_LEVELS: string[][] = [
  ["||"],
  ["^^"],
  ["&&"],
  ["=", "==", "!=", "<>", "<", ">", "<=", ">="],
  ["|"],
  ["^"],
  ["&"],
  ["<<", ">>"],
  ["+", "-"],
  ["*", "/", "//", "%", "%%"],
];

/**
 * Parses an expression (nasm precedence) from the cursor.
 *
 * @example
 * ```ts
 * const e = parseExpr(new Cursor(tokenize("1+2*3")), { allowRegs: false });
 * e.k; // "bin"
 * ```
 */
export function parseExpr(cur: Cursor, opts: { allowRegs: boolean }): Expr {
  return parseLevel(cur, 0, opts);
}

function parseLevel(cur: Cursor, level: number, opts: { allowRegs: boolean }): Expr {
  if (level >= BIN_LEVELS.length) return parseUnary(cur, opts);
  let a = parseLevel(cur, level + 1, opts);
  while (cur.peek.kind === "op" && BIN_LEVELS[level].includes(cur.peek.text)) {
    const t = cur.next();
    const b = parseLevel(cur, level + 1, opts);
    a = { k: "bin", op: t.text, a, b, col: t.col };
  }
  return a;
}

function parseUnary(cur: Cursor, opts: { allowRegs: boolean }): Expr {
  const t = cur.peek;
  if (t.kind === "op" && (t.text === "-" || t.text === "+" || t.text === "~" || t.text === "!")) {
    cur.next();
    return { k: "un", op: t.text, a: parseUnary(cur, opts), col: t.col };
  }
  return parsePrimary(cur, opts);
}

function parsePrimary(cur: Cursor, opts: { allowRegs: boolean }): Expr {
  const t = cur.next();
  if (t.kind === "num") return { k: "num", v: t.value!, col: t.col };
  if (t.kind === "str") {
    const s = t.str!;
    if (s.length > 8) throw new LineError(`Character constant too long: ${t.text}`, t.col);
    let v = 0n;
    for (let i = s.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(s.charCodeAt(i));
    return { k: "num", v, col: t.col };
  }
  if (t.kind === "op" && t.text === "(") {
    const e = parseExpr(cur, opts);
    cur.expectOp(")");
    return e;
  }
  if (t.kind === "id") {
    if (t.text === "$") return { k: "here", col: t.col };
    if (t.text === "$$") return { k: "base", col: t.col };
    const reg = lookupReg(t.text);
    if (reg) {
      if (!opts.allowRegs) {
        throw new LineError(`Register not allowed in expression: ${t.text}`, t.col);
      }
      return { k: "reg", reg, col: t.col };
    }
    const lower = t.text.toLowerCase();
    if (lower in SIZE_KW || lower === "short" || lower === "near" || lower === "far") {
      throw new LineError(`Unexpected keyword in expression: ${t.text}`, t.col);
    }
    const name = t.text.startsWith("$") ? t.text.slice(1) : t.text;
    return { k: "sym", name, col: t.col };
  }
  throw new LineError(`Expected an expression but found ${describe(t)}`, t.col);
}

// ---------------------------------------------------------------------------------------------
// Operands

/** A parsed (unevaluated) operand. */
export type OperandAst =
  | { k: "reg"; reg: Reg; col: number; size?: number }
  | {
    k: "mem";
    col: number;
    /** Size keyword before the bracket, in bits. */
    size?: number;
    /** Segment override register. */
    seg?: Reg;
    expr: Expr;
    rel?: boolean;
    abs?: boolean;
    /** Displacement size keyword inside the brackets. */
    dispSize?: number;
    nosplit?: boolean;
    far?: boolean;
  }
  | {
    k: "imm";
    col: number;
    expr: Expr;
    size?: number;
    strict?: boolean;
    short?: boolean;
    near?: boolean;
    far?: boolean;
  }
  | { k: "far"; col: number; seg: Expr; off: Expr; size?: number; far?: boolean }
  | { k: "str"; col: number; str: string };

/**
 * Parses one operand.
 *
 * @example
 * ```ts
 * parseOperand(new Cursor(tokenize("dword [eax+4]"))).k; // "mem"
 * ```
 */
export function parseOperand(cur: Cursor): OperandAst {
  const col = cur.peek.col;
  let size: number | undefined;
  let strict = false, short = false, near = false, far = false;
  for (;;) {
    const t = cur.peek;
    if (t.kind !== "id") break;
    const lower = t.text.toLowerCase();
    if (lower in SIZE_KW) size = SIZE_KW[lower];
    else if (lower === "strict") strict = true;
    else if (lower === "short") short = true;
    else if (lower === "near") near = true;
    else if (lower === "far") far = true;
    else break;
    cur.next();
  }
  const t = cur.peek;
  if (t.kind === "op" && t.text === "[") {
    cur.next();
    let seg: Reg | undefined;
    let rel = false, abs = false, nosplit = false;
    let dispSize: number | undefined;
    for (;;) {
      const u = cur.peek;
      if (u.kind !== "id") break;
      const lower = u.text.toLowerCase();
      if (lower === "rel") rel = true;
      else if (lower === "abs") abs = true;
      else if (lower === "nosplit") nosplit = true;
      else if (lower in SIZE_KW) dispSize = SIZE_KW[lower];
      else {
        const r = lookupReg(lower);
        if (r && r.cls === "seg" && cur.peek2.kind === "op" && cur.peek2.text === ":") {
          seg = r;
          cur.next();
          cur.next();
          continue;
        }
        break;
      }
      cur.next();
    }
    const expr = parseExpr(cur, { allowRegs: true });
    cur.expectOp("]");
    return { k: "mem", col, size, seg, expr, rel, abs, dispSize, nosplit, far };
  }
  if (t.kind === "id") {
    const r = lookupReg(t.text);
    if (r && !(cur.peek2.kind === "op" && cur.peek2.text === ":" && r.cls === "seg")) {
      cur.next();
      return { k: "reg", reg: r, col, size };
    }
    if (r && r.cls === "seg") {
      throw new LineError(`Segment override must be inside the brackets: ${t.text}:`, t.col);
    }
  }
  if (t.kind === "str" && (cur.peek2.kind === "end" || cur.peek2.text === ",")) {
    cur.next();
    return { k: "str", col, str: t.str! };
  }
  const expr = parseExpr(cur, { allowRegs: false });
  if (cur.isOp(":")) {
    cur.next();
    const off = parseExpr(cur, { allowRegs: false });
    return { k: "far", col, seg: expr, off, size, far };
  }
  return { k: "imm", col, expr, size, strict, short, near, far };
}

/**
 * Parses a comma-separated operand list up to the end of the line.
 *
 * @example
 * ```ts
 * parseOperands(new Cursor(tokenize("eax, 1"))).length; // 2
 * ```
 */
export function parseOperands(cur: Cursor): OperandAst[] {
  const ops: OperandAst[] = [];
  if (cur.peek.kind === "end") return ops;
  for (;;) {
    ops.push(parseOperand(cur));
    if (cur.isOp(",")) {
      cur.next();
      continue;
    }
    if ((cur.peek.kind as TokKind) !== "end") {
      throw new LineError(`Unexpected ${describe(cur.peek)} after operand`, cur.peek.col);
    }
    return ops;
  }
}
