/**
 * The i386 relocation stub (`relocate_new_kernel`) as nasm-syntax source, written from the
 * behavioural specification in reference/kexec-kernel.md §4.4 (not from the Linux source).
 * `machine_kexec` copies the assembled bytes into the control page and calls them as a cdecl
 * function: `stub(list, control_page, start_address, has_pae)`.
 *
 * Two variants: `kexec3` receives the address of indirection page 0 and starts by reading its
 * first slot, with a `cld` before the loop; `2.6.13` receives the head entry itself and tests it
 * first. CR4 is read and cleared only when the caller says the CPU reports PAE, so the stub runs
 * on a 386/486 that has no CR4.
 *
 * Register use: EBX list cursor, EBP control page, EDX start address, ECX argument / entry /
 * count, EDI destination cursor, ESI source, EAX scratch. Registers are cleared with `xor` as the
 * original does, so ZF and PF are set in EFLAGS at the new kernel's entry (0x46).
 *
 * @module
 */

/** Stub variant (the list argument differs). */
export type RelocateVariant32 = "kexec3" | "2.6.13";

function source(variant: RelocateVariant32): string {
  const start = variant === "kexec3"
    ? [
      "    cld",
      "next_entry:",
      "    mov ecx, [ebx]           ; read the entry at the list cursor",
      "    add ebx, 4",
    ]
    : [
      "    mov ecx, ebx             ; the head entry is the first one tested",
      "    jmp test_entry",
      "next_entry:",
      "    mov ecx, [ebx]           ; read the entry at the list cursor",
      "    add ebx, 4",
    ];
  return [
    `; relocate_new_kernel, i386, ${variant} variant`,
    "bits 32",
    "relocate_new_kernel:",
    "    ; cdecl arguments above the return address",
    "    mov ebx, [esp+4]         ; list",
    "    mov ebp, [esp+8]         ; control page (physical, identity mapped)",
    "    mov edx, [esp+12]        ; start address",
    "    mov ecx, [esp+16]        ; has_pae",
    "    ; EFLAGS <- 0x2: interrupts off, direction up, no trap",
    "    push dword 0",
    "    popfd",
    "    ; private stack at the top of the control page, start address on it",
    "    lea esp, [ebp+4096]",
    "    push edx",
    "    ; paging, alignment check, write protect, TS and EM off; protected mode stays on",
    "    mov eax, cr0",
    "    and eax, 0x7ffafff3",
    "    or eax, 0x00000001",
    "    mov cr0, eax",
    "    ; CR4 exists only when the CPU reports PAE: clear it then, leave it alone otherwise",
    "    test ecx, ecx",
    "    jz cr4_done",
    "    mov eax, cr4",
    "    and eax, 0",
    "    mov cr4, eax",
    "cr4_done:",
    "    jmp flush_prefetch",
    "flush_prefetch:",
    "    xor eax, eax",
    "    mov cr3, eax",
    ...start,
    "test_entry:",
    "    test ecx, 0x1            ; IND_DESTINATION",
    "    jz not_destination",
    "    mov edi, ecx",
    "    and edi, 0xfffff000",
    "    jmp next_entry",
    "not_destination:",
    "    test ecx, 0x2            ; IND_INDIRECTION",
    "    jz not_indirection",
    "    mov ebx, ecx",
    "    and ebx, 0xfffff000",
    "    jmp next_entry",
    "not_indirection:",
    "    test ecx, 0x4            ; IND_DONE",
    "    jnz list_done",
    "    test ecx, 0x8            ; IND_SOURCE",
    "    jz next_entry            ; none of the flags: skip the entry",
    "    mov esi, ecx",
    "    and esi, 0xfffff000",
    "    mov ecx, 1024",
    "    rep movsd                ; one page; EDI ends on the next destination page",
    "    jmp next_entry",
    "list_done:",
    "    ; a CR3 write serialises before running the copied code",
    "    xor eax, eax",
    "    mov cr3, eax",
    "    xor ebx, ebx",
    "    xor ecx, ecx",
    "    xor edx, edx",
    "    xor esi, esi",
    "    xor edi, edi",
    "    xor ebp, ebp",
    "    ret                      ; to the start address pushed above",
    "relocate_new_kernel_end:",
    "",
  ].join("\n");
}

/** nasm source of the kexec3 i386 stub. */
export const RELOCATE_KERNEL_32_KEXEC3: string = source("kexec3");
/** nasm source of the 2.6.13 i386 stub. */
export const RELOCATE_KERNEL_32_2613: string = source("2.6.13");

/**
 * The source for a variant.
 *
 * @example
 * ```ts
 * import { relocateKernel32Source } from "./relocate_kernel_32.ts";
 * relocateKernel32Source("2.6.13").includes("bits 32"); // true
 * ```
 */
export function relocateKernel32Source(variant: RelocateVariant32): string {
  return variant === "kexec3" ? RELOCATE_KERNEL_32_KEXEC3 : RELOCATE_KERNEL_32_2613;
}
