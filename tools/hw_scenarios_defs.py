TICK_HANDLER = """irq0:
  push ax
  push si
  inc byte [ticks]
  mov si, tickmsg
  call print
  mov al, 0x20                ; OCW2: non-specific EOI
  out 0x20, al
  pop si
  pop ax
  iret
"""

# 1. Virtual wire B -------------------------------------------------------------------------
write("hw_virtual_wire_b",
  """Virtual wire mode through the I/O APIC: the 8259's INT sits on IOAPIC pin 0, which the guest
  programs ExtINT (edge, active high, physical destination 0) after masking LINT0, as Linux's
  restore path does. The PIT tick then arrives as an ExtINT message; the CPU's INTA reaches the
  8259 through the local APIC and gets vector 0x08.""",
  ["hw", "ioapic", "lapic", "pic", "pit", "virtual-wire"],
  "board: pc-ioapic\ncpu: { count: 1 }",
  ivt(8, "irq0") + """  mov eax, 0xfee00350          ; LVT LINT0: masked ExtINT
  mov ebx, 0x00010700
  call wr32
  mov eax, 0xfec00000          ; IOREGSEL = redirection entry 0, low dword
  mov ebx, 0x10
  call wr32
  mov eax, 0xfec00010
  mov ebx, 0x00000700          ; ExtINT, edge, high, physical, unmasked
  call wr32
  mov eax, 0xfec00000
  mov ebx, 0x11
  call wr32
  mov eax, 0xfec00010
  mov ebx, 0                   ; destination APIC ID 0
  call wr32
""" + PIT_1KHZ + """  mov al, 0xfe
  out 0x21, al
  sti
wait:
  hlt
  cmp byte [ticks], 2
  jb wait
  mov si, done
  call print
""" + EXIT + TICK_HANDLER + """ticks: db 0
tickmsg: db "tick via IOAPIC pin 0", 10, 0
done: db "done", 10, 0
""",
  """run: { reason: exit }
  console: "tick via IOAPIC pin 0\\ntick via IOAPIC pin 0\\ndone\\n"
  ioapic:
    pins:
      0: { delivery: ExtINT, trigger: edge, masked: 0, destination: 0 }
      2: { masked: 1 }
  lapic:
    0:
      lvt0: { delivery: ExtINT, masked: 1 }
      isr_vectors: []
  pic:
    master: { isr: 0 }""")

# 2. IOAPIC masked after the BIOS ----------------------------------------------------------------
write("hw_ioapic_masked_after_bios",
  """On a virtual-wire-B board the 8259 reaches the CPU only through IOAPIC pin 0, and the BIOS
  leaves every redirection entry masked. A guest that unmasks IRQ0 at the 8259 and enables
  interrupts gets no tick: IRQ0 stays pending in the 8259's IRR. This is the state a kexec'd
  kernel meets when the old kernel did not restore the ExtINT pin.""",
  ["hw", "ioapic", "pic", "pit", "virtual-wire"],
  "board: pc-ioapic\ncpu: { count: 1 }",
  ivt(8, "irq0") + PIT_1KHZ + """  mov al, 0xfe
  out 0x21, al
  sti
""" + delay(300000, 1, "about 6 ms") + """  cli
  mov si, irrmsg
  call print
  mov al, 0x0a                 ; OCW3: read IRR
  out 0x20, al
  in al, 0x20
  call hex8
  call nl
""" + EXIT + TICK_HANDLER + """ticks: db 0
tickmsg: db "tick", 10, 0
irrmsg: db "no tick, irr=", 0
""",
  """run: { reason: exit }
  console: "no tick, irr=01\\n"
  ioapic:
    pins:
      0: { masked: 1 }
  pic:
    master: { irr: { ir0: 1 }, isr: 0, imr: 0xfe }
  memory:
    - { at: 0x7c00, u8: 0xfa }""")

# 3. LAPIC software disable -------------------------------------------------------------------
write("hw_lapic_sw_disable",
  """Software-disabling the local APIC (SVR bit 8 = 0) masks every LVT entry and ignores attempts
  to unmask them (SDM, local APIC state after software disable): virtual wire A stops passing
  the 8259's INT. One tick arrives through LINT0, then the guest clears SVR.8 and writes LINT0
  unmasked again; IRQ0 then stays pending in the 8259.""",
  ["hw", "lapic", "pic", "pit", "virtual-wire"],
  "board: pc-lapic",
  ivt(8, "irq0") + PIT_1KHZ + """  mov al, 0xfe
  out 0x21, al
  sti
wait:
  hlt
  cmp byte [ticks], 1
  jb wait
  cli
  mov eax, 0xfee000f0          ; SVR: software disable
  mov ebx, 0x000000ff
  call wr32
  mov eax, 0xfee00350          ; LINT0 = unmasked ExtINT: ignored while disabled
  mov ebx, 0x00000700
  call wr32
  mov si, offmsg
  call print
  sti
""" + delay(300000, 1, "about 6 ms") + """  cli
  mov si, irrmsg
  call print
  mov al, 0x0a
  out 0x20, al
  in al, 0x20
  call hex8
  call nl
""" + EXIT + TICK_HANDLER + """ticks: db 0
tickmsg: db "tick", 10, 0
offmsg: db "apic software-disabled", 10, 0
irrmsg: db "irr=", 0
""",
  """run: { reason: exit }
  console: "tick\\napic software-disabled\\nirr=01\\n"
  lapic:
    0:
      svr: { enabled: 0 }
      lvt0: { delivery: ExtINT, masked: 1 }
      lvt1: { masked: 1 }
  pic:
    master: { irr: { ir0: 1 }, isr: 0 }""")

# 4. LAPIC global disable (IA32_APIC_BASE.EN = 0) ----------------------------------------------
write("hw_lapic_global_disable",
  """Clearing IA32_APIC_BASE.EN globally disables the local APIC: the processor behaves like one
  without an APIC, LINT0 becomes its INTR pin, the MMIO window at 0xFEE00000 disappears (reads
  all ones) and the 8259 tick reaches the CPU even with the APIC's SVR software-disabled first.""",
  ["hw", "lapic", "pic", "pit", "msr"],
  "board: pc-lapic",
  ivt(8, "irq0") + """  mov eax, 0xfee000f0          ; software-disable first: LINT0 masked
  mov ebx, 0x000000ff
  call wr32
  mov ecx, 0x1b                ; IA32_APIC_BASE: EN = 0
  rdmsr
  and ax, 0xf7ff
  wrmsr
  mov eax, 0xfee00030          ; version register: gone
  call rd32
  mov si, vermsg
  call print
  call hex32
  call nl
""" + PIT_1KHZ + """  mov al, 0xfe
  out 0x21, al
  sti
wait:
  hlt
  cmp byte [ticks], 2
  jb wait
""" + EXIT + TICK_HANDLER + """ticks: db 0
tickmsg: db "tick via INTR", 10, 0
vermsg: db "apic version reads ", 0
""",
  """run: { reason: exit }
  console: "apic version reads FFFFFFFF\\ntick via INTR\\ntick via INTR\\n"
  lapic:
    0: { enabled: false }
  cpu:
    0: { apic_base: { en: 0, bsp: 1 } }""")

# 5. IMCR PIC mode ------------------------------------------------------------------------------
write("hw_imcr_pic_mode",
  """An MP board in PIC mode (IMCR = 0, MP spec 3.6.2.1): the 8259's INT goes straight to the
  BSP's INTR pin, bypassing the local APIC, so ticks arrive even with the APIC software-disabled.
  After writing 0x70/0x01 to ports 0x22/0x23 (APIC mode, what Linux's imcr_pic_to_apic does) the
  INT goes to LINT0, which the disabled APIC holds masked: no more ticks.""",
  ["hw", "imcr", "lapic", "pic", "pit"],
  "board: pc-imcr\ncpu: { count: 1 }",
  ivt(8, "irq0") + """  mov eax, 0xfee000f0          ; software-disable the APIC: LVTs masked
  mov ebx, 0x000000ff
  call wr32
""" + PIT_1KHZ + """  mov al, 0xfe
  out 0x21, al
  sti
wait:
  hlt
  cmp byte [ticks], 2
  jb wait
  cli
  mov al, 0x70                 ; IMCR: APIC mode
  out 0x22, al
  mov al, 0x01
  out 0x23, al
  mov si, apicmsg
  call print
  sti
""" + delay(300000, 1, "about 6 ms") + """  cli
  mov si, irrmsg
  call print
  mov al, 0x0a
  out 0x20, al
  in al, 0x20
  call hex8
  call nl
""" + EXIT + TICK_HANDLER + """ticks: db 0
tickmsg: db "tick in PIC mode", 10, 0
apicmsg: db "IMCR -> APIC mode", 10, 0
irrmsg: db "irr=", 0
""",
  """run: { reason: exit }
  console: "tick in PIC mode\\ntick in PIC mode\\nIMCR -> APIC mode\\nirr=01\\n"
  imcr: { mode: apic }
  lapic:
    0: { svr: { enabled: 0 }, lvt0: { masked: 1 } }
  memory:
    - { at: 0x9fc0c, u8: 0x80 }""")

# 6. IOAPIC level-triggered entry with remote IRR ------------------------------------------------
write("hw_ioapic_level_remote_irr",
  """A level-triggered IOAPIC entry (pin 2 = ISA IRQ0, vector 0x40, fixed) sets Remote IRR when the
  local APIC accepts the message and keeps it until the EOI broadcast (82093AA). The PIT in mode 0
  holds OUT0 high after terminal count; the handler reads the entry (Remote IRR = 1), drops the
  line by reprogramming the PIT, writes the local APIC EOI and reads the entry again.""",
  ["hw", "ioapic", "lapic", "pit", "level"],
  "board: pc-ioapic\ncpu: { count: 1 }",
  ivt(0x40, "irq40") + """  mov al, 0xff                 ; 8259: everything masked
  out 0x21, al
  mov eax, 0xfec00000
  mov ebx, 0x14                ; redirection entry 2 low
  call wr32
  mov eax, 0xfec00010
  mov ebx, 0x00008040          ; vector 0x40, fixed, level, active high, unmasked
  call wr32
  mov eax, 0xfec00000
  mov ebx, 0x15
  call wr32
  mov eax, 0xfec00010
  mov ebx, 0
  call wr32
  mov al, 0x30                 ; channel 0, lobyte/hibyte, mode 0
  out 0x43, al
  mov al, 0xa9
  out 0x40, al
  mov al, 0x04
  out 0x40, al
  sti
wait:
  hlt
  cmp byte [seen], 1
  jb wait
  cli
  mov si, done
  call print
""" + EXIT + """irq40:
  pushad
  call rte2
  mov al, 0x30                 ; reprogram channel 0: OUT0 goes low
  out 0x43, al
  mov eax, 0xfee000b0          ; local APIC EOI
  mov ebx, 0
  call wr32
  call rte2
  mov byte [seen], 1
  popad
  iret
rte2:
  mov eax, 0xfec00000
  mov ebx, 0x14
  call wr32
  mov eax, 0xfec00010
  call rd32
  mov si, rtemsg
  call print
  call hex32
  call nl
  ret
seen: db 0
rtemsg: db "rte2=", 0
done: db "done", 10, 0
""",
  """run: { reason: exit }
  console: "rte2=0000C040\\nrte2=00008040\\ndone\\n"
  ioapic:
    pins:
      2: { vector: 0x40, trigger: level, remote_irr: 0, masked: 0 }
  lapic:
    0: { isr_vectors: [], irr_vectors: [], tmr_vectors: [] }""")
