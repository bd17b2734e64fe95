// The MP table of an APIC board carries every CPU's signature and feature flags (MP spec 1.4
// table 4-4) exactly as the model's own CPUID leaf 1 reports them; CPUs without CPUID carry the
// reset EDX signature.
import assert from "node:assert/strict";
import { x86Models } from "../arch/x86/models.ts";
import { findMpTables } from "../hw/firmware.ts";
import type { Machine } from "../hw/machine.ts";
import { Trace } from "../hw/trace.ts";
import { pcMachineProvider } from "./machine_provider.ts";
import type { MachineSection } from "./schema.ts";

Deno.test("MP processor entries carry CPUID.1 EAX/EDX of the model on pc-ioapic", () => {
  for (const model of ["pentium", "pentium4-xeon", "xeon-nocona", "opteron"]) {
    const leaf1 = x86Models[model].basicLeaves[1];
    const m = pcMachineProvider.build(
      { board: "pc-ioapic", cpu: { model, count: 2 } } as MachineSection,
      { trace: new Trace() },
    ) as unknown as Machine;
    const mp = findMpTables(m.memory);
    assert.ok(mp, model);
    assert.equal(mp.processors.length, 2, model);
    for (const p of mp.processors) {
      assert.equal(p.signature, leaf1[0], `${model} signature`);
      assert.equal(p.features >>> 0, leaf1[3] >>> 0, `${model} feature flags`);
      assert.notEqual(p.features, 0, model);
    }
  }
});

Deno.test("every model has MP signature/feature data; CPUs without CPUID use the reset EDX", () => {
  for (const [name, m] of Object.entries(x86Models)) {
    assert.equal(m.info.signature, m.signature, name);
    if (m.features.cpuid) {
      assert.equal(m.info.signature, m.basicLeaves[1][0], name);
      assert.equal(m.info.featureFlags, m.basicLeaves[1][3], name);
    } else {
      assert.ok(m.info.featureFlags !== undefined && (m.info.featureFlags & ~1) === 0, name);
    }
  }
  assert.equal(x86Models.i386.info.signature, 0x0308);
  assert.equal(x86Models.i486.info.featureFlags, 1); // Intel486 DX: on-chip FPU
});
