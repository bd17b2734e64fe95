/**
 * Lexer and expression parser of the GNU as compatible PowerPC assembler (`asm.ts`). Expressions
 * are kept as trees and evaluated on every pass, because labels may move between passes.
 *
 * @module
 */

export { AsmError } from "../asm_error.ts";

/**
 * Internal error carrying a column inside the current line; the driver adds the line number.
 *
 * @example
 * ```ts
 * throw new LineError("Unknown instruction: lix", 1);
 * ```
 */
export class LineError extends Error {
  /** 1-based column within the line. */
  col: number;
  /** Creates an error at a column of the current line. */
  constructor(message: string, col: number) {
    super(message);
    this.col = col;
  }
}

/** Token kinds. */
export type TokKind = "id" | "num" | "str" | "op" | "local" | "end";

/** One token. */
export interface Tok {
  /** Kind. */
  kind: TokKind;
  /** Source text (identifier, operator; decoded text for strings). */
  text: string;
  /** Value of a number. */
  value?: bigint;
  /** 1-based column of the first character. */
  col: number;
  /** Column just after the token. */
  end: number;
}

const ID_START = /[A-Za-z_.$%]/;
const ID_CHAR = /[A-Za-z0-9_.$]/;
const OPS2 = ["<<", ">>", "==", "!=", "<=", ">=", "&&", "||", "<>"];

function parseNumber(text: string, col: number): bigint {
  const t = text.toLowerCase();
  let m: RegExpMatchArray | null;
  if ((m = t.match(/^0x([0-9a-f]+)$/))) return BigInt("0x" + m[1]);
  if ((m = t.match(/^0b([01]+)$/))) return BigInt("0b" + m[1]);
  if (/^0[0-7]+$/.test(t)) return BigInt("0o" + t.slice(1));
  if (/^[0-9]+$/.test(t)) return BigInt(t);
  throw new LineError(`Invalid number: ${text}`, col);
}

/** Decodes the escapes of a string literal body (`\n`, `\t`, `\\`, `\"`, octal, `\x`). */
function unescape(body: string, col: number): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = body[++i];
    if (n === undefined) throw new LineError("Unterminated escape in string", col);
    const simple: Record<string, string> = {
      n: "\n",
      t: "\t",
      r: "\r",
      b: "\b",
      f: "\f",
      v: "\v",
      "\\": "\\",
      '"': '"',
      "'": "'",
    };
    if (n in simple) out += simple[n];
    else if (/[0-7]/.test(n)) {
      let s = n;
      while (s.length < 3 && /[0-7]/.test(body[i + 1] ?? "")) s += body[++i];
      out += String.fromCharCode(parseInt(s, 8) & 0xff);
    } else if (n === "x" || n === "X") {
      let s = "";
      while (/[0-9a-fA-F]/.test(body[i + 1] ?? "")) s += body[++i];
      if (!s) throw new LineError("Invalid \\x escape in string", col);
      out += String.fromCharCode(parseInt(s.slice(-2), 16));
    } else out += n;
  }
  return out;
}

/**
 * Splits one statement into tokens. Comments are removed by the caller.
 *
 * @example
 * ```ts
 * tokenize("lwzu r0,4(r9)", 1).map((t) => t.text); // ["lwzu", "r0", ",", "4", "(", "r9", ")", ""]
 * ```
 */
export function tokenize(s: string, startCol: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    const col = startCol + i;
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < s.length && /[0-9A-Za-z_]/.test(s[j])) j++;
      const text = s.slice(i, j);
      const lm = text.match(/^([0-9]+)([bf])$/);
      if (lm && !/^0b[01]+$/i.test(text)) {
        toks.push({ kind: "local", text, col, end: startCol + j });
      } else {
        toks.push({ kind: "num", text, value: parseNumber(text, col), col, end: startCol + j });
      }
      i = j;
      continue;
    }
    if (ID_START.test(c) && (c !== "%" || /[A-Za-z]/.test(s[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < s.length && ID_CHAR.test(s[j])) j++;
      const text = s.slice(i, j);
      toks.push({ kind: "id", text, col, end: startCol + j });
      i = j;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      if (j >= s.length) throw new LineError("Unterminated string", col);
      toks.push({
        kind: "str",
        text: unescape(s.slice(i + 1, j), col),
        col,
        end: startCol + j + 1,
      });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      // 'c or 'c' character constant; '\n style escapes too
      let j = i + 1;
      let ch: string;
      if (s[j] === "\\") {
        const m = s.slice(j).match(/^\\([0-7]{1,3}|x[0-9a-fA-F]+|.)/);
        if (!m) throw new LineError("Invalid character constant", col);
        ch = unescape(m[0], col);
        j += m[0].length;
      } else {
        if (j >= s.length) throw new LineError("Invalid character constant", col);
        ch = s[j];
        j++;
      }
      if (s[j] === "'") j++;
      toks.push({
        kind: "num",
        text: s.slice(i, j),
        value: BigInt(ch.charCodeAt(0) & 0xff),
        col,
        end: startCol + j,
      });
      i = j;
      continue;
    }
    const two = s.slice(i, i + 2);
    if (OPS2.includes(two)) {
      toks.push({ kind: "op", text: two, col, end: col + 2 });
      i += 2;
      continue;
    }
    if ("+-*/%&|^~!()<>,:=@".includes(c)) {
      toks.push({ kind: "op", text: c, col, end: col + 1 });
      i++;
      continue;
    }
    throw new LineError(`Unexpected character: ${c}`, col);
  }
  toks.push({ kind: "end", text: "", col: startCol + s.length, end: startCol + s.length });
  return toks;
}

/** Relocation operators. */
export type RelocOp = "l" | "h" | "ha";

/** Expression tree. */
export type Expr =
  | { k: "num"; v: bigint; col: number }
  | { k: "sym"; name: string; col: number }
  | { k: "dot"; col: number }
  | { k: "un"; op: string; a: Expr; col: number }
  | { k: "bin"; op: string; a: Expr; b: Expr; col: number }
  | { k: "reloc"; op: RelocOp; a: Expr; col: number };

/**
 * Token cursor.
 *
 * @example
 * ```ts
 * const c = new Cursor(tokenize("4(r3)", 1));
 * c.next().text; // "4"
 * c.isOp("("); // true
 * ```
 */
export class Cursor {
  /** Tokens (ending with an `end` token). */
  readonly toks: Tok[];
  /** Current index. */
  i = 0;
  /** Creates a cursor. */
  constructor(toks: Tok[]) {
    this.toks = toks;
  }
  /** Current token. */
  get peek(): Tok {
    return this.toks[Math.min(this.i, this.toks.length - 1)];
  }
  /** Token after the current one. */
  get peek2(): Tok {
    return this.toks[Math.min(this.i + 1, this.toks.length - 1)];
  }
  /** Consumes the current token. */
  next(): Tok {
    const t = this.peek;
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  /** True if the current token is the operator `op`. */
  isOp(op: string): boolean {
    return this.peek.kind === "op" && this.peek.text === op;
  }
  /** Consumes operator `op` or throws. */
  expectOp(op: string): void {
    if (!this.isOp(op)) {
      throw new LineError(`Expected '${op}' but found ${describe(this.peek)}`, this.peek.col);
    }
    this.next();
  }
}

/**
 * Describes a token for error messages.
 *
 * @example
 * ```ts
 * describe({ kind: "end", text: "", col: 1, end: 1 }); // "end of line"
 * ```
 */
export function describe(t: Tok): string {
  switch (t.kind) {
    case "end":
      return "end of line";
    case "str":
      return "a string";
    default:
      return `'${t.text}'`;
  }
}

/** Resolves a local label reference (`1b`, `1f`) to a symbol name. */
export type LocalResolver = (text: string, col: number) => string;

const BIN_PREC: Record<string, number> = {
  "*": 5,
  "/": 5,
  "%": 5,
  "<<": 5,
  ">>": 5,
  "|": 4,
  "&": 4,
  "^": 4,
  "!": 4,
  "+": 3,
  "-": 3,
  "==": 2,
  "!=": 2,
  "<>": 2,
  "<": 2,
  ">": 2,
  "<=": 2,
  ">=": 2,
  "&&": 1,
  "||": 0,
};

function parsePrimary(cur: Cursor, local: LocalResolver): Expr {
  const t = cur.next();
  switch (t.kind) {
    case "num":
      return { k: "num", v: t.value!, col: t.col };
    case "local":
      return { k: "sym", name: local(t.text, t.col), col: t.col };
    case "id":
      if (t.text === ".") return { k: "dot", col: t.col };
      return { k: "sym", name: t.text, col: t.col };
    case "op":
      if (t.text === "(") {
        const e = parseBinary(cur, local, 0);
        cur.expectOp(")");
        return e;
      }
      if (t.text === "-" || t.text === "~" || t.text === "!" || t.text === "+") {
        return { k: "un", op: t.text, a: parsePrimary(cur, local), col: t.col };
      }
  }
  throw new LineError(`Expected an expression but found ${describe(t)}`, t.col);
}

function parseBinary(cur: Cursor, local: LocalResolver, minPrec: number): Expr {
  let a = parsePrimary(cur, local);
  for (;;) {
    const t = cur.peek;
    if (t.kind !== "op") break;
    const p = BIN_PREC[t.text];
    if (p === undefined || p < minPrec) break;
    cur.next();
    const b = parseBinary(cur, local, p + 1);
    a = { k: "bin", op: t.text, a, b, col: t.col };
  }
  return a;
}

/**
 * Parses an expression with an optional `@l`/`@h`/`@ha` operator applied to everything before
 * it (as GNU as does), followed by an optional `+`/`-` addend.
 *
 * @example
 * ```ts
 * parseExpr(new Cursor(tokenize("x@ha", 1)), (t) => t).k; // "reloc"
 * ```
 */
export function parseExpr(cur: Cursor, local: LocalResolver): Expr {
  let e = parseBinary(cur, local, 0);
  if (cur.isOp("@")) {
    const at = cur.next();
    const id = cur.next();
    const op = id.kind === "id" ? id.text.toLowerCase() : "";
    if (op !== "l" && op !== "h" && op !== "ha") {
      throw new LineError(`Unknown relocation operator: @${id.text}`, at.col);
    }
    e = { k: "reloc", op, a: e, col: at.col };
    if (cur.isOp("+") || cur.isOp("-")) {
      const t = cur.next();
      const b = parseBinary(cur, local, 0);
      e = { k: "bin", op: t.text, a: e, b, col: t.col };
    }
  }
  return e;
}
