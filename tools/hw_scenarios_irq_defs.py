# 8259 and IOAPIC scenarios driven by the `irq` step (exec'd by tools/hw_scenarios_defs.py).
#
# The guest sets up in real mode and waits in a HLT loop with interrupts enabled; the scenario
# raises and lowers ISA IRQ lines between `run: { until: halt }` steps, as devices would. IRQ0
# stays masked (the PIT the BIOS started drives it); every handler prints to port 0xE9, so the
# console shows the order in which the 8259 (or the local APIC) delivered the interrupts.

RUN = "run: { until: halt, max_instructions: 100_000 }"


def irq(lines, level):
    if isinstance(lines, int):
        return f"irq: {{ line: {lines}, level: {level} }}"
    return f"irq: {{ lines: [{', '.join(str(l) for l in lines)}], level: {level} }}"


IDLE = """  sti
idle:
  hlt
  jmp idle
"""

# Routines shared by these scenarios (after the guest code, before the library).
PIC_REGS = """master_irr:                 ; AL = master IRR without IR0 (the BIOS's PIT tick, masked)
  mov al, 0x0a
  out 0x20, al
  in al, 0x20
  and al, 0xfe
  ret
master_isr:                 ; AL = master ISR (OCW3 read ISR)
  mov al, 0x0b
  out 0x20, al
  in al, 0x20
  ret
show:                       ; print " isr=XX irr=XX" of the master, then a newline
  push ax
  push si
  mov si, isrmsg
  call print
  call master_isr
  call hex8
  mov si, irrmsg
  call print
  call master_irr
  call hex8
  call nl
  pop si
  pop ax
  ret
isrmsg: db " isr=", 0
irrmsg: db " irr=", 0
"""


def handler(n, body, eoi="  mov al, 0x20                ; OCW2: non-specific EOI\n  out 0x20, al\n"):
    """A real-mode handler for IRQn: prints "irqN", runs `body`, sends `eoi`, returns."""
    return f"""irq{n}:
  push ax
  push si
  mov si, m{n}
  call print
{body}{eoi}  pop si
  pop ax
  iret
m{n}: db "irq{n}", 0
"""


def unmask(mask_byte):
    return f"  mov al, {mask_byte:#04x}                 ; OCW1: master IMR\n  out 0x21, al\n"


# Priority resolution ---------------------------------------------------------------------------
write("hw_pic_priority",
  """Priority resolution with several requests pending at once (8259A datasheet, fully nested
  mode): the scenario raises IRQ5, IRQ4 and IRQ3 at the same instant while the guest waits in
  HLT. The 8259 delivers IRQ3 first (IR0 highest ... IR7 lowest); each handler prints ISR and IRR:
  the lower requests stay in IRR until the EOI of the one in service, then the next is
  delivered.""",
  ["hw", "pic", "irq"],
  "board: pc-legacy",
  ivt(0x0b, "irq3") + ivt(0x0c, "irq4") + ivt(0x0d, "irq5") + unmask(0xc7) + IDLE +
  handler(3, "  call show\n") + handler(4, "  call show\n") + handler(5, "  call show\n") +
  PIC_REGS,
  """run: { reason: halted }
  console: "irq3 isr=08 irr=30\\nirq4 isr=10 irr=20\\nirq5 isr=20 irr=00\\n"
  pic:
    master: { isr: 0, irr: { ir3: 0, ir4: 0, ir5: 0 }, imr: 0xc7, priority: 7, inputs: { ir3: 0, ir4: 0, ir5: 0 } }""",
  steps=[RUN, irq([5, 4, 3], "high"), RUN, irq([3, 4, 5], "low")])

# Masking through IMR ---------------------------------------------------------------------------
write("hw_pic_imr_mask",
  """Masking through IMR (OCW1): IMR does not stop a request from latching in IRR, it only keeps
  it from being selected. IRQ4 and IRQ3 rise together with only IR3 unmasked: IRQ3 is delivered
  and its handler sees IRQ4 waiting in IRR, unmasks IR4 and sends the EOI; IRQ4 is then
  delivered.""",
  ["hw", "pic", "irq"],
  "board: pc-legacy",
  ivt(0x0b, "irq3") + ivt(0x0c, "irq4") + unmask(0xf7) + IDLE +
  handler(3, """  mov si, irrmsg
  call print
  call master_irr
  call hex8
  mov si, unm
  call print
  in al, 0x21                  ; OCW1: unmask IR4
  and al, 0xef
  out 0x21, al
""") + handler(4, "  call nl\n") + """unm: db ", unmasking IR4", 10, 0
""" + PIC_REGS,
  """run: { reason: halted }
  console: "irq3 irr=10, unmasking IR4\\nirq4\\n"
  pic:
    master: { isr: 0, irr: { ir3: 0, ir4: 0 }, imr: 0xe7 }""",
  steps=[RUN, irq([4, 3], "high"), RUN, irq([3, 4], "low")])

# Rotate on non-specific EOI -------------------------------------------------------------------
write("hw_pic_rotation",
  """Rotate on non-specific EOI (OCW2 0xA0): every handler ends with it, so the level just served
  becomes the lowest priority. IRQ4 alone is served first (IR4 becomes lowest: order 5, 6, 7, 0,
  1, 2, 3, 4); then IRQ3 and IRQ5 rise together and IRQ5 wins, which fixed priority would never
  allow; after IRQ3, IR3 is the lowest level.""",
  ["hw", "pic", "irq"],
  "board: pc-legacy",
  ivt(0x0b, "irq3") + ivt(0x0c, "irq4") + ivt(0x0d, "irq5") + unmask(0xc7) + IDLE +
  "".join(handler(n, "  call nl\n", eoi="  mov al, 0xa0                ; OCW2: rotate on non-specific EOI\n  out 0x20, al\n")
          for n in (3, 4, 5)) + PIC_REGS,
  """run: { reason: halted }
  console: "irq4\\nirq5\\nirq3\\n"
  pic:
    master: { priority: 3, isr: 0, irr: { ir3: 0, ir4: 0, ir5: 0 } }""",
  steps=[RUN, irq(4, "high"), RUN, irq(4, "low"), irq([3, 5], "high"), RUN, irq([3, 5], "low")])

# Set priority and specific EOI -----------------------------------------------------------------
write("hw_pic_specific_eoi_priority",
  """OCW2 "set priority" (0xC4: IR4 lowest, so IR5 highest: 5, 6, 7, 0, 1, 2, 3, 4) changes the
  service order of IRQ3, IRQ5 and IRQ6 raised together: 5, 6, then 3. Each handler reads ISR,
  sends the specific EOI for its own level (OCW2 0x60 + L, which does not depend on the priority
  order) and reads ISR again.""",
  ["hw", "pic", "irq"],
  "board: pc-legacy",
  ivt(0x0b, "irq3") + ivt(0x0d, "irq5") + ivt(0x0e, "irq6") + """  mov al, 0xc4                 ; OCW2: set priority, IR4 lowest
  out 0x20, al
""" + unmask(0x97) + IDLE +
  "".join(handler(n, """  mov si, isrmsg
  call print
  call master_isr
  call hex8
""", eoi=f"""  mov al, {0x60 + n:#04x}                 ; OCW2: specific EOI, level {n}
  out 0x20, al
  mov si, arrow
  call print
  call master_isr
  call hex8
  call nl
""") for n in (3, 5, 6)) + """arrow: db " -> ", 0
""" + PIC_REGS,
  """run: { reason: halted }
  console: "irq5 isr=20 -> 00\\nirq6 isr=40 -> 00\\nirq3 isr=08 -> 00\\n"
  pic:
    master: { priority: 4, read_register: isr, isr: 0, irr: { ir3: 0, ir5: 0, ir6: 0 } }""",
  steps=[RUN, irq([3, 5, 6], "high"), RUN, irq([3, 5, 6], "low")])

# Poll mode --------------------------------------------------------------------------------------
write("hw_pic_poll",
  """Poll mode (8259A datasheet): with interrupts disabled the guest waits until IRQ3 shows in
  IRR (the scenario raises IRQ5 and IRQ3 while it spins), then writes OCW3 with P = 1: the next
  read of the command port acts as an INTA, returns 0x80 | level of the highest request and sets
  its ISR bit. A specific EOI and another poll give IRQ5; the third poll finds nothing (bit 7 =
  0) although both lines are still high: an edge request is consumed by its acknowledge.""",
  ["hw", "pic", "irq"],
  "board: pc-legacy",
  unmask(0xd7) + """  mov al, 0x0a                 ; OCW3: read IRR
  out 0x20, al
wait:
  in al, 0x20
  test al, 0x08
  jz wait
again:
  mov al, 0x0c                 ; OCW3: poll
  out 0x20, al
  in al, 0x20                  ; acts as the INTA
  mov bl, al
  mov si, pollmsg
  call print
  mov al, bl
  call hex8
  test bl, 0x80
  jz fin
  call show
  mov al, bl                   ; specific EOI for the polled level
  and al, 7
  or al, 0x60
  out 0x20, al
  jmp again
fin:
  call nl
""" + EXIT + """pollmsg: db "poll=", 0
""" + PIC_REGS,
  """run: { reason: exit }
  console: "poll=83 isr=08 irr=20\\npoll=85 isr=20 irr=00\\npoll=00\\n"
  pic:
    master: { isr: 0, poll: false, irr: { ir3: 0, ir5: 0 }, inputs: { ir3: 1, ir5: 1 } }
  cpu:
    0: { eflags: { if: 0 } }""",
  steps=["run: { until: budget, max_instructions: 2_000 }", irq([5, 3], "high"),
         "run: { until: exit, max_instructions: 100_000 }"])

# Special mask mode ------------------------------------------------------------------------------
write("hw_pic_special_mask",
  """Special mask mode lets a lower-priority request in while a higher one is in service (8259A
  datasheet). IRQ3's handler enables interrupts and waits in HLT; the scenario raises IRQ5, which
  stays pending (IR3 in service blocks lower levels), then IRQ1, which nests (higher). Back in the
  IRQ3 handler the guest masks IR3 and sets special mask mode (OCW3 0x68): IRQ5 is delivered at
  once, with IR3 still in service. The handler then leaves SMM (OCW3 0x48), unmasks IR3 and sends
  the specific EOI for level 3.""",
  ["hw", "pic", "irq"],
  "board: pc-legacy",
  ivt(0x09, "irq1") + ivt(0x0b, "irq3") + ivt(0x0d, "irq5") + unmask(0xd5) + IDLE +
  handler(1, "  call nl\n") +
  """irq3:
  push ax
  push si
  mov si, m3in
  call print
  sti
  hlt                          ; the scenario raises IRQ5 (blocked), then IRQ1 (nests)
  cli
  mov si, m3irr
  call print
  call master_irr
  call hex8
  call nl
  in al, 0x21                  ; OCW1: mask IR3 (still in service)
  or al, 0x08
  out 0x21, al
  mov al, 0x68                 ; OCW3: set special mask mode
  out 0x20, al
  mov si, m3smm
  call print
  sti
  nop                          ; IRQ5 is delivered here
  nop
  cli
  mov al, 0x48                 ; OCW3: reset special mask mode
  out 0x20, al
  in al, 0x21
  and al, 0xf7
  out 0x21, al
  mov al, 0x63                 ; OCW2: specific EOI, level 3
  out 0x20, al
  mov si, m3out
  call print
  pop si
  pop ax
  iret
m3in: db "irq3 in service, waiting", 10, 0
m3irr: db "irq3: irr=", 0
m3smm: db "irq3: IR3 masked, special mask mode on", 10, 0
m3out: db "irq3 done", 10, 0
""" + handler(5, "  call show\n", eoi="  mov al, 0x65                ; OCW2: specific EOI, level 5\n  out 0x20, al\n") +
  PIC_REGS,
  """run: { reason: halted }
  console: |
    irq3 in service, waiting
    irq1
    irq3: irr=20
    irq3: IR3 masked, special mask mode on
    irq5 isr=28 irr=00
    irq3 done
  pic:
    master: { special_mask: false, isr: 0, imr: 0xd5, irr: { ir1: 0, ir3: 0, ir5: 0 } }""",
  steps=[RUN, irq(3, "high"), RUN, irq(5, "high"), RUN, irq(1, "high"), RUN,
         irq([1, 3, 5], "low")])

# AEOI with rotation -----------------------------------------------------------------------------
write("hw_pic_aeoi_rotation",
  """Automatic EOI with rotation: the master is re-initialized with ICW4 = 0x03 (AEOI, 8086 mode)
  and OCW2 0x80 sets rotate-in-AEOI. Handlers send no EOI and read ISR as 00 (the ISR bit is
  cleared at the end of the INTA). IRQ3 alone is served first and becomes the lowest level, so
  when IRQ1 and IRQ4 rise together IRQ4 wins (order 4, 5, 6, 7, 0, 1, 2, 3).""",
  ["hw", "pic", "irq"],
  "board: pc-legacy",
  ivt(9, "irq1") + ivt(0x0b, "irq3") + ivt(0x0c, "irq4") + """  mov al, 0x11
  out 0x20, al
  mov al, 0x08
  out 0x21, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x03                 ; ICW4: AEOI, 8086 mode
  out 0x21, al
  mov al, 0x80                 ; OCW2: set rotate in AEOI mode
  out 0x20, al
""" + unmask(0xe5) + IDLE +
  "".join(handler(n, """  mov si, isrmsg
  call print
  call master_isr
  call hex8
  call nl
""", eoi="") for n in (1, 3, 4)) + PIC_REGS,
  """run: { reason: halted }
  console: "irq3 isr=00\\nirq4 isr=00\\nirq1 isr=00\\n"
  pic:
    master: { aeoi: true, rotate_aeoi: true, priority: 1, isr: 0, imr: 0xe5 }""",
  steps=[RUN, irq(3, "high"), RUN, irq(3, "low"), irq([1, 4], "high"), RUN, irq([1, 4], "low")])

# Level-triggered input (ELCR) --------------------------------------------------------------------
write("hw_pic_level_elcr",
  """A level-triggered input (ELCR bit 5 at port 0x4D0) requests for as long as its line is high:
  IRR keeps the bit through the acknowledge, and an EOI while the line is still high brings the
  interrupt again. IRQ3 (edge) and IRQ5 (level) rise together and stay high: IRQ3 is delivered
  once, IRQ5 again after every EOI until its handler masks IR5 on the third pass. Lowering the
  line then clears IRR bit 5.""",
  ["hw", "pic", "irq", "level"],
  "board: pc-imcr\ncpu: { count: 1 }",
  ivt(0x0b, "irq3") + ivt(0x0d, "irq5") + """  mov al, 0x20                 ; ELCR: IRQ5 level-triggered
  mov dx, 0x4d0
  out dx, al
""" + unmask(0xd7) + IDLE + handler(3, "  call show\n") + handler(5, """  inc byte [count]
  mov al, ' '
  out 0xe9, al
  mov al, [count]
  call hex8
  call show
  cmp byte [count], 3
  jb .keep
  in al, 0x21                  ; OCW1: mask IR5
  or al, 0x20
  out 0x21, al
.keep:
""") + """count: db 0
""" + PIC_REGS,
  """run: { reason: halted }
  console: "irq3 isr=08 irr=20\\nirq5 01 isr=20 irr=20\\nirq5 02 isr=20 irr=20\\nirq5 03 isr=20 irr=20\\n"
  pic:
    elcr: { irq5: 1, irq3: 0 }
    master: { isr: 0, imr: 0xf7, irr: { ir3: 0, ir5: 0 }, inputs: { ir3: 0, ir5: 0 } }""",
  steps=[RUN, irq([3, 5], "high"), RUN, irq([3, 5], "low")])

# Cascade through the slave ------------------------------------------------------------------------
write("hw_pic_cascade_slave",
  """Cascade: IRQ10 is the slave's IR2; the slave's INT drives the master's IR2, which outranks
  IR3, so with IRQ3 and IRQ10 raised together IRQ10 comes first, at vector 0x72 that the slave
  (base 0x70 from the BIOS) supplies on the second INTA. Its handler sees IR2 in service on both
  chips, sends the EOI to the slave, then to the master; IRQ3 follows.""",
  ["hw", "pic", "irq", "cascade"],
  "board: pc-legacy",
  ivt(0x0b, "irq3") + ivt(0x72, "irq10") + """  mov al, 0xfb                 ; slave IMR: IR2 (IRQ10) unmasked
  out 0xa1, al
""" + unmask(0xf3) + IDLE + handler(3, "  call nl\n") + """irq10:
  push ax
  push si
  mov si, m10
  call print
  call master_isr
  call hex8
  mov si, m10s
  call print
  mov al, 0x0b                 ; OCW3 to the slave: read ISR
  out 0xa0, al
  in al, 0xa0
  call hex8
  call nl
  mov al, 0x20                 ; non-specific EOI: slave first, then master
  out 0xa0, al
  out 0x20, al
  pop si
  pop ax
  iret
m10: db "irq10 at vector 0x72: master isr=", 0
m10s: db " slave isr=", 0
""" + PIC_REGS,
  """run: { reason: halted }
  console: "irq10 at vector 0x72: master isr=04 slave isr=04\\nirq3\\n"
  pic:
    master: { isr: 0, irr: { ir2: 0, ir3: 0 }, inputs: { ir2: 0 } }
    slave: { isr: 0, irr: { ir2: 0 }, imr: 0xfb, vector_base: 0x70 }""",
  steps=[RUN, irq([3, 10], "high"), RUN, irq([3, 10], "low")])

# IOAPIC path for ISA IRQs --------------------------------------------------------------------------
write("hw_ioapic_isa_irqs",
  """ISA IRQs through the I/O APIC (IRQ n -> pin n) with the 8259 fully masked: pin 3 edge at
  vector 0x63, pin 10 level at vector 0x5A, both fixed to APIC ID 0. IRQ3 and IRQ10 rise together;
  the local APIC serves the higher vector first (not the 8259 order, where IRQ10 would win). The
  level entry shows Remote IRR while in service; after the EOI broadcast the IOAPIC sends it again
  because the line is still high, until the handler masks the entry. The 8259 still latches both
  requests in IRR behind its masks.""",
  ["hw", "ioapic", "lapic", "irq", "level"],
  "board: pc-ioapic\ncpu: { count: 1 }",
  ivt(0x63, "vec63") + ivt(0x5a, "vec5a") + """  mov al, 0xff                 ; 8259: everything masked
  out 0x21, al
  mov cl, 0x16                 ; pin 3: vector 0x63, fixed, edge, high, physical, unmasked
  mov ebx, 0x00000063
  call iowr
  mov cl, 0x17                 ; destination APIC ID 0
  xor ebx, ebx
  call iowr
  mov cl, 0x24                 ; pin 10: vector 0x5a, fixed, level, high, physical, unmasked
  mov ebx, 0x0000805a
  call iowr
  mov cl, 0x25
  xor ebx, ebx
  call iowr
""" + IDLE + """vec63:
  pushad
  mov si, m63
  call print
  mov al, 0x0a                 ; 8259 IRR, master then slave
  out 0x20, al
  in al, 0x20
  and al, 0xfe                 ; IR0: the BIOS's PIT tick
  call hex8
  mov al, '/'
  out 0xe9, al
  mov al, 0x0a
  out 0xa0, al
  in al, 0xa0
  call hex8
  jmp eoi
vec5a:
  pushad
  inc byte [count]
  mov si, m5a
  call print
  mov eax, 0xfec00000          ; read redirection entry 10, low dword
  mov ebx, 0x24
  call wr32
  mov al, 0x10
  call rd32
  call hex32
  cmp byte [count], 2
  jb eoi
  mov cl, 0x24
  mov ebx, 0x0001805a          ; mask the entry
  call iowr
eoi:
  call nl
  mov eax, 0xfee000b0          ; local APIC EOI
  xor ebx, ebx
  call wr32
  popad
  iret
iowr:                          ; IOAPIC register CL = EBX
  push eax
  push ebx
  mov eax, 0xfec00000
  movzx ebx, cl
  call wr32
  pop ebx
  mov al, 0x10
  call wr32
  pop eax
  ret
count: db 0
m63: db "irq3 at vector 0x63, 8259 irr=", 0
m5a: db "irq10 at vector 0x5a, rte10=", 0
""",
  """run: { reason: halted }
  console: "irq3 at vector 0x63, 8259 irr=08/04\\nirq10 at vector 0x5a, rte10=0000C05A\\nirq10 at vector 0x5a, rte10=0000C05A\\n"
  ioapic:
    pins:
      3: { vector: 0x63, trigger: edge, masked: 0 }
      10: { vector: 0x5a, trigger: level, remote_irr: 0, masked: 1 }
  lapic:
    0: { isr_vectors: [], irr_vectors: [] }
  pic:
    master: { isr: 0, imr: 0xff }
    slave: { isr: 0 }""",
  steps=[RUN, irq([3, 10], "high"), RUN, irq([3, 10], "low")])

# An edge request dropped before the acknowledge: default IR7 -------------------------------------
write("hw_pic_edge_dropped_irq7",
  """An edge-triggered request must stay high until the first INTA (8259A datasheet, "IR
  triggering timing"). In virtual wire mode through IOAPIC pin 0 the 8259's INT is sent to the
  local APIC as an ExtINT message, which stays latched there. The scenario raises IRQ3 and lowers
  it before the CPU has run an instruction: the message is already on its way, but when the CPU's
  INTA reaches the 8259 the request is gone and it answers with its default IR7 (vector 0x0F)
  without setting ISR7. Raised again and held until serviced, IRQ3 is delivered normally.""",
  ["hw", "pic", "ioapic", "irq", "spurious"],
  "board: pc-ioapic\ncpu: { count: 1 }",
  ivt(0x0b, "irq3") + ivt(0x0f, "irq7") + """  mov eax, 0xfee00350          ; LVT LINT0: masked
  mov ebx, 0x00010700
  call wr32
  mov eax, 0xfec00000          ; IOAPIC pin 0: ExtINT, edge, high, to APIC ID 0, unmasked
  mov ebx, 0x10
  call wr32
  mov eax, 0xfec00010
  mov ebx, 0x00000700
  call wr32
""" + unmask(0xf3) + IDLE + handler(3, "  call nl\n") + """irq7:
  push ax
  push si
  mov si, m7
  call print
  call master_isr
  call hex8
  call nl
  pop si
  pop ax
  iret
m7: db "spurious irq7, isr=", 0
""" + PIC_REGS,
  """run: { reason: halted }
  console: "spurious irq7, isr=00\\nirq3\\n"
  pic:
    master: { isr: 0, irr: { ir3: 0, ir7: 0 } }
  lapic:
    0: { extint_pending: false, isr_vectors: [] }""",
  steps=[RUN, irq(3, "high"), irq(3, "low"), RUN, irq(3, "high"), RUN, irq(3, "low")])

# Special fully nested mode -----------------------------------------------------------------------
SLAVE_ISR = """slave_isr:                  ; AL = slave ISR
  mov al, 0x0b
  out 0xa0, al
  in al, 0xa0
  ret
slave_eoi:                  ; non-specific EOI to the slave; to the master too once the slave's
  mov al, 0x20              ; ISR is empty (what SFNM asks of software); ZF = slave ISR empty
  out 0xa0, al
  call slave_isr
  test al, al
  jnz .out
  mov al, 0x20
  out 0x20, al
  xor al, al
.out:
  ret
"""
write("hw_pic_sfnm",
  """Special fully nested mode (ICW4 SFNM on the master): while IRQ11 (slave IR3) is in service the
  master's IR2 is in service too, which in fully nested mode would block every further slave
  request. With SFNM a higher-priority slave request (IRQ10, slave IR2) still reaches the CPU and
  nests. Each handler sends a non-specific EOI to the slave and, as the datasheet asks, sends one
  to the master only when the slave's ISR is empty.""",
  ["hw", "pic", "irq", "cascade"],
  "board: pc-legacy",
  ivt(0x72, "irq10") + ivt(0x73, "irq11") + """  mov al, 0x11                 ; master: ICW1, vectors 0x08, slave on IR2
  out 0x20, al
  mov al, 0x08
  out 0x21, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x11                 ; ICW4: SFNM, 8086 mode
  out 0x21, al
  mov al, 0xf3                 ; slave IMR: IRQ10 and IRQ11 unmasked
  out 0xa1, al
""" + unmask(0xfb) + IDLE + """irq11:
  push ax
  push si
  mov si, m11in
  call print
  sti
  hlt                          ; the scenario raises IRQ10
  cli
  call slave_eoi
  mov si, m11out
  call print
  call slave_isr
  call hex8
  call nl
  pop si
  pop ax
  iret
irq10:
  push ax
  push si
  mov si, m10
  call print
  call slave_isr
  call hex8
  call slave_eoi
  mov si, m10b
  call print
  call slave_isr
  call hex8
  call nl
  pop si
  pop ax
  iret
m11in: db "irq11 in service, waiting", 10, 0
m11out: db "irq11 done, slave isr=", 0
m10: db "irq10 nested: slave isr=", 0
m10b: db ", master EOI deferred, slave isr=", 0
""" + SLAVE_ISR + PIC_REGS,
  """run: { reason: halted }
  console: "irq11 in service, waiting\\nirq10 nested: slave isr=0C, master EOI deferred, slave isr=08\\nirq11 done, slave isr=00\\n"
  pic:
    master: { sfnm: true, isr: 0, imr: 0xfb }
    slave: { isr: 0, irr: { ir2: 0, ir3: 0 } }""",
  steps=[RUN, irq(11, "high"), RUN, irq(10, "high"), RUN, irq([10, 11], "low")])
