/**
 * The error type shared by the project's assemblers (x86 nasm syntax, PowerPC GNU as syntax):
 * an assembly error with a 1-based source position, which the runner maps into the YAML file.
 *
 * @module
 */

/**
 * A syntax or assembly error with a 1-based source position.
 *
 * @example
 * ```ts
 * import { AsmError } from "./asm_error.ts";
 * const e = new AsmError("Unknown instruction: movz", { line: 3, column: 1 });
 * e.message; // "Unknown instruction: movz (line 3, column 1)"
 * e.detail; // "Unknown instruction: movz"
 * ```
 */
export class AsmError extends SyntaxError {
  /** 1-based line in the caller's coordinates (source line plus `lineOffset`). */
  readonly line: number;
  /** 1-based column in the caller's coordinates (plus `columnOffset`). */
  readonly column: number;
  /** File name given in the options, if any. */
  readonly file: string | undefined;
  /** The message without the position. */
  readonly detail: string;

  /** Creates an error; with a file the message reads `file:line:col: detail`. */
  constructor(detail: string, pos: { line: number; column: number; file?: string }) {
    const where = `${pos.file ? pos.file + ":" : "line "}${pos.line}${
      pos.file ? ":" : ", column "
    }${pos.column}`;
    super(pos.file ? `${where}: ${detail}` : `${detail} (${where})`);
    this.name = "AsmError";
    this.line = pos.line;
    this.column = pos.column;
    this.file = pos.file;
    this.detail = detail;
  }
}
