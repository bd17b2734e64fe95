/**
 * The x86_64 relocation stub (`relocate_new_kernel`) as nasm-syntax source, written from the
 * behavioural specification in reference/kexec-kernel.md §5.4 (not from the Linux source).
 * `machine_kexec` calls it at its physical address with the SysV arguments
 * RDI = list, RSI = control code page, RDX = start address, RCX = identity page table (PML4).
 *
 * Variants: `kexec3` receives the first indirection page's address and reads its first slot;
 * `2.6.13` receives the head entry and tests it first. Both reproduce the original's register
 * clearing quirk: the instruction meant to clear R10 XORs R10 into the freshly cleared R9, so at
 * the new kernel's entry R9 = R10 = the R10 value the stub was called with.
 *
 * @module
 */

/** Stub variant (the list argument differs). */
export type RelocateVariant64 = "kexec3" | "2.6.13";

function source(variant: RelocateVariant64): string {
  const start = variant === "kexec3"
    ? [
      "    mov rbx, rdi             ; address of indirection page 0",
      "    xor rdi, rdi",
      "    xor rsi, rsi",
      "next_entry:",
      "    mov rcx, [rbx]",
      "    add rbx, 8",
    ]
    : [
      "    mov rcx, rdi             ; the head entry is the first one tested",
      "    xor rdi, rdi",
      "    xor rsi, rsi",
      "    jmp test_entry",
      "next_entry:",
      "    mov rcx, [rbx]",
      "    add rbx, 8",
    ];
  return [
    `; relocate_new_kernel, x86_64, ${variant} variant`,
    "bits 64",
    "relocate_new_kernel:",
    "    ; RFLAGS <- 0x2",
    "    push qword 0",
    "    popfq",
    "    ; private stack at the top of the code page, start address on it",
    "    lea rsp, [rsi+4096]",
    "    push rdx",
    "    ; AM, WP, TS, EM off; PG and PE on (the 32-bit OR clears CR0[63:32])",
    "    mov rax, cr0",
    "    and rax, ~((1 << 18) | (1 << 16) | (1 << 3) | (1 << 2))",
    "    or eax, (1 << 31) | (1 << 0)",
    "    mov cr0, rax",
    "    ; CR4 <- PAE only",
    "    mov rax, 0x20",
    "    mov cr4, rax",
    "    jmp flush_prefetch",
    "flush_prefetch:",
    "    ; switch to the identity page table (full TLB flush, PGE is off now)",
    "    mov cr3, rcx",
    ...start,
    "test_entry:",
    "    test rcx, 0x1            ; IND_DESTINATION",
    "    jz not_destination",
    "    mov rdi, rcx",
    "    and rdi, -4096",
    "    jmp next_entry",
    "not_destination:",
    "    test rcx, 0x2            ; IND_INDIRECTION",
    "    jz not_indirection",
    "    mov rbx, rcx",
    "    and rbx, -4096",
    "    jmp next_entry",
    "not_indirection:",
    "    test rcx, 0x4            ; IND_DONE",
    "    jnz list_done",
    "    test rcx, 0x8            ; IND_SOURCE",
    "    jz next_entry",
    "    mov rsi, rcx",
    "    and rsi, -4096",
    "    mov rcx, 512",
    "    rep movsq",
    "    jmp next_entry",
    "list_done:",
    "    ; reload CR3 to serialise before running the copied code",
    "    mov rax, cr3",
    "    mov cr3, rax",
    "    xor rax, rax",
    "    xor rbx, rbx",
    "    xor rcx, rcx",
    "    xor rdx, rdx",
    "    xor rsi, rsi",
    "    xor rdi, rdi",
    "    xor rbp, rbp",
    "    xor r8, r8",
    "    xor r9, r9",
    "    xor r9, r10              ; the original's quirk: meant to clear R10, copies it to R9",
    "    xor r11, r11",
    "    xor r12, r12",
    "    xor r13, r13",
    "    xor r14, r14",
    "    xor r15, r15",
    "    ret",
    "relocate_new_kernel_end:",
    "",
  ].join("\n");
}

/** nasm source of the kexec3 x86_64 stub. */
export const RELOCATE_KERNEL_64_KEXEC3: string = source("kexec3");
/** nasm source of the 2.6.13 x86_64 stub. */
export const RELOCATE_KERNEL_64_2613: string = source("2.6.13");

/**
 * The source for a variant.
 *
 * @example
 * ```ts
 * import { relocateKernel64Source } from "./relocate_kernel_64.ts";
 * relocateKernel64Source("kexec3").includes("bits 64"); // true
 * ```
 */
export function relocateKernel64Source(variant: RelocateVariant64): string {
  return variant === "kexec3" ? RELOCATE_KERNEL_64_KEXEC3 : RELOCATE_KERNEL_64_2613;
}
