/**
 * Our own small x86 purgatory, as nasm-syntax assembly source text (assembled by the project's
 * assembler `arch/x86/asm.ts`, or by nasm for the committed prebuilt bytes). It is what
 * kexec-tools' purgatory does, minus the console and crash backup:
 *
 * 1. load its own GDT (0x10 flat code, 0x18 flat data) and flat segments, switch to its own stack;
 * 2. unless `skip_checks` is set, verify a checksum over the loaded segments (see below) and on a
 *    mismatch print `purgatory: checksum mismatch` on the debug port 0xE9 and halt forever;
 * 3. load the registers the loader chose (`entry32_regs` / `entry64_regs`, kexec-tools' layout)
 *    and jump to the kernel: 32-bit entry with CS=0x10, DS=ES=SS=FS=GS=0x18 (boot protocol), or
 *    64-bit entry through `rip`; the 64-bit purgatory reaches a 32-bit kernel through its
 *    `entry32` routine (compatibility mode, paging off, EFER.LME off, CR4 = 0, as kexec-tools'
 *    entry64-32.S), and the 32-bit purgatory reaches 16-bit setup code through `entry16`
 *    (`--real-mode`).
 *
 * Checksum decision: kexec-tools hashes the segments with SHA-256 in purgatory. Ours uses a
 * rotate-add checksum (`sum = rol(sum, 5) + byte` over every byte of each region, 32 bits) that
 * needs only 386 integer instructions from the interpreter's subset and costs ~8 instructions per
 * byte; the region table keeps kexec-tools' layout (16 × {u64 start, u64 len}) and, as in
 * kexec-tools, the purgatory segment itself is never included. {@linkcode purgatoryChecksum}
 * computes the same value in TypeScript.
 *
 * The `clearCr4` switch assembles the kexec-tools 1.95-era behaviour: an unconditional
 * `mov cr4, eax` (eax = 0) first thing in the 32-bit purgatory, which raises #UD on an 80386.
 *
 * The code is position-independent (call/pop in 32-bit code, RIP-relative in 64-bit code). It
 * starts with `jmp start` and a table ("KXPG") of the offsets of the variables the loader
 * patches, so the loader needs no symbol output from the assembler.
 *
 * @module
 */

import { PREBUILT_PURGATORY } from "./purgatory_prebuilt.ts";

/** Variables of the purgatory that the loader reads or patches, in table order. */
export const PURGATORY_SYMBOLS = [
  "entry32_regs", // 9 × u32: eax ebx ecx edx esi edi esp ebp eip
  "entry64_regs", // 17 × u64: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip
  "entry16_regs", // u16 ds es ss fs gs cs ip, u32 esp (real mode)
  "entry32", // code: 64-bit → 32-bit kernel entry (64-bit purgatory only; else 0)
  "entry16", // code: 32-bit → real-mode entry (32-bit purgatory only; else 0)
  "stack_end",
  "stack_arg32_1",
  "stack_arg32_2",
  "skip_checks", // u32
  "checksum_count", // u32
  "checksum_value", // u32
  "checksum_regions", // 16 × {u64 start, u64 len}
  "cmdline_end", // u64
] as const;

/** Name of a patched purgatory variable. */
export type PurgatorySymbol = typeof PURGATORY_SYMBOLS[number];

/** Number of checksum regions in the table (as kexec-tools' `sha256_regions`). */
export const CHECKSUM_REGIONS = 16;

/** A purgatory as the loader sees it: bytes, size, alignment, entry offset and symbol offsets. */
export interface PurgatoryBlob {
  /** Name for debug output. */
  name: string;
  /** Mode it is entered in: 32 (i386 kexec) or 64 (x86_64 kexec). */
  bits: 32 | 64;
  /** Contents (bufsz = length); copied by the loader before patching. */
  bytes: Uint8Array;
  /** Memory size (>= bytes.length). */
  memsz: bigint;
  /** Alignment. */
  align: bigint;
  /** Offset of `purgatory_start` (the kexec entry point). */
  entryOffset: number;
  /** Offsets of the variables; an opaque blob (a size model of another build's purgatory) has none. */
  symbols: Partial<Record<PurgatorySymbol, number>>;
}

/** Options of {@linkcode purgatorySource}. */
export interface PurgatorySourceOptions {
  /** 32: entered in 32-bit protected mode (i386 kexec); 64: entered in long mode (x86_64 kexec). */
  bits: 32 | 64;
  /** Reproduce the kexec-tools 1.95-era purgatory that cleared CR4 unconditionally (32-bit only). */
  clearCr4?: boolean;
}

const GDT_ENTRIES = `
align 8
gdt32:
    dq 0
    dq 0x00cf9a000000ffff            ; 0x08 flat 32-bit code (unused)
    dq 0x00cf9a000000ffff            ; 0x10 __BOOT_CS: flat 32-bit code
    dq 0x00cf92000000ffff            ; 0x18 __BOOT_DS: flat data
gdt32_end:
align 8
gdt16:
    dq 0
    dq 0x00009a000000ffff            ; 0x08 16-bit code, base patched at run time
    dq 0x000092000000ffff            ; 0x10 16-bit data, base 0, limit 64 KiB
gdt16_end:
align 8
gdt64:
    dq 0
    dq 0x00cf9a000000ffff            ; 0x08 flat 32-bit code (compatibility mode)
    dq 0x00af9a000000ffff            ; 0x10 64-bit code
    dq 0x00cf92000000ffff            ; 0x18 flat data
gdt64_end:
`;

/** The checksum loop, with pointer registers of the given width. */
function checksumLoop(bits: 32 | 64, ref: (label: string) => string): string {
  const p = bits === 64 ? "r" : "e";
  return `
verify:                              ; out: ZF set when the checksum matches
    xor eax, eax
    lea ${p}bx, ${ref("checksum_regions")}
    mov ecx, ${ref("checksum_count")}
.region:
    test ecx, ecx
    jz .done
    mov ${p}si, [${p}bx]
    mov ${p}dx, [${p}bx + 8]
.byte:
    test ${p}dx, ${p}dx
    jz .next
    mov edi, eax
    shl eax, 5
    shr edi, 27
    or eax, edi
    movzx edi, byte [${p}si]
    add eax, edi
    add ${p}si, 1
    sub ${p}dx, 1
    jmp .byte
.next:
    add ${p}bx, 16
    sub ecx, 1
    jmp .region
.done:
    cmp eax, ${ref("checksum_value")}
    ret

mismatch:
    mov dx, 0xe9
    lea ${p}si, ${ref("mismatch_msg")}
.putc:
    mov al, [${p}si]
    test al, al
    jz .stop
    out dx, al
    add ${p}si, 1
    jmp .putc
.stop:
    cli
    hlt
    jmp .stop
`;
}

/** 32-bit exit: flat GDT, then the entry32_regs and a far jump to 0x10:eip (ebp = base). */
const EXIT32 = `
exit32:                              ; 32-bit protected mode, paging off, ebp = purgatory base
    lea eax, [ebp + gdt32]
    mov [ebp + gdt32_ptr + 2], eax
    lgdt [ebp + gdt32_ptr]
    push dword 0x10
    lea eax, [ebp + .cs]
    push eax
    retf
.cs:
    mov eax, 0x18
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov fs, eax
    mov gs, eax
    mov eax, [ebp + entry32_regs + 32]
    mov [ebp + final32 + 1], eax     ; patch the far jump's offset
    lea esi, [ebp + entry32_regs]
    mov eax, [esi]
    mov ebx, [esi + 4]
    mov ecx, [esi + 8]
    mov edx, [esi + 12]
    mov edi, [esi + 20]
    mov esp, [esi + 24]
    mov ebp, [esi + 28]
    mov esi, [esi + 16]
final32:
    jmp dword 0x10:0
`;

/** 32-bit → real mode (the --real-mode path); ebp = base, must run below 1 MiB. */
const ENTRY16 = `
entry16:                             ; 32-bit protected mode, paging off
    call .here
.here:
    pop ebp
    sub ebp, .here - purgatory_start
    mov eax, ebp                     ; 16-bit code segment base = purgatory base
    mov [ebp + gdt16 + 8 + 2], ax
    shr eax, 16
    mov [ebp + gdt16 + 8 + 4], al
    lea eax, [ebp + gdt16]
    mov [ebp + gdt16_ptr + 2], eax
    lgdt [ebp + gdt16_ptr]
    mov eax, ebp                     ; real-mode code segment = base >> 4
    shr eax, 4
    mov [ebp + real_jump + 3], ax
    push dword 0x08
    lea eax, [.pm16 - purgatory_start]
    push eax
    retf
bits 16
.pm16:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    o32 lidt [cs:idt16_ptr]
    mov eax, cr0
    and eax, 0x7ffffffe              ; PE and PG off
    mov cr0, eax
real_jump:
    jmp 0:.rm - purgatory_start      ; segment patched above
.rm:
    mov ax, cs
    mov ds, ax
    mov ebx, [entry16_regs + 14]      ; esp
    mov ax, [entry16_regs + 12]       ; ip
    mov [final16 + 1], ax
    mov ax, [entry16_regs + 10]       ; cs
    mov [final16 + 3], ax
    mov ax, [entry16_regs + 2]
    mov es, ax
    mov ax, [entry16_regs + 4]
    mov ss, ax
    mov esp, ebx
    mov ax, [entry16_regs + 6]
    mov fs, ax
    mov ax, [entry16_regs + 8]
    mov gs, ax
    mov ax, [entry16_regs]
    mov ds, ax
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor edi, edi
    xor ebp, ebp
final16:
    jmp 0:0
bits 32
`;

/**
 * The purgatory's assembly source for nasm / `arch/x86/asm.ts` (`org 0`, position-independent).
 *
 * @example
 * ```ts
 * import { purgatorySource } from "./purgatory.ts";
 * purgatorySource({ bits: 32, clearCr4: true }).includes("mov cr4, eax"); // true
 * ```
 */
export function purgatorySource(options: PurgatorySourceOptions): string {
  const bits = options.bits;
  if (options.clearCr4 && bits !== 32) {
    throw new RangeError("The clear_cr4 purgatory is a 32-bit (i386) purgatory");
  }
  const table = PURGATORY_SYMBOLS.map((s) => {
    if (s === "entry32") return bits === 64 ? `    dd entry32` : `    dd 0`;
    if (s === "entry16") return bits === 32 ? `    dd entry16` : `    dd 0`;
    return `    dd ${s}`;
  }).join("\n");
  const head = `; kexec-scenarios purgatory (${bits}-bit entry${
    options.clearCr4 ? ", clear_cr4" : ""
  })
bits ${bits}
org 0
purgatory_start:
    jmp near start
align 4
symbol_table:
    db "KXPG"
    dd ${PURGATORY_SYMBOLS.length}
${table}
`;
  let body: string;
  if (bits === 32) {
    body = `
start:                               ; 32-bit protected mode, paging off (relocate_kernel)
    cli
${
      options.clearCr4
        ? "    xor eax, eax\n    mov cr4, eax                     ; kexec-tools 1.95: #UD on a 386\n"
        : ""
    }    call .here
.here:
    pop ebp
    sub ebp, .here - purgatory_start ; ebp = load address
    lea eax, [ebp + gdt32]
    mov [ebp + gdt32_ptr + 2], eax
    lgdt [ebp + gdt32_ptr]
    push dword 0x10
    lea eax, [ebp + .cs]
    push eax
    retf
.cs:
    mov eax, 0x18
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov fs, eax
    mov gs, eax
    lea esp, [ebp + stack_end]
    cmp dword [ebp + skip_checks], 0
    jne .go
    call verify
    jne mismatch
.go:
    jmp exit32
${checksumLoop(32, (l) => `[ebp + ${l}]`)}
${EXIT32}
${ENTRY16}
`;
  } else {
    body = `
start:                               ; long mode, identity-mapped (relocate_kernel_64)
    cli
    lea rax, [rel gdt64]
    mov [rel gdt64_ptr + 2], rax
    lgdt [rel gdt64_ptr]
    push qword 0x10
    lea rax, [rel .cs]
    push rax
    o64 retf
.cs:
    mov eax, 0x18
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov fs, eax
    mov gs, eax
    lea rsp, [rel stack_end]
    cmp dword [rel skip_checks], 0
    jne .go
    call verify
    jne mismatch
.go:
    lea rsi, [rel entry64_regs]
    mov rax, [rsi + 128]
    mov [rel jump64], rax
    mov rax, [rsi]
    mov rbx, [rsi + 8]
    mov rcx, [rsi + 16]
    mov rdx, [rsi + 24]
    mov rdi, [rsi + 40]
    mov rsp, [rsi + 48]
    mov rbp, [rsi + 56]
    mov r8, [rsi + 64]
    mov r9, [rsi + 72]
    mov r10, [rsi + 80]
    mov r11, [rsi + 88]
    mov r12, [rsi + 96]
    mov r13, [rsi + 104]
    mov r14, [rsi + 112]
    mov r15, [rsi + 120]
    mov rsi, [rsi + 32]
    jmp [rel jump64]

entry32:                             ; 64-bit code; the loader points rip here for a 32-bit kernel
    cli
    lea rsp, [rel stack_end]         ; entry64_regs.rsp is not set for 32-bit kernels
    lea rax, [rel gdt64]
    mov [rel gdt64_ptr + 2], rax
    lgdt [rel gdt64_ptr]
    push qword 0x08
    lea rax, [rel .compat]
    push rax
    o64 retf                         ; to compatibility mode (purgatory must be below 4 GiB)
bits 32
.compat:
    call .here
.here:
    pop ebp
    sub ebp, .here - purgatory_start
    mov eax, 0x18
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov eax, cr0
    and eax, 0x7fffffff              ; paging off: leaves long mode
    mov cr0, eax
    mov ecx, 0xc0000080
    rdmsr
    and eax, 0xfffffeff              ; EFER.LME off
    wrmsr
    xor eax, eax
    mov cr4, eax                     ; as kexec-tools' entry64-32.S
    jmp exit32
${EXIT32}
bits 64
${checksumLoop(64, (l) => `[rel ${l}]`)}
`;
  }
  const data = `
bits ${bits}
${GDT_ENTRIES}
align 8
gdt32_ptr:
    dw gdt32_end - gdt32 - 1
    dd 0, 0
gdt16_ptr:
    dw gdt16_end - gdt16 - 1
    dd 0, 0
gdt64_ptr:
    dw gdt64_end - gdt64 - 1
    dq 0
idt16_ptr:
    dw 0x3ff
    dd 0
align 8
jump64:
    dq 0
entry64_regs:
    times 17 dq 0
entry32_regs:
    times 9 dd 0
entry16_regs:
    times 7 dw 0
    dd 0
align 4
skip_checks:
    dd 0
checksum_count:
    dd 0
checksum_value:
    dd 0
align 8
checksum_regions:
    times ${CHECKSUM_REGIONS * 2} dq 0
cmdline_end:
    dq 0
mismatch_msg:
    db "purgatory: checksum mismatch", 10, 0
align 16
stack:
    times 4096 db 0
stack_end:
stack_arg32_2:
    dd 0
stack_arg32_1:
    dd 0
`;
  return head + body + data;
}

/** An assembler with the shape of `arch/x86/asm.ts`'s `assemble`. */
export type Assembler = (
  source: string,
  options: { bits: 16 | 32 | 64; org: number },
) => { bytes: Uint8Array };

/** Options of {@linkcode buildPurgatory}. */
export interface BuildPurgatoryOptions extends PurgatorySourceOptions {
  /** Assemble the source with this assembler instead of using the committed prebuilt bytes (nasm output). */
  assemble?: Assembler;
}

/**
 * Read the "KXPG" symbol table at the start of an assembled purgatory.
 *
 * @example
 * ```ts
 * import { buildPurgatory } from "./purgatory.ts";
 * buildPurgatory({ bits: 32 }).symbols.entry32_regs! > 0; // true
 * ```
 */
export function purgatoryFromBytes(
  bytes: Uint8Array,
  options: { bits: 32 | 64; name?: string },
): PurgatoryBlob {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let t = -1;
  for (let o = 0; o + 8 <= Math.min(bytes.length, 64); o += 4) {
    if (v.getUint32(o, true) === 0x4750584b) { // "KXPG"
      t = o;
      break;
    }
  }
  if (t < 0) {
    throw new SyntaxError("Purgatory symbol table not found: no KXPG magic in the first 64 bytes");
  }
  const n = v.getUint32(t + 4, true);
  if (n !== PURGATORY_SYMBOLS.length) {
    throw new SyntaxError(
      `Purgatory symbol table has ${n} entries, expected ${PURGATORY_SYMBOLS.length}`,
    );
  }
  const symbols: Partial<Record<PurgatorySymbol, number>> = {};
  PURGATORY_SYMBOLS.forEach((s, i) => {
    const off = v.getUint32(t + 8 + 4 * i, true);
    if (off !== 0) symbols[s] = off;
  });
  return {
    name: options.name ?? `kexec-scenarios purgatory (${options.bits}-bit)`,
    bits: options.bits,
    bytes,
    memsz: BigInt(bytes.length),
    align: 16n,
    entryOffset: 0,
    symbols,
  };
}

/**
 * Our purgatory as a loader blob: from the committed nasm output by default, or assembled with
 * the given assembler.
 *
 * @example
 * ```ts
 * import { buildPurgatory } from "./purgatory.ts";
 * const p = buildPurgatory({ bits: 64 });
 * p.symbols.entry32 !== undefined; // true: the 64-bit purgatory can enter a 32-bit kernel
 * ```
 */
export function buildPurgatory(options: BuildPurgatoryOptions): PurgatoryBlob {
  const key = prebuiltKey(options);
  const name = `kexec-scenarios purgatory (${options.bits}-bit${
    options.clearCr4 ? ", clear_cr4" : ""
  })`;
  if (options.assemble) {
    const { bytes } = options.assemble(purgatorySource(options), { bits: options.bits, org: 0 });
    return purgatoryFromBytes(bytes, { bits: options.bits, name });
  }
  const cached = prebuiltCache.get(key);
  if (cached) return cached;
  const hexText = PREBUILT_PURGATORY[key]?.hex;
  if (!hexText) throw new RangeError(`No prebuilt purgatory: ${key}`);
  const bytes = new Uint8Array(hexText.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hexText.slice(2 * i, 2 * i + 2), 16);
  const blob = purgatoryFromBytes(bytes, { bits: options.bits, name });
  prebuiltCache.set(key, blob);
  return blob;
}

// Parsed prebuilt blobs (read-only: the loader copies the bytes before patching).
const prebuiltCache = new Map<string, PurgatoryBlob>();

/** Key of a purgatory variant in the prebuilt table ("32", "32-clear-cr4", "64"). */
export function prebuiltKey(options: PurgatorySourceOptions): string {
  return `${options.bits}${options.clearCr4 ? "-clear-cr4" : ""}`;
}

/**
 * The purgatory's checksum over regions (`bytes` then zeros up to `size`, as the kernel
 * zero-fills `memsz - bufsz`): `sum = rol32(sum, 5) + byte` over every byte, from 0.
 *
 * @example
 * ```ts
 * import { purgatoryChecksum } from "./purgatory.ts";
 * purgatoryChecksum([{ bytes: new Uint8Array([1, 2]), size: 2 }]); // (1 << 5) + 2 = 34
 * ```
 */
export function purgatoryChecksum(regions: readonly { bytes: Uint8Array; size: number }[]): number {
  let sum = 0;
  for (const r of regions) {
    const n = Math.min(r.bytes.length, r.size);
    for (let i = 0; i < n; i++) sum = (((sum << 5) | (sum >>> 27)) + r.bytes[i]) >>> 0;
    const rot = (5 * (r.size - n)) % 32; // zero bytes only rotate
    if (rot) sum = ((sum << rot) | (sum >>> (32 - rot))) >>> 0;
  }
  return sum;
}

/**
 * A size model of the purgatory in Debian's kexec-tools 2.0.25 amd64 build (an opaque blob of zero
 * bytes: bufsz 0x70E0, memsz 0x9000, entry `purgatory_start` at +0x760), so that the model's
 * segment addresses can be compared with that binary's.
 */
export const DEBIAN_2_0_25_X86_64_PURGATORY: PurgatoryBlob = {
  name: "kexec-tools 2.0.25 (Debian amd64) purgatory, size model",
  bits: 64,
  bytes: new Uint8Array(0x70e0),
  memsz: 0x9000n,
  align: 16n,
  entryOffset: 0x760,
  symbols: {},
};
