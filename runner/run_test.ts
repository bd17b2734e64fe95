import assert from "node:assert/strict";
import { loadScenario } from "./load.ts";
import { formatResult, runScenario } from "./run.ts";
import { type KernelModel, StepError } from "./steps.ts";
import { fakeProvider } from "./testdata/fake_machine.ts";

const HEAD = `apiVersion: kexec-scenario/v1
name: t
machine: { board: fake }
steps:
  - power_on:
      image:
        format: bootsector
        asm: |
          hello
  - run: { until: halt, max_instructions: 100 }
`;

async function run(text: string, kernel?: KernelModel) {
  const f = await loadScenario(text, { file: "t.yaml" });
  return await runScenario(f.cases[0], { provider: fakeProvider, kernel });
}

Deno.test("a scenario whose expectations hold passes", async () => {
  const r = await run(
    HEAD + `expect:
  console: "hello\\n"
  cpu:
    0: { state: halted, eip: 0x7c06, cr0: { pe: 1, pg: 0 }, retired: 7, halted: true }
  lapic: { 0: { lvt0: { delivery: ExtINT, masked: true, vector: 0 } } }
  pic: { master: { imr: { value: 0x0e, mask: 0x0f } } }
  list: [1, any]
  run: { reason: halted, instructions: 7 }
  memory:
    - { at: 0x7c00, bytes: "68 65 6c 6c 6f 0a" }
    - { at: 0x7000, u32: 0x12345678 }
    - { at: 0x7000, u8: 0x78 }
    - { at: 0x7002, u16: { value: 0x1200, mask: 0xff00 } }
    - { at: 0x7008, u64: 0xfedcba9876543210 }
    - { at: 0x7010, zero: 0xbf0 }
    - { at: 0x7c00, sha256: { size: 6, value: 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 } }
`,
  );
  assert.equal(r.status, "passed", formatResult(r));
  assert.equal(r.instructions, 7);
});

Deno.test("each kind of mismatch names path, position, expected and actual in hex", async () => {
  const r = await run(
    HEAD + `expect:
  console: { contains: "bye" }
  cpu:
    0: { state: running, eip: 0x7c00, cr0: { pg: 1 } }
  lapic: { 0: { lvt0: { delivery: Fixed, masked: false } } }
  pic: { master: { imr: { value: 0x01, mask: 0x0f } } }
  memory:
    - { at: 0x7c00, bytes: "68 65 6c 6c 6f 21" }
    - { at: 0x7000, u32: 0x12345679 }
    - { at: 0x7c00, zero: 16 }
    - { at: 0x7c00, sha256: { size: 6, value: "0000000000000000000000000000000000000000000000000000000000000000" } }
`,
  );
  assert.equal(r.status, "failed");
  const got = r.failures.map((
    f,
  ) => [`${f.position.line}:${f.position.column}`, f.path, f.expected, f.actual]);
  assert.deepEqual(got, [
    ["12:24", "console.contains", '"bye"', '"hello\\n"'],
    ["14:17", "cpu[0].state", "running", "halted"],
    ["14:31", "cpu[0].eip", "0x00007c00", "0x00007c06"],
    ["14:50", "cpu[0].cr0.pg", "0x1", "0x0"],
    ["15:35", "lapic[0].lvt0.delivery", "0x0 (Fixed)", "0x7 (ExtINT)"],
    ["15:50", "lapic[0].lvt0.masked", "0x0", "0x1"],
    ["16:25", "pic.master.imr", "0x01", "0x0e"],
    ["18:28", "memory[0].bytes", "+5: 21", "+5: 0a"],
    ["19:26", "memory[1].u32", "0x12345679", "0x12345678"],
    ["20:27", "memory[2].zero", "00", "68 65 6c 6c 6f 0a 00 00 00 00 00 00 00 00 00 00"],
    [
      "21:29",
      "memory[3].sha256",
      "0".repeat(64),
      "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
    ],
  ]);
  const text = formatResult(r);
  assert.match(text, /^t \(t\.yaml\) failed:\n/);
  assert.match(
    text,
    / {2}t\.yaml:15:50: lapic\[0\]\.lvt0\.masked: Mismatch\n {6}expected: 0x0\n {6}actual: {3}0x1\n/,
  );
  assert.match(text, /last trace events:\n {4}\[t=0ns i=0 ----\] step: power_on\n/);
  assert.match(text, /fake: halted/);
});

Deno.test("expectations that cannot be evaluated are errors with a suggestion", async () => {
  const table: [string, RegExp][] = [
    [
      "  lapci: { 0: {} }\n",
      /^t\.yaml:12:3: expect\.lapci: the machine's state has no lapci \(did you mean "lapic"\?\)/,
    ],
    [
      "  cpu: { 0: { eipp: 1 } }\n",
      /^t\.yaml:12:15: expect\.cpu\[0\]\.eipp: the state has no key eipp \(did you mean "eip"\?\)/,
    ],
    [
      "  cpu: { 0: { cr0: { pgg: 1 } } }\n",
      /expect\.cpu\[0\]\.cr0\.pgg: unknown field pgg \(did you mean "pg"\?\): the fields are pe, pg/,
    ],
    [
      "  lapic: { 0: { lvt0: { delivery: ExtIMT } } }\n",
      /expect\.lapic\[0\]\.lvt0\.delivery: "ExtIMT" is not a value of this field: expected one of Fixed, SMI, NMI, INIT, ExtINT \(did you mean "ExtINT"\?\)/,
    ],
    ['  console: { regex: "(" }\n', /expect\.console\.regex: invalid regular expression/],
    ["  cpu: { 0: { eip: { pe: 1 } } }\n", /expect\.cpu\[0\]\.eip: 0x00007c06 has no named fields/],
  ];
  for (const [exp, re] of table) {
    const r = await run(HEAD + "expect:\n" + exp);
    assert.equal(r.status, "error", exp);
    assert.match(r.error!.message, re);
  }
});

Deno.test("a run that spends its budget before halting fails clearly", async () => {
  const r = await run(
    HEAD.replace("board: fake", "board: fake-spin") + "expect: { run: { reason: halted } }\n",
  );
  assert.equal(r.status, "failed");
  assert.equal(r.failures[0].path, "steps[1].run");
  assert.match(r.failures[0].message, /budget of 100 instructions ran out before halted/);
  assert.deepEqual([r.failures[0].position.line, r.failures[0].position.column], [10, 10]);
});

Deno.test("assembler errors map to the line and column in the YAML file", async () => {
  const r = await run(
    HEAD.replace("hello", "hello\n          nop bad") + "expect: { console: x }\n",
  );
  assert.equal(r.status, "error");
  assert.equal(r.error!.message, "t.yaml:10:15: asm: Unknown instruction: bad");
});

Deno.test("impossible machines map the board error path to the file position", async () => {
  const r = await run(
    HEAD.replace("board: fake", "board: fake-impossible, cpu: { count: 2 }") +
      "expect: { console: x }\n",
  );
  assert.equal(r.status, "error");
  assert.match(
    r.error!.message,
    /^t\.yaml:3:50: Impossible machine: 2 CPUs need local APICs$/,
  );
});

Deno.test("kernel steps without a kernel model are a clear 'not available yet' error", async () => {
  const text = `apiVersion: kexec-scenario/v1
name: k
machine: { board: fake }
steps:
  - boot
  - kexec_load: { image: { format: payload, asm: nop }, expect_error: EINVAL }
`;
  const r = await run(text);
  assert.equal(r.status, "error");
  assert.match(
    r.error!.message,
    /^t\.yaml:5:5: The step boot needs the kernel model, which is not available yet/,
  );
});

Deno.test("expect_error: a step passes when it fails with that errno, and fails otherwise", async () => {
  const calls: string[] = [];
  const kernel: KernelModel = {
    name: "test kernel",
    createSession(ctx) {
      ctx.ensureMachine();
      return {
        boot: () => void calls.push("boot"),
        kexecLoad(step) {
          calls.push("kexec_load");
          if (step.args.flags === 1n) throw new StepError("EINVAL", "flags must be 0");
        },
        kexecUnload: () => {},
        reboot: () => {},
        panic: () => {},
      };
    },
  };
  const text = (flags: number, expectError?: string) =>
    `apiVersion: kexec-scenario/v1
name: k
machine: { board: fake }
steps:
  - boot
  - kexec_load: { image: { format: payload, asm: nop }, flags: ${flags}${
      expectError ? `, expect_error: ${expectError}` : ""
    } }
`;
  assert.equal((await run(text(1, "EINVAL"), kernel)).status, "passed");
  assert.deepEqual(calls, ["boot", "kexec_load"]);
  const wrong = await run(text(1, "EBUSY"), kernel);
  assert.equal(wrong.status, "failed");
  assert.deepEqual([wrong.failures[0].expected, wrong.failures[0].actual], ["EBUSY", "EINVAL"]);
  const succeeded = await run(text(0, "EINVAL"), kernel);
  assert.equal(succeeded.status, "failed");
  assert.match(succeeded.failures[0].message, /succeeded, but an error was expected/);
  const unexpected = await run(text(1) + 'expect: { console: "" }\n', kernel);
  assert.equal(unexpected.status, "failed");
  assert.match(
    unexpected.failures[0].message,
    /The step kexec_load failed: EINVAL: flags must be 0/,
  );
});

Deno.test("without a machine provider, power_on says what is missing", async () => {
  const f = await loadScenario(HEAD + "expect: { console: x }\n", { file: "t.yaml" });
  const r = await runScenario(f.cases[0], { provider: undefined });
  if (r.status === "error") assert.match(r.error!.message, /not available yet/);
});

Deno.test("big-endian machines read memory words big-endian", async () => {
  const r = await run(
    HEAD.replace("board: fake", "board: fake-be") + `expect:
  memory:
    - { at: 0x7000, u32: 0x78563412 }
    - { at: 0x7000, u16: 0x7856 }
`,
  );
  assert.equal(r.status, "passed", formatResult(r));
});

Deno.test("segments recorded by kexec_load drive memory { segment: N } and expect.segments", async () => {
  const kernel: KernelModel = {
    name: "segment recorder",
    createSession(ctx) {
      const machine = ctx.ensureMachine() as unknown as {
        memory: { writeBytes(a: number, b: Uint8Array): void };
      };
      return {
        boot: () => {},
        kexecLoad(step) {
          const segs = step.args.segments ?? [];
          ctx.segments = segs.map((s) => {
            const bytes = Uint8Array.from(
              (s.buf as string).split(" ").map((h) => parseInt(h, 16)),
            );
            machine.memory.writeBytes(Number(s.mem), bytes);
            return { mem: s.mem, memsz: s.memsz, bytes, info: { kind: "data" } };
          });
        },
        kexecUnload: () => {},
        reboot: () => {},
        panic: () => {},
      };
    },
  };
  const text = (expect: string) =>
    `apiVersion: kexec-scenario/v1
name: seg
machine: { board: fake }
steps:
  - boot
  - kexec_load:
      segments:
        - { buf: "de ad be ef", mem: 0x100000, memsz: 4K }
        - { buf: "01 02", mem: 0x200000, memsz: 2 }
expect:
${expect}`;
  const ok = await run(
    text(`  memory: [ { segment: 0 }, { segment: 1 }, { at: 0x100000, u32: 0xefbeadde } ]
  segments:
    - { mem: 0x100000, memsz: 0x1000, bufsz: 4, kind: data }
    - { mem: 0x200000, sha256: any }
`),
    kernel,
  );
  assert.equal(ok.status, "passed", formatResult(ok));
  const bad = await run(
    text(`  memory: [ { segment: 2 } ]
`),
    kernel,
  );
  assert.equal(bad.status, "error");
  assert.match(bad.error!.message, /expect\.memory\[0\]\.segment: no segment 2: 2 were loaded/);
  const count = await run(text("  segments: [ { mem: 0x100000 } ]\n"), kernel);
  assert.equal(count.status, "failed");
  assert.deepEqual([count.failures[0].path, count.failures[0].expected, count.failures[0].actual], [
    "segments",
    "1",
    "2",
  ]);
});
