; The i386 "new kernel" of the kexec scenarios (see scenarios/_kexec_tick_i386.yaml), assembled
; at the image's load: address (no org line: every address is relative to start).
; Data: start+0x800 entry registers eax ebx ecx edx esi edi ebp esp eflags cr0 cr3, [esp-4];
; +0x830 the 8259 masks found (master, slave); +0x832 ticks; +0x833 unexpected interrupts;
; +0x834 entry check passed. IDT at start+0x2000, stack top at start+0xf000: the image is
; padded to 64 KiB so its segment (memsz) covers them.
bits 32
start:
  mov [regs+0x00], eax
  mov [regs+0x04], ebx
  mov [regs+0x08], ecx
  mov [regs+0x0c], edx
  mov [regs+0x10], esi
  mov [regs+0x14], edi
  mov [regs+0x18], ebp
  mov [regs+0x1c], esp
  mov eax, [esp-4]
  mov [regs+0x2c], eax
  pushfd
  pop eax
  mov [regs+0x20], eax
  mov eax, cr0
  mov [regs+0x24], eax
  mov eax, cr3
  mov [regs+0x28], eax
  in al, 0x21
  mov [imr_found], al
  in al, 0xa1
  mov [imr_found+1], al
  ; self-check of the entry state
  mov eax, [regs+0x00]
  or eax, [regs+0x04]
  or eax, [regs+0x08]
  or eax, [regs+0x0c]
  or eax, [regs+0x10]
  or eax, [regs+0x14]
  or eax, [regs+0x18]
  jnz .bad
  test dword [regs+0x1c], 0xfff
  jnz .bad
  cmp dword [regs+0x2c], start
  jne .bad
  test dword [regs+0x20], 0x200
  jnz .bad
  mov eax, [regs+0x24]
  and eax, 0x80000001
  cmp eax, 1
  jne .bad
  mov byte [entry_ok], 1
.bad:
  lgdt [gdtr]
  jmp 0x60:reload
reload:
  mov ax, 0x68
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov esp, start + 0xf000
  ; IDT at start+0x2000: every vector -> unexpected, 0x30 -> timer
  mov edi, start + 0x2000
  xor ecx, ecx
.idt:
  mov eax, unexpected
  cmp ecx, 0x30
  jne .gate
  mov eax, timer
.gate:
  mov word [edi], ax
  mov word [edi+2], 0x60
  mov word [edi+4], 0x8e00
  shr eax, 16
  mov word [edi+6], ax
  add edi, 8
  inc ecx
  cmp ecx, 256
  jb .idt
  lidt [idtr]
  ; 8259 pair: ICW1 edge/cascade/ICW4, ICW2 vector base, ICW3 wiring, ICW4 8086 mode
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
  ; PIT channel 0: mode 2, 1193 input clocks = 1 ms
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
  mov esi, msg_bad
  cmp byte [entry_ok], 1
  jne .p1
  mov esi, msg_ok
.p1:
  call print
  mov esi, msg_notick
  cmp byte [ticks], 0
  je .p2
  mov esi, msg_tick
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
  push eax
  inc byte [ticks]
  mov al, 0x20
  out 0x20, al
  pop eax
  iretd
unexpected:
  inc byte [unexpected_count]
  iretd
msg_ok: db "entry ok", 10, 0
msg_bad: db "entry BAD", 10, 0
msg_tick: db "tick", 10, 0
msg_notick: db "no tick", 10, 0
align 8
gdt: dq 0
  times 11 dq 0
  dq 0x00cf9a000000ffff       ; 0x60: flat 4 GiB code
  dq 0x00cf92000000ffff       ; 0x68: flat 4 GiB data
gdtr: dw 0x6f
  dd gdt
idtr: dw 0x7ff
  dd start + 0x2000
times 0x800-($-$$) db 0
regs: times 12 dd 0           ; start+0x800
imr_found: db 0, 0            ; start+0x830
ticks: db 0                   ; start+0x832
unexpected_count: db 0        ; start+0x833
entry_ok: db 0                ; start+0x834
  times 0x10000-($-$$) db 0     ; scratch (IDT at +0x2000, stack below +0xf000) inside the image:
                                ; memsz covers it, so no control page or page table lands there
