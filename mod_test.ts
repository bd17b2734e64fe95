import assert from "node:assert/strict";
import * as root from "./mod.ts";
import * as hw from "./hw/mod.ts";
import * as x86 from "./arch/x86/mod.ts";
import * as kernel from "./kernel/mod.ts";
import * as images from "./kernel/image/mod.ts";
import { KernelModel } from "./kernel/model.ts";
import { APIC_BASE_FIELDS as LAPIC_APIC_BASE } from "./hw/lapic.ts";
import { APIC_BASE_FIELDS as CPU_APIC_BASE } from "./arch/x86/fields.ts";
import config from "./deno.json" with { type: "json" };

const entries: [string, Record<string, unknown>][] = [
  ["./hw", hw],
  ["./x86", x86],
  ["./kernel", kernel],
  ["./images", images],
];

Deno.test("mod.ts exports the main value of every concept", () => {
  const expected = [
    // runner
    "runScenarioFile",
    "registerScenarios",
    "registerKernelModel",
    "pcMachineProvider",
    // machines and boards
    "buildMachine",
    "boards",
    "BoardError",
    "Machine",
    "MemoryMap",
    // devices and field tables
    "I8259Pair",
    "IR_FIELDS",
    "Imcr",
    "Pit8254",
    "DebugPort",
    "LocalApic",
    "LVT_FIELDS",
    "IoApic",
    "REDIRECTION_FIELDS",
    "ApicBus",
    "findMpTables",
    // x86
    "createX86Cpu",
    "x86CpuFactory",
    "x86Models",
    "CR0_FIELDS",
    "assemble",
    "AsmError",
    "disassemble",
    "disassembleText",
    "createX86KexecArch",
    // images
    "parseBzImage",
    "buildBzImage",
    "parseElf",
    "buildElf",
    "parseDol",
    "buildDol",
    "ImageFormatError",
    "loadWithKexecTools",
    // kernel
    "LinuxKernelModel",
    "KernelConfig",
  ];
  const missing = expected.filter((name) => !(name in root));
  assert.deepEqual(missing, []);
});

/** Values an entry point exports under another name in mod.ts (a clash between layers). */
const RENAMED: Record<string, Record<string, string>> = {};

Deno.test("every value of an entry point is the same object from mod.ts", () => {
  for (const [entry, mod] of entries) {
    for (const [entryName, value] of Object.entries(mod)) {
      const name = RENAMED[entry]?.[entryName] ?? entryName;
      assert.ok(name in root, `${entry} exports ${name}, mod.ts does not`);
      assert.equal((root as Record<string, unknown>)[name], value, `${entry}: ${name} differs`);
    }
  }
});

Deno.test("names two layers share are resolved explicitly", () => {
  assert.equal(root.LinuxKernelModel, KernelModel);
  assert.ok(!("KernelModel" in root), "KernelModel is the runner's interface (a type only)");
  // One MSR, one field table: the CPU's `apic_base` and the local APIC's use the same names.
  assert.equal(root.APIC_BASE_FIELDS, LAPIC_APIC_BASE);
  assert.equal(CPU_APIC_BASE, LAPIC_APIC_BASE);
});

Deno.test("deno.json exports map every entry point", () => {
  assert.deepEqual(config.exports, {
    ".": "./mod.ts",
    "./hw": "./hw/mod.ts",
    "./x86": "./arch/x86/mod.ts",
    "./kernel": "./kernel/mod.ts",
    "./images": "./kernel/image/mod.ts",
    "./ppc": "./arch/ppc/mod.ts",
  });
  assert.ok(
    config.tasks.check.includes(Object.values(config.exports).map((p) => p.slice(2)).join(" ")),
    "deno task check runs deno doc --lint on every entry point",
  );
});
