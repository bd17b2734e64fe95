/**
 * Typed errors of the image parsers and of the kexec-tools loader model.
 *
 * @module
 */

/**
 * A kernel image (bzImage, ELF, DOL) is malformed: bad magic, truncated, a table outside the
 * file, absurd sizes. `offset` is the byte offset in the image of the offending field; an error
 * about the whole image (no loader recognises it) has none, and offset 0.
 *
 * @example
 * ```ts
 * import { ImageFormatError } from "./errors.ts";
 * const e = new ImageFormatError("Bad boot flag: expected 0xaa55, found 0x0000", { offset: 0x1fe, format: "bzImage" });
 * e.offset; // 0x1fe
 * e.message; // "Bad boot flag: expected 0xaa55, found 0x0000 (bzImage offset 0x1fe)"
 * new ImageFormatError("Cannot determine the file type: no loader recognises these 16 bytes", { format: "unknown" })
 *   .message; // "Cannot determine the file type: no loader recognises these 16 bytes"
 * ```
 */
export class ImageFormatError extends SyntaxError {
  /** Byte offset in the image of the field that is wrong (0 for the whole image). */
  readonly offset: number;
  /** Image format that was being parsed. */
  readonly format: string;
  /**
   * Create the error; with an `offset`, the message gets the format and offset appended
   * (`(bzImage offset 0x1fe)`).
   */
  constructor(message: string, options: { offset?: number; format: string }) {
    super(
      options.offset === undefined
        ? message
        : `${message} (${options.format} offset 0x${options.offset.toString(16)})`,
    );
    this.name = "ImageFormatError";
    this.offset = options.offset ?? 0;
    this.format = options.format;
  }
}

/**
 * The kexec-tools loader model stopped where kexec-tools dies: `locate_hole failed`,
 * `Invalid memory segment`, `Overlapping memory segments`, a rejected option... The message is
 * kexec-tools' own message (without the trailing newline); `stderr` is everything the model
 * printed up to that point, as kexec-tools would on stderr.
 *
 * @example
 * ```ts
 * import { KexecToolsError } from "./errors.ts";
 * const e = new KexecToolsError("locate_hole failed", { stderr: "Could not find a free area of memory of 0x1000 bytes...\n" });
 * e.message; // "locate_hole failed"
 * ```
 */
export class KexecToolsError extends RangeError {
  /** What kexec-tools would have printed on stderr before dying (including this message). */
  readonly stderr: string;
  /** Create the error. */
  constructor(message: string, options: { stderr?: string } = {}) {
    super(message);
    this.name = "KexecToolsError";
    this.stderr = options.stderr ?? "";
  }
}

/**
 * A loader option is unknown, malformed or not allowed in combination (for example `--args-none`
 * on the wrong build, or `--initrd` with `--args-elf`), as kexec-tools' option parser reports it.
 *
 * @example
 * ```ts
 * import { KexecOptionError } from "./errors.ts";
 * new KexecOptionError("Ramdisks not supported with generic elf arguments");
 * ```
 */
export class KexecOptionError extends TypeError {
  /** Key path of the offending option in a scenario's `loader:` mapping, when known. */
  readonly path: string[];
  /** Create the error. */
  constructor(message: string, options: { path?: string[] } = {}) {
    super(message);
    this.name = "KexecOptionError";
    this.path = options.path ?? [];
  }
}
