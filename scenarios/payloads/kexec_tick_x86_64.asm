; The x86_64 "new kernel" of the kexec scenarios (see scenarios/_kexec_tick_x86_64.yaml),
; assembled at the image's load: address (no org line: every address is relative to start).
; Data: start+0x800 rax rbx rcx rdx rsi rdi rbp rsp r8..r15, +0x880 [rsp-8], +0x888 rflags,
; +0x890 cr0, +0x898 cr3, +0x8a0 cr4, +0x8a8 CPUID vendor (12 bytes), +0x8b4 CPUID 0x80000008
; EAX, +0x8b8 the 8259 masks found; +0x8c0 ticks, +0x8c1 unexpected, +0x8c2 entry check passed.
; IDT at start+0x2000, stack top at start+0xf000: the image is padded to 64 KiB so its
; segment (memsz) covers them.
bits 64
default rel                     ; RIP-relative data: the payload runs at any load address
start:
  mov [regs+0x00], rax
  mov [regs+0x08], rbx
  mov [regs+0x10], rcx
  mov [regs+0x18], rdx
  mov [regs+0x20], rsi
  mov [regs+0x28], rdi
  mov [regs+0x30], rbp
  mov [regs+0x38], rsp
  mov [regs+0x40], r8
  mov [regs+0x48], r9
  mov [regs+0x50], r10
  mov [regs+0x58], r11
  mov [regs+0x60], r12
  mov [regs+0x68], r13
  mov [regs+0x70], r14
  mov [regs+0x78], r15
  mov rax, [rsp-8]
  mov [regs+0x80], rax
  pushfq
  pop rax
  mov [regs+0x88], rax
  mov rax, cr0
  mov [regs+0x90], rax
  mov rax, cr3
  mov [regs+0x98], rax
  mov rax, cr4
  mov [regs+0xa0], rax
  xor eax, eax
  cpuid
  mov [regs+0xa8], ebx
  mov [regs+0xac], edx
  mov [regs+0xb0], ecx
  mov eax, 0x80000008
  cpuid
  mov [regs+0xb4], eax
  in al, 0x21
  mov [regs+0xb8], al
  in al, 0xa1
  mov [regs+0xb9], al
  ; self-check of the entry state
  xor rax, rax
  mov ecx, 16
  mov rsi, regs
.or:
  cmp ecx, 9                  ; slot 7 (rsp) is checked separately
  je .skip
  or rax, [rsi]
.skip:
  add rsi, 8
  dec ecx
  jnz .or
  test rax, rax
  jnz .bad
  test qword [regs+0x38], 0xfff
  jnz .bad
  mov rax, start
  cmp [regs+0x80], rax
  jne .bad
  test qword [regs+0x88], 0x200
  jnz .bad
  cmp qword [regs+0xa0], 0x20
  jne .bad
  mov eax, [regs+0x90]
  and eax, 0x80000001
  cmp eax, 0x80000001
  jne .bad
  mov byte [entry_ok], 1
.bad:
  lgdt [gdtr]
  mov ax, 0x18
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov rsp, start + 0xf000
  ; IDT at start+0x2000: 256 16-byte interrupt gates, selector 0x10
  mov rdi, start + 0x2000
  xor ecx, ecx
.idt:
  mov rax, unexpected
  cmp ecx, 0x30
  jne .gate
  mov rax, timer
.gate:
  mov word [rdi], ax
  mov word [rdi+2], 0x10
  mov word [rdi+4], 0x8e00
  shr rax, 16
  mov word [rdi+6], ax
  shr rax, 16
  mov dword [rdi+8], eax
  mov dword [rdi+12], 0
  add rdi, 16
  inc ecx
  cmp ecx, 256
  jb .idt
  lidt [idtr]
  mov al, 0x11
  out 0x20, al
  out 0xa0, al
  mov al, 0x30
  out 0x21, al
  mov al, 0x38
  out 0xa1, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x02
  out 0xa1, al
  mov al, 0x01
  out 0x21, al
  out 0xa1, al
  mov al, 0xfe
  out 0x21, al
  mov al, 0xff
  out 0xa1, al
  mov al, 0x34
  out 0x43, al
  mov al, 0xa9
  out 0x40, al
  mov al, 0x04
  out 0x40, al
  sti
  mov ecx, 200000
.wait:
  cmp byte [ticks], 0
  jne .done
  dec ecx
  jnz .wait
.done:
  cli
  mov rsi, msg_bad
  cmp byte [entry_ok], 1
  jne .p1
  mov rsi, msg_ok
.p1:
  call print
  mov rsi, msg_notick
  cmp byte [ticks], 0
  je .p2
  mov rsi, msg_tick
.p2:
  call print
  hlt
print:
  lodsb
  test al, al
  jz .out
  out 0xe9, al
  jmp print
.out:
  ret
timer:
  push rax
  inc byte [ticks]
  mov al, 0x20
  out 0x20, al
  pop rax
  iretq
unexpected:
  inc byte [unexpected_count]
  iretq
msg_ok: db "entry ok", 10, 0
msg_bad: db "entry BAD", 10, 0
msg_tick: db "tick", 10, 0
msg_notick: db "no tick", 10, 0
align 8
gdt: dq 0
  dq 0
  dq 0x00af9a000000ffff       ; 0x10: 64-bit code
  dq 0x00cf92000000ffff       ; 0x18: data
gdtr: dw 0x1f
  dq gdt
idtr: dw 0xfff
  dq start + 0x2000
times 0x800-($-$$) db 0
regs: times 24 dq 0           ; start+0x800
ticks: db 0                   ; start+0x8c0
unexpected_count: db 0        ; start+0x8c1
entry_ok: db 0                ; start+0x8c2
  times 0x10000-($-$$) db 0     ; scratch (IDT at +0x2000, stack below +0xf000) inside the image:
                                ; memsz covers it, so no control page or page table lands there
