import assert from "node:assert/strict";
import {
  boardsMarkdown,
  expectationsMarkdown,
  GENERATED_DOCS,
  KEY_NOTES,
  OVERRIDE_EXAMPLE,
} from "./gen_docs.ts";
import { boards, LVT_FIELDS, pcMachineProvider, REDIRECTION_FIELDS, Trace } from "../mod.ts";
import { CR0_FIELDS } from "../arch/x86/fields.ts";
import { IR_FIELDS } from "../hw/i8259.ts";
import { loadScenario } from "../runner/load.ts";

const root = new URL("../", import.meta.url);

/** The staleness message, with the first line that differs. */
function stale(file: string, committed: string, generated: string): string {
  const a = committed.split("\n"), b = generated.split("\n");
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `${file} is stale: run \`deno task docs\` (line ${i + 1}: committed ${
    JSON.stringify(a[i] ?? "<end>")
  }, generated ${JSON.stringify(b[i] ?? "<end>")})`;
}
const expectations = expectationsMarkdown();
const boardsText = boardsMarkdown();

Deno.test("docs/expectations.md is up to date (run `deno task docs`)", async () => {
  const committed = await Deno.readTextFile(new URL(GENERATED_DOCS.expectations, root));
  assert.ok(committed === expectations, stale("docs/expectations.md", committed, expectations));
});

Deno.test("docs/boards.md is up to date (run `deno task docs`)", async () => {
  const committed = await Deno.readTextFile(new URL(GENERATED_DOCS.boards, root));
  assert.ok(committed === boardsText, stale("docs/boards.md", committed, boardsText));
});

Deno.test("the expectations reference lists every field of the real field tables", () => {
  const cases: [string, Readonly<Record<string, unknown>>][] = [
    ["cpu: cr0", CR0_FIELDS],
    ["lapic: lvt_timer", LVT_FIELDS],
    ["ioapic: pins", REDIRECTION_FIELDS],
    ["pic: irr, isr, imr", IR_FIELDS],
  ];
  for (const [heading, fields] of cases) {
    const at = expectations.indexOf(`### Fields: ${heading}`);
    assert.ok(at >= 0, `no field table for ${heading}`);
    const section = expectations.slice(at, expectations.indexOf("\n### ", at + 1));
    for (const name of Object.keys(fields)) {
      assert.ok(section.includes(`| \`${name}\` |`), `${heading}: field ${name} missing`);
    }
  }
  assert.match(expectations, /`ExtINT` \(7\)/);
  for (const key of ["cpu", "pic", "imcr", "pit", "lapic", "ioapic", "kernel", "memory_map"]) {
    assert.ok(expectations.includes(`\n## ${key}\n`), `section ${key} missing`);
  }
});

Deno.test("every hand-written key note names a key the models really have", () => {
  for (const path of Object.keys(KEY_NOTES)) {
    assert.ok(expectations.includes(`| \`${path}\` |`), `KEY_NOTES: no state key ${path}`);
  }
});

Deno.test("the boards reference has a section for every built-in board", () => {
  for (const name of Object.keys(boards)) {
    assert.ok(boardsText.includes(`\n## ${name}\n`), `board ${name} missing`);
  }
});

Deno.test("the machine override example of docs/boards.md loads and builds", async () => {
  const text = `apiVersion: kexec-scenario/v1
name: override-example
${OVERRIDE_EXAMPLE}steps:
  - power_on: { image: { format: bootsector, asm: "hlt" } }
expect: { run: { reason: halted } }
`;
  // The commented-out explicit e820 list too.
  const explicit = text.replace(/\n {2}memory: .*\n {2}# memory: /, "\n  memory: ");
  assert.notEqual(explicit, text);
  for (const yaml of [text, explicit]) {
    const file = await loadScenario(yaml);
    const machine = pcMachineProvider.build(file.cases[0].scenario.machine, {
      trace: new Trace(),
    });
    const state = machine.snapshot() as { machine: { cpus: number; board: string } };
    assert.equal(state.machine.cpus, 4);
    assert.equal(state.machine.board, "pc-ioapic");
  }
});
