#!/usr/bin/env python3
"""Generate 8259A test vectors with QEMU's qtest protocol (reference/hardware.md §8).

Usage (from the repository root; needs qemu-system-i386, e.g. `apt-get install qemu-system-x86`):

    python3 tools/qemu_i8259_vectors.py > hw/testdata/i8259_qemu.json

Each scenario starts a fresh `qemu-system-i386 -S -machine pc -accel tcg -qtest stdio` (the CPU
is stopped, so no guest code runs and nothing performs INTA: the poll command stands in for the
acknowledge). IRQ lines are driven with `set_irq_in` on the two isa-i8259 devices, found by QMP
qom-list at start-up. The script records every `inb` result; hw/i8259_test.ts replays the same
operations on the model and compares.

Where the 8259A datasheet and QEMU disagree, the scenario gives the datasheet value next to the
recorded QEMU one, with the reason; the model is checked against the datasheet value there.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

QEMU = "qemu-system-i386"
BASE_ARGS = ["-S", "-machine", "pc", "-accel", "tcg", "-display", "none", "-nodefaults"]


def out(port, value):
    return ["out", port, value]


def inb(port, datasheet=None, why=None):
    op = ["in", port, None]
    if datasheet is not None:
        op += [datasheet, why]
    return op


def irq(n, level):
    return ["irq", n, 1 if level else 0]


def init(master=0x20, slave=0x28, icw4=0x01, slave_icw4=0x01, icw1=0x11):
    return [
        out(0x20, icw1), out(0x21, master), out(0x21, 0x04), out(0x21, icw4),
        out(0xA0, icw1), out(0xA1, slave), out(0xA1, 0x02), out(0xA1, slave_icw4),
    ]


def poll(port=0x20, datasheet=None, why=None):
    return [out(port, 0x0C), inb(port, datasheet, why)]


def read_irr(port=0x20):
    return [out(port, 0x0A), inb(port)]


def read_isr(port=0x20, datasheet=None, why=None):
    return [out(port, 0x0B), inb(port, datasheet, why)]


EDGE_WHY = ("datasheet: an edge request must stay high until acknowledged (IRR follows the "
            "line); QEMU latches the edge in IRR until INTA")
SMM_WHY = ("datasheet: in special mask mode a non-specific EOI does not clear a masked ISR bit; "
           "QEMU clears the highest ISR bit regardless")
LTIM_WHY = "QEMU 7.2 ignores ICW1 LTIM (the LTIM patch landed in QEMU 8.0)"

SCENARIOS = [
    ("linux init_8259A then masks", init(0x30, 0x38) + [
        out(0x21, 0xFB), out(0xA1, 0xFF), inb(0x21), inb(0xA1), inb(0x20), inb(0xA0),
        out(0x21, 0xFF), inb(0x21),
    ]),
    ("ICW sequences with and without ICW3/ICW4", [
        out(0x20, 0x13), out(0x21, 0x08), out(0x21, 0x01), out(0x21, 0x5A), inb(0x21),
        out(0x20, 0x12), out(0x21, 0x08), out(0x21, 0xA5), inb(0x21),
        out(0x20, 0x10), out(0x21, 0x08), out(0x21, 0x04), out(0x21, 0x3C), inb(0x21),
    ]),
    ("IRR latching, masking, poll acknowledge and EOI", init() + [
        out(0x21, 0x20), irq(3, 1), irq(5, 1), *read_irr(), *poll(), *read_isr(),
        *read_irr(), out(0x20, 0x20), *read_isr(), out(0x21, 0x00), *poll(), *read_isr(),
        out(0x20, 0x65), *read_isr(), *poll(),
    ]),
    ("fully nested priority and preemption", init() + [
        out(0x21, 0x00), irq(4, 1), *poll(), irq(6, 1), *poll(), irq(1, 1), *poll(),
        *read_isr(), out(0x20, 0x20), *read_isr(), out(0x20, 0x20), *poll(), *read_isr(),
    ]),
    ("set priority and rotate on EOI", init() + [
        out(0x21, 0x00), out(0x20, 0xC4), irq(1, 1), irq(3, 1), irq(6, 1), *poll(),
        out(0x20, 0xA0), *poll(), out(0x20, 0xE1), *poll(), *read_isr(), out(0x20, 0x60),
        *read_isr(), out(0x20, 0x66), *read_isr(),
    ]),
    ("every OCW2 command on ISR", init() + [
        out(0x21, 0x00), irq(6, 1), *poll(), irq(4, 1), *poll(), irq(1, 1), *poll(),
        *read_isr(), out(0x20, 0x40), *read_isr(), out(0x20, 0x20), *read_isr(),
        out(0x20, 0xC7), *read_isr(), out(0x20, 0xA0), *read_isr(), out(0x20, 0x80),
        out(0x20, 0x00), out(0x20, 0x65), *read_isr(), out(0x20, 0xE6), *read_isr(),
        irq(3, 0), irq(3, 1), irq(5, 1), *poll(), out(0x20, 0x20), *poll(),
    ]),
    ("AEOI and rotate in AEOI", init(icw4=0x03) + [
        out(0x21, 0x00), irq(4, 1), irq(6, 1), *poll(), *read_isr(), *poll(),
        out(0x20, 0x80), irq(0, 0), irq(0, 1), irq(7, 1), *poll(), *read_isr(), *poll(),
    ]),
    ("special mask mode", init() + [
        out(0x21, 0x00), irq(3, 1), *poll(), irq(5, 1), *read_irr(), *poll(),
        out(0x21, 0x08), *poll(), out(0x20, 0x68), *poll(), *read_isr(), out(0x20, 0x20),
        *read_isr(0x20, 0x08, SMM_WHY), out(0x20, 0x48), out(0x20, 0x63),
        *read_isr(0x20, 0x00, SMM_WHY),
    ]),
    ("level triggering through the ELCR", init() + [
        out(0x4D0, 0xFF), out(0x4D1, 0xFF), inb(0x4D0), inb(0x4D1), out(0x4D0, 0x20),
        out(0x4D1, 0x02), out(0x21, 0x00), out(0xA1, 0x00), irq(5, 1), *read_irr(), *poll(),
        *read_irr(), out(0x20, 0x20), *poll(), out(0x20, 0x20), irq(5, 0), *read_irr(),
        *poll(), irq(9, 1), *read_irr(0xA0), *poll(0xA0), out(0xA0, 0x20), *read_irr(0xA0),
    ]),
    ("edge request removed before acknowledge", init() + [
        out(0x21, 0x00), irq(4, 1), irq(4, 0),
        out(0x20, 0x0A), inb(0x20, 0x00, EDGE_WHY),
        *poll(0x20, 0x00, EDGE_WHY),
        irq(4, 1), *poll(0x20, 0x84, "follows from the request QEMU kept latched above"),
        out(0x20, 0x20),
        *poll(0x20, 0x00, "datasheet: a line held high after the acknowledge needs a new edge"),
    ]),
    ("ICW1 LTIM level mode", [
        out(0x20, 0x19), out(0x21, 0x20), out(0x21, 0x04), out(0x21, 0x01), out(0x21, 0x00),
        irq(1, 1), *poll(), out(0x20, 0x20),
        out(0x20, 0x0A), inb(0x20, 0x02, LTIM_WHY),
        *poll(0x20, 0x81, LTIM_WHY),
    ]),
    ("cascade seen through master and slave polls", init() + [
        out(0x21, 0x00), out(0xA1, 0x00), irq(11, 1), irq(14, 1), *read_irr(), *read_irr(0xA0),
        *poll(), *read_isr(), *poll(0xA0), *read_isr(0xA0), *read_irr(),
        out(0xA0, 0x20), *read_irr(), out(0x20, 0x20), *poll(), *poll(0xA0),
    ]),
    ("poll with read-register bits", init() + [
        out(0x21, 0x00), irq(3, 1), irq(6, 1), out(0x20, 0x0F), inb(0x20),
        inb(0x20, 0x40, "datasheet: poll overrides a read register command set in the same OCW3; "
           "QEMU also selects ISR"),
    ]),
    ("special fully nested mode", init(icw4=0x11) + [
        out(0x21, 0x00), out(0xA1, 0x00), irq(12, 1), *poll(), *poll(0xA0), irq(9, 1),
        *poll(), *poll(0xA0), *read_isr(0xA0), irq(3, 1),
        *poll(0x20, 0x00, "datasheet: SFNM only unblocks the cascade level; QEMU ignores ISR2 "
              "entirely so lower master levels get through"),
    ]),
]


class Qtest:
    def __init__(self):
        self.dir = tempfile.mkdtemp()
        qmp = os.path.join(self.dir, "qmp.sock")
        self.proc = subprocess.Popen(
            [QEMU, *BASE_ARGS, "-qmp", f"unix:{qmp},server=on,wait=off", "-qtest", "stdio"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(100):
            if os.path.exists(qmp):
                break
            time.sleep(0.05)
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(qmp)
        self.qmp = sock.makefile("rw")
        self.qmp.readline()
        self.qmp_cmd("qmp_capabilities")
        pics = []
        for e in self.qmp_cmd("qom-list", path="/machine/unattached"):
            if e["type"] == "child<isa-i8259>":
                pics.append("/machine/unattached/" + e["name"])
        # Creation order: master first, then slave.
        pics.sort(key=lambda p: int(p.split("[")[1].rstrip("]")))
        assert len(pics) == 2, pics
        self.pics = pics

    def qmp_cmd(self, name, **args):
        self.qmp.write(json.dumps({"execute": name, "arguments": args} if args else
                                  {"execute": name}) + "\n")
        self.qmp.flush()
        while True:
            r = json.loads(self.qmp.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(r["error"])

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        while True:
            reply = self.proc.stdout.readline().strip()
            if reply.startswith("IRQ"):
                continue
            if not reply.startswith("OK"):
                raise RuntimeError(f"{line}: {reply}")
            return reply

    def close(self):
        self.proc.kill()
        self.proc.wait()


def run(ops):
    q = Qtest()
    recorded = []
    try:
        for op in ops:
            kind = op[0]
            if kind == "out":
                q.send(f"outb {op[1]:#x} {op[2]:#x}")
                recorded.append(op)
            elif kind == "irq":
                n = op[1]
                dev = q.pics[0] if n < 8 else q.pics[1]
                q.send(f"set_irq_in {dev} unnamed-gpio-in {n & 7} {op[2]}")
                recorded.append(op)
            else:
                value = int(q.send(f"inb {op[1]:#x}").split()[1], 16)
                rec = ["in", op[1], value]
                if len(op) > 3:
                    rec += [op[3], op[4]]
                recorded.append(rec)
    finally:
        q.close()
    return recorded


def main():
    version = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout
    doc = {
        "generator": "tools/qemu_i8259_vectors.py",
        "qemu": version.splitlines()[0],
        "command": " ".join([QEMU, *BASE_ARGS, "-qtest", "stdio"]),
        "format": "ops: [out, port, value] | [irq, line, level] | "
                  "[in, port, qemu_value, datasheet_value?, reason?]",
        "scenarios": [{"name": name, "ops": run(ops)} for name, ops in SCENARIOS],
    }
    # One operation per line keeps the file readable and its diffs small.
    lines = ["{"]
    for key in ("generator", "qemu", "command", "format"):
        lines.append(f' {json.dumps(key)}: {json.dumps(doc[key])},')
    lines.append(' "scenarios": [')
    for i, sc in enumerate(doc["scenarios"]):
        lines.append(f'  {{"name": {json.dumps(sc["name"])}, "ops": [')
        ops = [f'   {json.dumps(op)}' for op in sc["ops"]]
        lines.append(",\n".join(ops))
        lines.append("  ]}" + ("," if i + 1 < len(doc["scenarios"]) else ""))
    lines.append(" ]")
    lines.append("}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
