/**
 * The relocation stubs assembled by the project's assembler (arch/x86/asm.ts), cached per
 * variant. Tests check the bytes against nasm's output (relocate_kernel_golden.ts).
 *
 * @module
 */

import { assemble } from "./asm.ts";
import { relocateKernel32Source } from "./relocate_kernel_32.ts";
import { relocateKernel64Source } from "./relocate_kernel_64.ts";

/** Which stub. */
export interface StubId {
  /** Architecture. */
  readonly arch: "i386" | "x86_64";
  /** Version variant. */
  readonly variant: "kexec3" | "2.6.13";
}

const cache = new Map<string, Uint8Array>();

/**
 * The machine code of `relocate_new_kernel` (position independent, assembled at origin 0).
 *
 * @example
 * ```ts
 * import { relocateStub } from "./kexec_stub.ts";
 * relocateStub({ arch: "i386", variant: "2.6.13" })[0]; // 0x8b (mov ebx, [esp+4])
 * ```
 */
export function relocateStub(id: StubId): Uint8Array {
  const key = `${id.arch}/${id.variant}`;
  let bytes = cache.get(key);
  if (bytes === undefined) {
    const src = id.arch === "i386"
      ? relocateKernel32Source(id.variant)
      : relocateKernel64Source(id.variant);
    bytes = assemble(src, {
      bits: id.arch === "i386" ? 32 : 64,
      org: 0,
      file: `relocate_kernel_${id.arch === "i386" ? 32 : 64}.ts`,
    }).bytes;
    cache.set(key, bytes);
  }
  return bytes;
}
