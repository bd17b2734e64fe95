// The `irq` step: schema errors (located, exit 2), the handler driving the machine's ISA lines,
// and one run on the real PC machine (two IRQs raised at the same instant, serviced by priority).
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "./cli.ts";
import { loadScenario } from "./load.ts";
import { pcMachineProvider } from "./machine_provider.ts";
import { runScenario } from "./run.ts";
import { type MachineProvider, registerMachineProvider } from "./steps.ts";
import { fakeProvider } from "./testdata/fake_machine.ts";

registerMachineProvider(fakeProvider);
const SETUP = new URL("./testdata/fake_setup.ts", import.meta.url).href;

const head = (irq: string) =>
  `apiVersion: kexec-scenario/v1
name: t
machine: { board: fake }
steps:
  - power_on: { image: { format: bootsector, asm: "hello\\n" } }
  - irq: ${irq}
  - run: { until: halt, max_instructions: 100 }
expect: { console: "hello\\n" }
`;

function recordingProvider(calls: [number, boolean][]): MachineProvider {
  return {
    build(config, options) {
      const m = fakeProvider.build(config, options);
      return Object.assign(m, {
        setIrq: (irq: number, level: boolean) => void calls.push([irq, level]),
      });
    },
    assemble: fakeProvider.assemble,
  };
}

async function run(text: string, provider: MachineProvider = fakeProvider) {
  let f;
  try {
    f = await loadScenario(text, { file: "t.yaml" });
  } catch (e) {
    return { status: "error", error: e as Error, failures: [] };
  }
  return await runScenario(f.cases[0], { provider });
}

Deno.test("irq: line/lines and level drive the machine's ISA lines in order", async () => {
  const table: [string, [number, boolean][]][] = [
    ["{ line: 3, level: high }", [[3, true]]],
    ["{ line: 0x0f, level: low }", [[15, false]]],
    ["{ lines: [4, 3, 10], level: high }", [[4, true], [3, true], [10, true]]],
    ["{ lines: [1, 13], level: low }", [[1, false], [13, false]]],
  ];
  for (const [irq, want] of table) {
    const calls: [number, boolean][] = [];
    const r = await run(head(irq), recordingProvider(calls));
    assert.equal(r.status, "passed", irq + " " + r.error?.message);
    assert.deepEqual(calls, want, irq);
  }
});

Deno.test("irq: bad arguments are located load errors", async () => {
  const table: [string, RegExp][] = [
    ["{ line: 16, level: high }", /^t\.yaml:6:18: steps\[1\]\.irq\.line: .*0x10.*0\.\.15/],
    ["{ line: 2, level: high }", /^t\.yaml:6:18: steps\[1\]\.irq\.line: .*cascade.*IRQ9/],
    ["{ line: 0, level: high }", /^t\.yaml:6:18: steps\[1\]\.irq\.line: .*PIT/],
    ["{ lines: [3, 20], level: high }", /^t\.yaml:6:23: steps\[1\]\.irq\.lines\[1\]: /],
    ["{ line: 3, lvel: high }", /steps\[1\]\.irq\.lvel: Unknown key.*did you mean "level"/],
    ["{ line: 3, level: pulse }", /^t\.yaml:6:28: steps\[1\]\.irq\.level: .*high.*low/],
    ["{ level: high }", /^t\.yaml:6:10: steps\[1\]\.irq: Missing key: line or lines/],
    ["{ line: 3, lines: [4], level: high }", /steps\[1\]\.irq: Both line and lines are given/],
    ["{ irq: 3, level: high }", /steps\[1\]\.irq\.irq: Unknown key/],
  ];
  for (const [irq, re] of table) {
    const r = await run(head(irq), recordingProvider([]));
    assert.equal(r.status, "error", irq);
    assert.match(r.error!.message, re, irq);
  }
});

Deno.test("irq: before power_on, or on a machine without ISA lines, is a located error", async () => {
  const early = head("{ line: 3, level: high }").replace(
    / {2}- power_on.*\n {2}- irq: (.*)\n/,
    '  - irq: $1\n  - power_on: { image: { format: bootsector, asm: "hello\\\\n" } }\n',
  );
  const r = await run(early, recordingProvider([]));
  assert.equal(r.status, "error");
  assert.match(r.error!.message, /^t\.yaml:5:10: irq: there is no machine yet/);
  const r2 = await run(head("{ line: 3, level: high }"), fakeProvider);
  assert.equal(r2.status, "error");
  assert.match(r2.error!.message, /^t\.yaml:6:10: irq: this machine has no ISA IRQ lines/);
});

Deno.test("irq: a misspelled or out-of-range line exits 2 from the CLI with file:line:col", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [irq, re] of [
        ["{ line: 99, level: high }", /bad\.yaml:6:18: steps\[1\]\.irq\.line: /],
        ["{ lnie: 3, level: high }", /bad\.yaml:6:\d+: steps\[1\]\.irq\.lnie: Unknown key/],
      ] as const
    ) {
      const file = join(dir, "bad.yaml");
      await Deno.writeTextFile(file, head(irq));
      let out = "";
      const code = await main([file], { stdout: (s) => (out += s), stderr: (s) => (out += s) }, {
        NO_COLOR: "1",
      }, { setupModule: SETUP });
      assert.equal(code, 2, out);
      assert.match(out, re);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("irq: on the PC, two lines raised at once are serviced by 8259 priority", async () => {
  const text = `apiVersion: kexec-scenario/v1
name: pc
machine: { board: pc-legacy }
steps:
  - power_on:
      image:
        format: bootsector
        asm: |
          bits 16
          org 0x7c00
            cli
            xor ax, ax
            mov ds, ax
            mov word [0x0b*4], irq3
            mov word [0x0b*4+2], 0
            mov word [0x0c*4], irq4
            mov word [0x0c*4+2], 0
            mov al, 0xe7
            out 0x21, al
            sti
          idle:
            hlt
            jmp idle
          irq3:
            mov al, '3'
            jmp out
          irq4:
            mov al, '4'
          out:
            out 0xe9, al
            mov al, 0x20
            out 0x20, al
            iret
  - run: { until: halt, max_instructions: 1000 }
  - irq: { lines: [4, 3], level: high }
  - run: { until: halt, max_instructions: 1000 }
  - irq: { lines: [3, 4], level: low }
expect:
  console: "34"
  pic: { master: { irr: { ir3: 0, ir4: 0 }, isr: 0, imr: 0xe7, inputs: { ir3: 0, ir4: 0 } } }
  run: { reason: halted }
`;
  const r = await run(text, pcMachineProvider);
  assert.equal(r.status, "passed", r.error?.message ?? JSON.stringify(r.failures));
});
