; ---- library (shared by the hw_* scenarios) ----
unreal:                     ; FS = flat 4 GiB data segment, then back to real mode
  lgdt [gdtr]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  mov bx, 8
  mov fs, bx
  and al, 0xfe
  mov cr0, eax
  ret
rd32:                       ; ebx = [eax] (physical, through FS)
  mov ebx, [fs:eax]
  ret
wr32:                       ; [eax] = ebx
  mov [fs:eax], ebx
  ret
print:                      ; print the NUL-terminated string at DS:SI
  lodsb
  test al, al
  jz .out
  out 0xe9, al
  jmp print
.out:
  ret
hex8:                       ; print AL as two hex digits
  push ax
  shr al, 4
  call .nib
  pop ax
  push ax
  and al, 0x0f
  call .nib
  pop ax
  ret
.nib:
  add al, '0'
  cmp al, '9'
  jbe .o
  add al, 7
.o:
  out 0xe9, al
  ret
hex32:                      ; print EBX as eight hex digits
  push cx
  push ax
  mov cx, 4
.l:
  rol ebx, 8
  mov al, bl
  call hex8
  loop .l
  pop ax
  pop cx
  ret
nl:
  push ax
  mov al, 10
  out 0xe9, al
  pop ax
  ret
align 8
gdt: dq 0
     dq 0x00cf92000000ffff
gdtr: dw 15
      dd gdt
