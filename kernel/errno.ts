/**
 * Linux errno values as the i386, x86_64 and ppc32 system-call ABIs of 2004–2005 return them
 * (negated in the kernel, positive here). Names are what scenarios write in `expect_error:`.
 *
 * @module
 */

/** errno numbers by name (asm-generic/errno-base.h and asm-i386/errno.h, same on x86_64/ppc). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EINVAL: 22,
  ENOSYS: 38,
  EADDRNOTAVAIL: 99,
} as const;

/** An errno name. */
export type Errno = keyof typeof ERRNO;

/**
 * True when `name` is a known errno name.
 *
 * @example
 * ```ts
 * import { isErrno } from "./errno.ts";
 * isErrno("EADDRNOTAVAIL"); // true
 * isErrno("EWHAT"); // false
 * ```
 */
export function isErrno(name: string): name is Errno {
  return Object.hasOwn(ERRNO, name);
}

/**
 * The errno name for a number, or undefined.
 *
 * @example
 * ```ts
 * import { errnoName } from "./errno.ts";
 * errnoName(99); // "EADDRNOTAVAIL"
 * ```
 */
export function errnoName(value: number): Errno | undefined {
  for (const [k, v] of Object.entries(ERRNO)) if (v === value) return k as Errno;
  return undefined;
}

/**
 * A system call failure as the model raises it internally: carries the errno name. The facade
 * turns it into `{ errno: name }`; it never escapes to callers of the facade.
 *
 * @example
 * ```ts
 * import { KernelError } from "./errno.ts";
 * try { throw new KernelError("EINVAL", "flags must be 0"); } catch (e) { (e as KernelError).errno; }
 * ```
 */
export class KernelError extends Error {
  /** The errno name. */
  readonly errno: Errno;
  /** Create the error for `errno` with a reason. */
  constructor(errno: Errno, reason: string) {
    super(`${errno}: ${reason}`);
    this.name = "KernelError";
    this.errno = errno;
  }
}
