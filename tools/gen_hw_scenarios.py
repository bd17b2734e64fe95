#!/usr/bin/env python3
"""Generate scenarios/hw_*.yaml (bare-metal boot-sector scenarios of the PC machine).

Each boot sector is the scenario's own code (tools/hw_scenarios_defs.py) followed by the shared
library tools/hw_scenarios_lib.asm (unreal-mode MMIO access, console printing). Run from the
repository root:  python3 tools/gen_hw_scenarios.py
"""
import os, sys, textwrap
HERE = os.path.dirname(os.path.abspath(__file__))
LIB = open(os.path.join(HERE, "hw_scenarios_lib.asm")).read()
OUT = os.path.join(HERE, "..", "scenarios")

PRE = """bits 16
org 0x7c00
  cli
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7c00
  call unreal
"""
PIT_1KHZ = """  mov al, 0x34                ; PIT channel 0, lobyte/hibyte, mode 2
  out 0x43, al
  mov al, 0xa9                ; 1193 input clocks = 1 ms
  out 0x40, al
  mov al, 0x04
  out 0x40, al
"""
def ivt(vec, label):
    return f"  mov word [{vec:#x}*4], {label}\n  mov word [{vec:#x}*4+2], 0\n"
EXIT = "  mov al, 0\n  out 0xf4, al\n  cli\n  hlt\n"
DELAY = """  mov ecx, {n}                ; busy wait ({what})
dly{k}:
  dec ecx
  jnz dly{k}
"""
def delay(n, k, what): return DELAY.format(n=n, k=k, what=what)

def fix(e):
    ls = e.strip('\n').split('\n')
    return '\n'.join([ls[0]] + [l[2:] for l in ls[1:]])

def write(name, desc, tags, machine, code, expect, run="{ until: exit, max_instructions: 5_000_000 }",
          matrix=None, steps=None):
    """steps: the steps after power_on, one YAML flow entry each (default: one run step with `run`).
    Scenarios that drive ISA IRQ lines alternate `run: { until: halt ... }` with `irq:` steps while
    the guest waits in HLT."""
    asm = PRE + code + LIB
    body = textwrap.indent(asm, " " * 10)
    desc = textwrap.fill(" ".join(desc.split()), 96, initial_indent="  ", subsequent_indent="  ")
    y = f"""# yaml-language-server: $schema=../schema/scenario.v1.json
apiVersion: kexec-scenario/v1
name: {name.replace('_', '-')}
description: >
{desc}
tags: [{', '.join(tags)}]
{"matrix:" + chr(10) + "  " + matrix + chr(10) if matrix else ""}machine:
{textwrap.indent(machine.strip(), '  ')}
steps:
  - power_on:
      image:
        format: bootsector
        asm: |
{body}{"".join(f"  - {st}{chr(10)}" for st in (steps or [f"run: {run}"]))}expect:
{textwrap.indent(fix(expect), '  ')}
"""
    path = os.path.join(OUT, name + ".yaml")
    open(path, "w").write(y)
    WRITTEN.append(path)

WRITTEN = []

exec(open(os.path.join(HERE, "hw_scenarios_defs.py")).read())

# The committed scenarios are `deno fmt`-clean (`deno task check`), so format what was written.
import subprocess
subprocess.run(["deno", "fmt", "--quiet", *WRITTEN], check=True)
