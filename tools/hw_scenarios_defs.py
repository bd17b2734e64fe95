# Print "irr=" and the master 8259's IRR (OCW3 read-register IRR, then a read of port 0x20).
PRINT_MASTER_IRR = """  mov si, irrmsg
  call print
  mov al, 0x0a
  out 0x20, al
  in al, 0x20
  call hex8
  call nl
"""

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
  """Virtual wire mode through the I/O APIC, on the 32-bit IOAPIC board and both x86-64 boards: the 8259's INT sits on IOAPIC pin 0, which the guest
  programs ExtINT (edge, active high, physical destination 0) after masking LINT0, as Linux's
  restore path does. The PIT tick then arrives as an ExtINT message; the CPU's INTA reaches the
  8259 through the local APIC and gets vector 0x08.""",
  ["hw", "ioapic", "lapic", "pic", "pit", "virtual-wire", "x86_64"],
  'board: "${board}"\ncpu: { count: 1 }',
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
    master: { isr: 0 }""", matrix="board: [pc-ioapic, opteron, xeon-nocona]")

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
""" + PRINT_MASTER_IRR + EXIT + TICK_HANDLER + """ticks: db 0
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
    0: { apic_base: { enable: 0, bsp: 1 } }""")

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
""" + PRINT_MASTER_IRR + EXIT + TICK_HANDLER + """ticks: db 0
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

# 5b. IMCR APIC mode with the BIOS's masked LINT0 ---------------------------------------------------
write("hw_imcr_apic_mode_lint0",
  """On an MP board with an IMCR the 8259 INTR reaches LINTIN0 of every local APIC as well as the
  IMCR mux, so the BIOS leaves LINT0/LINT1 masked (MP spec 1.4 section 5). A tick arrives in PIC
  mode through the mux; after the switch to APIC mode (IMCR = 1) the tick stays latched in the
  8259's IRR because LINT0 is masked; once the guest programs LINT0 = ExtINT, unmasked, the still
  high INT is taken at once (ExtINT is level-sensitive) and ticks flow through the local APIC.""",
  ["hw", "imcr", "lapic", "pic", "pit", "virtual-wire"],
  "board: pc-imcr\ncpu: { count: 1 }",
  ivt(8, "irq0") + PIT_1KHZ + """  mov al, 0xfe
  out 0x21, al
  sti
wait:
  hlt
  cmp byte [ticks], 1
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
""" + PRINT_MASTER_IRR + """  mov eax, 0xfee00350          ; LVT LINT0: ExtINT, unmasked (virtual wire A)
  mov ebx, 0x00000700
  call wr32
  mov si, lintmsg
  call print
  sti
wait2:
  hlt
  cmp byte [ticks], 3
  jb wait2
  cli
""" + EXIT + TICK_HANDLER + """ticks: db 0
tickmsg: db "tick", 10, 0
apicmsg: db "IMCR -> APIC mode", 10, 0
irrmsg: db "irr=", 0
lintmsg: db "LINT0 ExtINT", 10, 0
""",
  """run: { reason: exit }
  console: "tick\\nIMCR -> APIC mode\\nirr=01\\nLINT0 ExtINT\\ntick\\ntick\\n"
  imcr: { mode: apic }
  lapic:
    0:
      svr: { enabled: 1 }
      lvt0: { delivery: ExtINT, masked: 0 }
      lvt1: { masked: 1 }
      isr_vectors: []""")

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

# 7. INIT / SIPI ---------------------------------------------------------------------------------
AP_TRAMPOLINE = """  mov byte [0x8000], 0xea      ; AP trampoline at 0x8000: jmp 0000:ap_main
  mov word [0x8001], ap_main
  mov word [0x8003], 0
"""
write("hw_ipi_init_sipi",
  """The BSP starts the AP with the MP-spec sequence through its local APIC's ICR: INIT (assert,
  level), INIT de-assert, then a startup IPI with vector 0x08, so the AP leaves wait-for-SIPI in
  real mode at 0800:0000. The AP enters unreal mode itself, reads its local APIC ID, prints it,
  sets a flag and stops; the BSP waits for the flag.""",
  ["hw", "lapic", "smp", "ipi"],
  "board: pc-lapic\ncpu: { model: pentium4-xeon, count: 2 }",
  AP_TRAMPOLINE + """  mov eax, 0xfee00310          ; ICR high: destination APIC ID 1
  mov ebx, 0x01000000
  call wr32
  mov eax, 0xfee00300          ; INIT, level, assert
  mov ebx, 0x0000c500
  call wr32
  mov ebx, 0x00008500          ; INIT, level, de-assert
  call wr32
  mov ebx, 0x00004608          ; startup IPI, vector 0x08
  call wr32
wait:
  cmp byte [ap_up], 1
  jne wait
  mov si, bspmsg
  call print
""" + EXIT + """ap_main:
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x6000
  call unreal
  mov eax, 0xfee00020          ; local APIC ID register
  call rd32
  shr ebx, 24
  mov si, apmsg
  call print
  mov al, bl
  call hex8
  call nl
  mov byte [ap_up], 1
  cli
  hlt
ap_up: db 0
apmsg: db "ap: apic id ", 0
bspmsg: db "bsp: ap is up", 10, 0
""",
  """run: { reason: exit }
  console: "ap: apic id 01\\nbsp: ap is up\\n"
  cpu:
    1: { state: stopped, cs: { selector: 0 } }
  lapic:
    1: { id: 1, bsp: false }""")

# 8. Fixed IPI ----------------------------------------------------------------------------------
write("hw_ipi_fixed",
  """A fixed IPI between two CPUs: the AP software-enables its local APIC (SVR = 0x1FF), waits in
  HLT with interrupts enabled; the BSP sends vector 0x50 to APIC ID 1 through the ICR; the AP's
  handler prints, writes EOI and stops. Its IRR and ISR end empty.""",
  ["hw", "lapic", "smp", "ipi"],
  "board: pc-ioapic\ncpu: { model: pentium4-xeon, count: 2 }",
  AP_TRAMPOLINE + ivt(0x50, "ipi50") + """  mov eax, 0xfee00310
  mov ebx, 0x01000000
  call wr32
  mov eax, 0xfee00300
  mov ebx, 0x0000c500          ; INIT assert
  call wr32
  mov ebx, 0x00008500          ; INIT de-assert
  call wr32
  mov ebx, 0x00004608          ; SIPI vector 0x08
  call wr32
wait_ready:
  cmp byte [ap_ready], 1
  jne wait_ready
  mov eax, 0xfee00300
  mov ebx, 0x00004050          ; fixed, vector 0x50, physical, to APIC ID 1 (ICR high kept)
  call wr32
wait_done:
  cmp byte [ap_done], 1
  jne wait_done
  mov si, bspmsg
  call print
""" + EXIT + """ap_main:
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x6000
  call unreal
  mov eax, 0xfee000f0          ; SVR: enable, spurious vector 0xff
  mov ebx, 0x000001ff
  call wr32
  mov byte [ap_ready], 1
  sti
ap_wait:
  hlt
  cmp byte [ap_done], 1
  jne ap_wait
  cli
  hlt
ipi50:
  push si
  mov si, apmsg
  call print
  mov eax, 0xfee000b0          ; EOI
  mov ebx, 0
  call wr32
  mov byte [ap_done], 1
  pop si
  iret
ap_ready: db 0
ap_done: db 0
apmsg: db "ap: ipi vector 0x50", 10, 0
bspmsg: db "bsp: ipi delivered", 10, 0
""",
  """run: { reason: exit }
  console: "ap: ipi vector 0x50\\nbsp: ipi delivered\\n"
  lapic:
    0: { icr: { vector: 0x50 } }
    1: { irr_vectors: [], isr_vectors: [], svr: { enabled: 1, vector: 0xff } }""")

# 9. LAPIC timer --------------------------------------------------------------------------------
write("hw_lapic_timer",
  """The local APIC timer in periodic mode (divide by 1, initial count 100000 at the 100 MHz bus
  clock: 1 ms) delivers vector 0x41 in real mode; the handler writes the APIC EOI. After three
  ticks the guest masks the timer LVT.""",
  ["hw", "lapic", "timer"],
  "board: pc-lapic",
  ivt(0x41, "tmr") + """  mov eax, 0xfee003e0          ; divide configuration: divide by 1
  mov ebx, 0x0b
  call wr32
  mov eax, 0xfee00320          ; LVT timer: periodic, vector 0x41
  mov ebx, 0x00020041
  call wr32
  mov eax, 0xfee00380          ; initial count
  mov ebx, 100000
  call wr32
  sti
wait:
  hlt
  cmp byte [ticks], 3
  jb wait
  cli
  mov eax, 0xfee00320
  mov ebx, 0x00030041          ; masked, periodic
  call wr32
  mov si, done
  call print
""" + EXIT + """tmr:
  push si
  inc byte [ticks]
  mov si, tickmsg
  call print
  mov eax, 0xfee000b0
  mov ebx, 0
  call wr32
  pop si
  iret
ticks: db 0
tickmsg: db "apic timer", 10, 0
done: db "done", 10, 0
""",
  """run: { reason: exit }
  console: "apic timer\\napic timer\\napic timer\\ndone\\n"
  lapic:
    0:
      lvt_timer: { vector: 0x41, timer_mode: periodic, masked: 1 }
      timer_initial: 100000
      timer_divide: 0x0b
      isr_vectors: []""")

# 10. Spurious IRQ7 through a latched ExtINT message ---------------------------------------------
write("hw_spurious_irq7_extint",
  """A spurious IRQ7: with IOAPIC pin 0 programmed ExtINT and interrupts disabled, IRQ0 raises the
  8259's INT and the IOAPIC sends an ExtINT message that the local APIC latches. The guest then
  masks IRQ0 at the 8259, so its INT drops; when interrupts are enabled the CPU's INTA reaches a
  8259 with nothing to deliver, which answers with its default IR7 vector (0x0F) and leaves ISR
  untouched (8259A datasheet). The handler checks ISR bit 7 and does not send an EOI.""",
  ["hw", "pic", "ioapic", "lapic", "spurious"],
  "board: pc-ioapic\ncpu: { count: 1 }",
  ivt(8, "irq0") + ivt(0x0f, "irq7") + """  mov eax, 0xfee00350          ; LINT0 masked
  mov ebx, 0x00010700
  call wr32
  mov eax, 0xfec00000          ; pin 0: ExtINT, edge, unmasked, to APIC 0
  mov ebx, 0x10
  call wr32
  mov eax, 0xfec00010
  mov ebx, 0x00000700
  call wr32
  mov eax, 0xfec00000
  mov ebx, 0x11
  call wr32
  mov eax, 0xfec00010
  mov ebx, 0
  call wr32
  mov al, 0xfe                 ; unmask IRQ0: the latched edge raises INT at once
  out 0x21, al
  nop
  mov al, 0xff                 ; mask it again: INT drops, the ExtINT message stays
  out 0x21, al
  sti
  nop
  cli
  mov si, done
  call print
""" + EXIT + TICK_HANDLER + """irq7:
  push ax
  push si
  mov si, spmsg
  call print
  mov al, 0x0b                 ; OCW3: read ISR
  out 0x20, al
  in al, 0x20
  call hex8
  call nl
  pop si
  pop ax
  iret
ticks: db 0
tickmsg: db "irq0", 10, 0
spmsg: db "spurious irq7, isr=", 0
done: db "done", 10, 0
""",
  """run: { reason: exit }
  console: "spurious irq7, isr=00\\ndone\\n"
  pic:
    master: { isr: 0, irr: { ir0: 1 }, imr: 0xff }
  lapic:
    0: { extint_pending: false, isr_vectors: [] }""")

# 11. Linux 8259 initialization ------------------------------------------------------------------
write("hw_pic_linux_init",
  """The 8259 pair initialized with Linux's init_8259A sequence (ICW1 0x11, vectors 0x20 and 0x28,
  cascade on IR2, 8086 mode, everything masked, then IRQ0 unmasked): the PIT tick then arrives
  at vector 0x20 in real mode. IMR reads back through the data port.""",
  ["hw", "pic", "pit", "i486"],
  "board: pc-legacy",
  ivt(0x20, "irq0") + """  mov al, 0xff
  out 0x21, al
  out 0xa1, al
  mov al, 0x11                 ; ICW1: edge, cascade, ICW4 needed
  out 0x20, al
  mov al, 0x20                 ; ICW2: vectors 0x20-0x27
  out 0x21, al
  mov al, 0x04                 ; ICW3: slave on IR2
  out 0x21, al
  mov al, 0x01                 ; ICW4: 8086 mode, normal EOI
  out 0x21, al
  mov al, 0x11
  out 0xa0, al
  mov al, 0x28                 ; slave vectors 0x28-0x2f
  out 0xa1, al
  mov al, 0x02                 ; slave ID 2
  out 0xa1, al
  mov al, 0x01
  out 0xa1, al
  mov al, 0xff                 ; ICW1 cleared the masks: restore them, as Linux does
  out 0xa1, al
""" + PIT_1KHZ + """  mov al, 0xfe
  out 0x21, al
  sti
wait:
  hlt
  cmp byte [ticks], 1
  jb wait
  cli
  mov si, imrmsg
  call print
  in al, 0x21
  call hex8
  call nl
""" + EXIT + TICK_HANDLER.replace("irq0:", "irq0:") + """ticks: db 0
tickmsg: db "tick at vector 0x20", 10, 0
imrmsg: db "imr=", 0
""",
  """run: { reason: exit }
  console: "tick at vector 0x20\\nimr=FE\\n"
  pic:
    master: { vector_base: 0x20, init_state: ready, icw4: 0x01, isr: 0, imr: 0xfe }
    slave: { vector_base: 0x28, icw3: 0x02, imr: 0xff }""")

exec(open(os.path.join(HERE, "hw_scenarios_irq_defs.py")).read())

MP_WALK = """  mov esi, 0x9fc00
  cmp dword [fs:esi], 0x5f504d5f   ; "_MP_"
  jne nomp
  xor al, al                   ; checksum of the 16-byte floating pointer
  mov cx, 16
sum:
  add al, [fs:esi]
  inc esi
  loop sum
  mov si, summsg
  call print
  call hex8
  call nl
  mov si, imcrmsg
  call print
  mov edi, 0x9fc00
  mov al, [fs:edi+12]          ; feature byte 2: IMCRP in bit 7
  call hex8
  call nl
  mov esi, [fs:edi+4]          ; configuration table
  mov cx, [fs:esi+0x22]        ; entry count
  add esi, 44
walk:
  mov al, [fs:esi]
  cmp al, 0
  jne notcpu
  inc byte [cpus]
  add esi, 20
  jmp next
notcpu:
  cmp al, 3
  jne skip
  cmp byte [fs:esi+1], 3       ; ExtINT
  jne skip
  push si
  mov si, extmsg
  call print
  pop si
  mov al, [fs:esi+7]           ; destination INTIN#
  call hex8
  call nl
skip:
  add esi, 8
next:
  loop walk
  mov si, cpumsg
  call print
  mov al, [cpus]
  call hex8
  call nl
""" + EXIT + """nomp:
  mov si, nompmsg
  call print
""" + EXIT + """cpus: db 0
summsg: db "floating pointer checksum ", 0
imcrmsg: db "imcrp ", 0
extmsg: db "ExtINT on IOAPIC pin ", 0
cpumsg: db "processors ", 0
nompmsg: db "no MP table", 10, 0
"""

# 16. The MP table, as a guest finds it (a BIOS that lies) ----------------------------------------
write("hw_mptable_lie",
  """The guest finds the MP floating pointer where the MP spec and Linux look (the first KiB of the
  EBDA at 0x9FC00), checks its checksum, follows it to the PCMP table and walks the entries: it
  prints the IMCRP flag and the IOAPIC pin of the ExtINT entry. The board wires the 8259 to pin 0
  but this BIOS lies (mptable.extint_pin: 16), which is what an OS then believes.""",
  ["hw", "mptable", "firmware", "ioapic"],
  "board: pc-ioapic\nmptable: { extint_pin: 16 }",
  MP_WALK,

  """run: { reason: exit }
  console: "floating pointer checksum 00\\nimcrp 00\\nExtINT on IOAPIC pin 10\\nprocessors 02\\n"
  machine: { pic_output: ioapic }
  memory:
    - { at: 0x9fc00, bytes: "5f 4d 50 5f 10 fc 09 00 01 04" }
    - { at: 0x9fc10, bytes: "50 43 4d 50" }""")

write("hw_mptable_absent",
  """A 486 ISA PC has no local APIC, and its BIOS writes no MP table: the same search a
  multiprocessor OS makes (the "_MP_" signature at 0x9FC00) comes back empty, so the OS stays on
  the 8259 alone.""",
  ["hw", "mptable", "firmware", "i486"],
  "board: pc-legacy",
  MP_WALK,
  """run: { reason: exit }
  console: "no MP table\\n"
  memory:
    - { at: 0x9fc00, zero: 16 }
    - { at: 0xe1000, bytes: "45 38 32 30 05 00 00 00" }""")

# 17. The e820 map of an x86-64 board ------------------------------------------------------------
write("hw_opteron_e820",
  """The BIOS e820 table of the Opteron board with its default 6 GiB: the guest reads the table
  the firmware left at 0xE1000 ("E820" signature, count, 20-byte entries) and prints every entry:
  the 639 KiB of base memory, the EBDA, the BIOS ROM, RAM up to the 3 GiB PCI hole with ACPI data
  and NVS at its top, the IOAPIC and local APIC pages, the ROM mirror and 3 GiB of RAM remapped
  above 4 GiB.""",
  ["hw", "firmware", "e820", "opteron", "x86_64"],
  "board: opteron\ncpu: { count: 1 }",
  """  mov esi, 0xe1000
  mov ebx, [fs:esi]
  cmp ebx, 0x30323845          ; "E820"
  jne bad
  mov cx, [fs:esi+4]
  add esi, 8
entry:
  mov ebx, [fs:esi+4]          ; base, high then low dword
  call hex32
  mov ebx, [fs:esi]
  call hex32
  mov al, ' '
  out 0xe9, al
  mov ebx, [fs:esi+12]         ; size
  call hex32
  mov ebx, [fs:esi+8]
  call hex32
  mov al, ' '
  out 0xe9, al
  mov al, [fs:esi+16]          ; type
  call hex8
  call nl
  add esi, 20
  loop entry
""" + EXIT + """bad:
  mov si, badmsg
  call print
""" + EXIT + """badmsg: db "no e820 copy", 10, 0
""",
  """run: { reason: exit }
  console: |
    0000000000000000 000000000009FC00 01
    000000000009FC00 0000000000000400 02
    00000000000E0000 0000000000020000 02
    0000000000100000 00000000BFEF0000 01
    00000000BFFF0000 0000000000008000 03
    00000000BFFF8000 0000000000008000 04
    00000000FEC00000 0000000000001000 02
    00000000FEE00000 0000000000001000 02
    00000000FFFE0000 0000000000020000 02
    0000000100000000 00000000C0000000 01
  memory_map:
    e820:
      9: { base: 0x100000000, size: 0xc0000000, type: ram }""")

# 18. Triple fault -------------------------------------------------------------------------------
write("hw_triple_fault",
  """A triple fault on a 386: with the real-mode IDTR limit set to 0, INT 3 lies beyond the table
  (#GP), so does the #GP vector (#DF) and the #DF vector: the CPU enters shutdown and the run
  ends with reason shutdown.""",
  ["hw", "i386", "exception"],
  "board: pc-legacy\ncpu: { model: i386 }",
  """  mov si, msg
  call print
  lidt [idtr0]
  int 3
  mov si, after
  call print
""" + EXIT + """idtr0: dw 0
       dd 0
msg: db "before the triple fault", 10, 0
after: db "not reached", 10, 0
""",
  """run: { reason: shutdown }
  console: "before the triple fault\\n"
  cpu:
    0: { state: shutdown }""", run="{ until: shutdown, max_instructions: 100_000 }")

# 19. Exact PIT reads ----------------------------------------------------------------------------
write("hw_pit_latch_read",
  """PIT reads are exact to the instruction: channel 0 runs in mode 2 with count 50000; the guest
  waits 1000 instructions (10 us: 11.9 input clocks after the count loads, so 49989 = 0xC345),
  latches it, spins 40000 instructions (400 us = 477.3 clocks) plus the printing of the first
  value, and latches again (0xC167, 478 clocks later). Virtual time only depends on instruction
  counts, so the values are the same on every run.""",
  ["hw", "pit", "timing"],
  "board: pc-legacy\ntiming: { ns_per_instruction: 10 }",
  """  mov al, 0x34                 ; channel 0, mode 2, lobyte/hibyte
  out 0x43, al
  mov al, 0x50                 ; 50000 = 0xc350
  out 0x40, al
  mov al, 0xc3
  out 0x40, al
  mov ecx, 500                 ; let the count load (next input clock)
settle:
  dec ecx
  jnz settle
  call latch
  mov ecx, 10000
spin:
  nop
  nop
  dec ecx
  jnz spin
  call latch
""" + EXIT + """latch:
  mov al, 0x00                 ; counter latch command, channel 0
  out 0x43, al
  in al, 0x40
  mov bl, al
  in al, 0x40
  mov bh, al
  mov al, bh
  call hex8
  mov al, bl
  call hex8
  call nl
  ret
""",
  """run: { reason: exit }
  console: "C345\\nC167\\n"
  pit:
    channels:
      0: { mode: 2, count: 50000, access: lsb-msb }""")

# 20. A real 386 --------------------------------------------------------------------------------
write("hw_i386_detect",
  """Boot on a real 386 (pc-legacy, cpu i386): the classic CPU-type test tries to set EFLAGS.AC
  (bit 18), which a 386 cannot hold, and prints what it found. The BIOS hand-off is the same as
  on a 486: DL = 0x80, SS:SP = 0000:7C00.""",
  ["hw", "i386", "cpu"],
  "board: pc-legacy\ncpu: { model: i386 }",
  """  mov [drive], dl
  pushfd
  pop eax
  mov ecx, eax
  xor eax, 0x40000             ; toggle AC
  push eax
  popfd
  pushfd
  pop eax
  push ecx
  popfd
  xor eax, ecx
  test eax, 0x40000
  jnz is486
  mov si, m386
  call print
  jmp out
is486:
  mov si, m486
  call print
out:
  mov si, drv
  call print
  mov al, [drive]
  call hex8
  call nl
""" + EXIT + """drive: db 0
m386: db "cpu: 386 (EFLAGS.AC sticks at 0)", 10, 0
m486: db "cpu: 486 or later", 10, 0
drv: db "boot drive ", 0
""",
  """run: { reason: exit }
  console: "cpu: 386 (EFLAGS.AC sticks at 0)\\nboot drive 80\\n"
  machine: { cpu_model: i386 }
  cpu:
    0: { eflags: { ac: 0 }, esp: 0x7c00, ss: { selector: 0 } }""")

# 22. Relocating the local APIC ----------------------------------------------------------------
write("hw_lapic_relocate",
  """IA32_APIC_BASE moves the local APIC's 4 KiB window: the guest reads the version register at
  the default 0xFEE00000, writes base 0xFED00000 (EN and BSP kept) and reads it again at the new
  address, while the old address now reads all ones (nothing answers there).""",
  ["hw", "lapic", "msr"],
  "board: pc-lapic",
  """  mov eax, 0xfee00030
  call rd32
  mov si, m1
  call print
  call hex32
  call nl
  mov ecx, 0x1b                ; IA32_APIC_BASE
  rdmsr
  and eax, 0x00000fff
  or eax, 0xfed00000
  wrmsr
  mov eax, 0xfed00030
  call rd32
  mov si, m2
  call print
  call hex32
  call nl
  mov eax, 0xfee00030
  call rd32
  mov si, m3
  call print
  call hex32
  call nl
""" + EXIT + """m1: db "version at 0xfee00000: ", 0
m2: db "version at 0xfed00000: ", 0
m3: db "old window reads: ", 0
""",
  """run: { reason: exit }
  console: "version at 0xfee00000: 00050014\\nversion at 0xfed00000: 00050014\\nold window reads: FFFFFFFF\\n"
  lapic:
    0: { base: 0xfed00000, enabled: true }
  cpu:
    0: { apic_base: { enable: 1, bsp: 1 } }""")

# 23. APIC IDs on an EM64T SMP board -------------------------------------------------------------
write("hw_nocona_apic_ids",
  """On the Xeon (Nocona) board with two logical CPUs each CPU compares the initial APIC ID that
  CPUID leaf 1 reports (EBX bits 31:24) with its local APIC's ID register, which the MP table
  also lists. The BSP starts the AP with INIT and a startup IPI, then both print what they see.""",
  ["hw", "lapic", "smp", "cpuid", "xeon-nocona"],
  "board: xeon-nocona",
  AP_TRAMPOLINE + """  call report
  mov eax, 0xfee00310
  mov ebx, 0x01000000
  call wr32
  mov eax, 0xfee00300
  mov ebx, 0x0000c500
  call wr32
  mov ebx, 0x00008500
  call wr32
  mov ebx, 0x00004608
  call wr32
wait:
  cmp byte [ap_up], 1
  jne wait
""" + EXIT + """ap_main:
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x6000
  call unreal
  call report
  mov byte [ap_up], 1
  cli
  hlt
report:
  mov eax, 1
  cpuid
  shr ebx, 24
  mov si, m1
  call print
  mov al, bl
  call hex8
  mov eax, 0xfee00020
  call rd32
  shr ebx, 24
  mov si, m2
  call print
  mov al, bl
  call hex8
  call nl
  ret
ap_up: db 0
m1: db "cpuid initial apic id ", 0
m2: db ", lapic id ", 0
""",
  """run: { reason: exit }
  console: "cpuid initial apic id 00, lapic id 00\\ncpuid initial apic id 01, lapic id 01\\n"
  lapic:
    0: { id: 0, bsp: true }
    1: { id: 1, bsp: false }
  cpu:
    1: { state: stopped }""")

# 24. MP table processor entries vs CPUID ----------------------------------------------------------
write("hw_mptable_cpu_entries",
  """The MP table's processor entries carry each CPU's signature (CPUID.1 EAX: family, model,
  stepping) and feature flags (CPUID.1 EDX), as the MP spec 1.4 (table 4-4) asks of the BIOS. The
  guest walks the table the BIOS left, prints every processor entry and compares it with what
  CPUID leaf 1 returns on the boot CPU (all CPUs are the same model).""",
  ["hw", "mptable", "firmware", "cpuid"],
  'board: pc-ioapic\ncpu: { model: "${cpu}", count: 2 }',
  """  mov eax, 1
  cpuid
  mov [sig], eax
  mov [flags], edx
  mov edi, 0x9fc00
  cmp dword [fs:edi], 0x5f504d5f   ; "_MP_"
  jne nomp
  mov esi, [fs:edi+4]          ; configuration table
  mov cx, [fs:esi+0x22]        ; entry count
  add esi, 44
walk:
  cmp byte [fs:esi], 0
  jne notcpu
  push si
  mov si, m1
  call print
  pop si
  mov al, [fs:esi+1]           ; local APIC ID
  call hex8
  push si
  mov si, m2
  call print
  pop si
  mov ebx, [fs:esi+4]          ; CPU signature
  call hex32
  mov edx, ebx
  push si
  mov si, m3
  call print
  pop si
  mov ebx, [fs:esi+8]          ; feature flags
  call hex32
  push si
  mov si, same
  test edx, edx
  jz bad
  cmp edx, [sig]
  jne bad
  cmp ebx, [flags]
  je good
bad:
  mov si, differ
good:
  call print
  pop si
  add esi, 20
  jmp next
notcpu:
  add esi, 8
next:
  loop walk
""" + EXIT + """nomp:
  mov si, nompmsg
  call print
""" + EXIT + """sig: dd 0
flags: dd 0
m1: db "cpu ", 0
m2: db ": signature ", 0
m3: db " flags ", 0
same: db " = cpuid", 10, 0
differ: db " != cpuid", 10, 0
nompmsg: db "no MP table", 10, 0
""",
  """run: { reason: exit }
  console: { regex: "^cpu 00: signature 00000[0-9A-F]{3} flags [0-9A-F]{8} = cpuid\\\\ncpu 01: signature 00000[0-9A-F]{3} flags [0-9A-F]{8} = cpuid\\\\n$" }""",
  matrix="cpu: [pentium, pentium4-xeon, xeon-nocona, opteron]")
