; An i386 "new kernel" that enables interrupts before programming any interrupt controller
; (see scenarios/_kexec_early_sti_i386.yaml), assembled at the image's load: address.
; Data: start+0x800 stray interrupt count, +0x801 the 8259 ISR seen by the first one.
bits 32
start:
  lgdt [gdtr]
  jmp 0x60:reload
reload:
  mov ax, 0x68
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, start + 0xf000
  mov edi, start + 0x2000
  mov eax, stray
  xor ecx, ecx
.idt:
  mov word [edi], ax
  mov word [edi+2], 0x60
  mov word [edi+4], 0x8e00
  mov edx, eax
  shr edx, 16
  mov word [edi+6], dx
  add edi, 8
  inc ecx
  cmp ecx, 256
  jb .idt
  lidt [idtr]
  sti
  mov ecx, 300000
.wait:
  dec ecx
  jnz .wait
  cli
  mov esi, msg_quiet
  cmp byte [count], 0
  je .p
  mov esi, msg_stray
.p:
  lodsb
  test al, al
  jz .end
  out 0xe9, al
  jmp .p
.end:
  hlt
stray:
  push eax
  inc byte [count]
  mov al, 0x0b
  out 0x20, al
  in al, 0x20
  mov [isr], al
  pop eax
  iretd
msg_quiet: db "quiet", 10, 0
msg_stray: db "stray interrupt", 10, 0
align 8
gdt: dq 0
  times 11 dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
gdtr: dw 0x6f
  dd gdt
idtr: dw 0x7ff
  dd start + 0x2000
times 0x800-($-$$) db 0
count: db 0                   ; start+0x800
isr: db 0                     ; start+0x801
  times 0x10000-($-$$) db 0     ; scratch (IDT at +0x2000, stack below +0xf000) inside the image:
                                ; memsz covers it, so no control page or page table lands there
