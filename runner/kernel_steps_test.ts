import assert from "node:assert/strict";
import { loadScenario } from "./load.ts";
import { formatResult, runScenario } from "./run.ts";
import { chooseKernelArch, linuxKernelModel } from "./kernel_steps.ts";
import { pcMachineProvider } from "./machine_provider.ts";

const HLT = `segments: [{ buf: "f4", mem: 0x100000, memsz: 0x1000 }]`;

function scenario(body: string, head = "machine: { board: pc-legacy, cpu: { model: i486 } }\n") {
  return `apiVersion: kexec-scenario/v1\nname: t\n${head}${body}`;
}

async function run(text: string, options: { file?: string } = {}) {
  const f = await loadScenario(text, { file: options.file ?? "t.yaml" });
  return await runScenario(f.cases[0], { provider: pcMachineProvider, kernel: linuxKernelModel });
}

Deno.test("kernel steps: boot, kexec_load, reboot and run enter the new kernel", async () => {
  const r = await run(scenario(`kernel: { version: "2.6.13" }
steps:
  - boot
  - kexec_load: { ${HLT} }
  - reboot: { cmd: kexec }
  - run: { until: halt, max_instructions: 10000 }
expect:
  cpu: { 0: { state: stopped, eip: 0x100001, cr0: { pg: 0, pe: 1 } } }
  pic: { master: { imr: 0xff } }
  memory: [{ at: 0x100000, segment: 0 }]
  kernel: { version: "2.6.13", arch: i386, image: null, kexeced: { via: reboot, entry: 0x100000 } }
`));
  assert.equal(r.status, "passed", formatResult(r));
});

Deno.test("expect_error: only exactly that errno passes; an unexpected errno fails with the reason", async () => {
  const steps = (load: string) =>
    scenario(`steps:
  - boot
  - kexec_load: { ${HLT}, ${load} }
expect: { kernel: { image: null } }
`);
  assert.equal((await run(steps("flags: 1, expect_error: EINVAL"))).status, "passed");
  const wrong = await run(steps("flags: 1, expect_error: EBUSY"));
  assert.equal(wrong.status, "failed");
  assert.deepEqual([wrong.failures[0].expected, wrong.failures[0].actual], ["EBUSY", "EINVAL"]);
  const ok = await run(steps("expect_error: EINVAL"));
  assert.equal(ok.status, "failed");
  assert.match(ok.failures[0].message, /succeeded, but an error was expected/);
  const failed = await run(steps("cap_sys_boot: false"));
  assert.equal(failed.status, "failed");
  assert.match(failed.failures[0].message, /The step kexec_load failed: EPERM: no CAP_SYS_BOOT/);
  assert.equal(failed.failures[0].position?.line, 6);
});

Deno.test("an unknown patch name is a load error at its key, with a suggestion", async () => {
  const r = await run(scenario(`kernel:
  patches: { apic-virtwire-on-shutdwn: false }
steps:
  - boot
expect: { kernel: { image: null } }
`));
  assert.equal(r.status, "error");
  assert.match(
    r.error!.message,
    /^t\.yaml:5:14: Unknown kernel patch: apic-virtwire-on-shutdwn \(did you mean "apic-virtwire-on-shutdown"\?\)/,
  );
});

Deno.test("an x86_64 kernel on a CPU without long mode is an error at kernel.arch", async () => {
  const r = await run(scenario(`kernel: { arch: x86_64 }
steps:
  - boot
expect: { kernel: { image: null } }
`));
  assert.equal(r.status, "error");
  assert.match(
    r.error!.message,
    /^t\.yaml:4:17: An x86_64 kernel needs a CPU with long mode: i486/,
  );
});

Deno.test("steps the old kernel cannot take are load errors, not results", async () => {
  const before = await run(scenario(`steps:
  - kexec_load: { ${HLT} }
expect: { kernel: { image: null } }
`));
  assert.equal(before.status, "error");
  assert.match(before.error!.message, /t\.yaml:5:17: Kernel not booted: run the boot step first/);
  const after = await run(scenario(`steps:
  - boot
  - kexec_load: { ${HLT} }
  - reboot: { cmd: kexec }
  - kexec_load: { ${HLT} }
expect: { kernel: { image: null } }
`));
  assert.equal(after.status, "error");
  assert.match(after.error!.message, /the old kernel no longer runs on CPU 0/);
  const offline = await run(scenario(
    `steps:
  - boot
  - kexec_load: { ${HLT}, cpu: 3 }
expect: { kernel: { image: null } }
`,
    "machine: { board: pc-ioapic, cpu: { count: 2 } }\n",
  ));
  assert.equal(offline.status, "error");
  assert.match(
    offline.error!.message,
    /t\.yaml:6:\d+: kexec_load: CPU 3 is not online \(online: 0, 1\)/,
  );
  const hex = await run(scenario(`steps:
  - boot
  - kexec_load: { segments: [{ buf: "f4 0", mem: 0x100000, memsz: 0x1000 }] }
expect: { kernel: { image: null } }
`));
  assert.equal(hex.status, "error");
  assert.match(hex.error!.message, /Segment buf: expected hex bytes/);
});

Deno.test("a payload file ending in .asm is assembled at load:, errors point into it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/good.asm`, "bits 32\nstart:\n  mov eax, start\n  hlt\n");
    await Deno.writeTextFile(`${dir}/bad.asm`, "bits 32\n  mov eax, 1\n  frobnicate eax\n");
    const text = (file: string) =>
      scenario(`steps:
  - boot
  - kexec_load: { image: { format: payload, load: 0x200000, file: ./${file} } }
  - reboot: { cmd: kexec }
  - run: { until: halt, max_instructions: 10000 }
expect:
  cpu: { 0: { eax: 0x200000, eip: 0x200006 } }
  memory: [{ at: 0x200000, segment: 0 }]
`);
    const good = await run(text("good.asm"), { file: `${dir}/t.yaml` });
    assert.equal(good.status, "passed", formatResult(good));
    const bad = await run(text("bad.asm"), { file: `${dir}/t.yaml` });
    assert.equal(bad.status, "error");
    assert.match(bad.error!.message, new RegExp(`^${dir}/bad\\.asm:3:3: asm: `));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("chooseKernelArch: kernel.arch, then the first image, then the CPU", async () => {
  const cases: [string, boolean, string][] = [
    ["kernel: { arch: i386 }\nsteps: [boot]\n", true, "i386"],
    ["steps: [boot]\n", true, "x86_64"],
    ["steps: [boot]\n", false, "i386"],
    [
      "steps:\n  - boot\n  - kexec_load: { image: { format: payload, bits: 32, asm: hlt } }\n",
      true,
      "i386",
    ],
    [
      "steps:\n  - boot\n  - kexec_load: { image: { format: payload, arch: x86_64, asm: hlt } }\n",
      false,
      "x86_64",
    ],
  ];
  for (const [body, longMode, expected] of cases) {
    const f = await loadScenario(scenario(body + "expect: { console: x }\n"), { file: "t.yaml" });
    assert.equal(chooseKernelArch(f.cases[0], { longMode }), expected, body);
  }
});

/** A 2.6.13 i386 kernel: boot, kexec_load `image: { <image> }`, then `rest` (steps, expect). */
function kexecLoadScenario(image: string, rest: string): string {
  return scenario(`kernel: { version: "2.6.13" }
steps:
  - boot
  - kexec_load:
      image: { ${image} }
      loader: { build: i386 }
${rest}`);
}

/** An `expect:` key `segments:` with these entries (flow mappings). */
const segments = (entries: string[]) =>
  `  segments:\n${entries.map((e) => `    - ${e}\n`).join("")}`;

Deno.test("load: or entry: on a bzImage or ELF file is an error at the value: its header decides", async () => {
  // The scenario sits beside the bundled images, so `file:` finds them.
  const file = new URL("../scenarios/t.yaml", import.meta.url).pathname;
  const text = (image: string) => kexecLoadScenario(image, "expect: { kernel: { image: null } }\n");
  for (
    const image of [
      "format: bzImage, file: images/good.bzImage, load: 0x200000",
      "format: elf, file: images/vmlinux_lds_16m.elf, load: 0x1000000",
      "format: elf, file: images/vmlinux_lds_16m.elf, entry: 0x1000000",
    ]
  ) {
    const r = await run(text(image), { file });
    assert.equal(r.status, "error", image);
    const key = image.includes("load:") ? "load" : "entry";
    const col = 16 + image.indexOf(`${key}: `) + key.length + 2; // at the value
    const why = key === "load"
      ? "kexec-tools places bzImage/ELF files itself, use loader options (mem_min, mem_max)"
      : "a bzImage/ELF file's header gives its entry point, the step's entry: overrides it";
    assert.ok(
      r.error!.message.endsWith(
        `t.yaml:8:${col}: kexec_load: image.${key} applies to payload and bootsector images ` +
          `(and code from asm:): ${why}`,
      ),
      r.error!.message,
    );
  }
  // Without load: the same file loads where kexec-tools puts it; with asm:, load: is where the
  // wrapped code's PT_LOAD goes.
  const ok = await run(
    kexecLoadScenario(
      "format: bzImage, file: images/good.bzImage",
      "expect:\n" + segments([
        '{ mem: 0x3000, label: "setup (zero page + command line)" }',
        "{ mem: 0x9d000, label: purgatory }",
        "{ mem: 0x100000, bufsz: 6, label: kernel }",
      ]),
    ),
    { file },
  );
  assert.equal(ok.status, "passed", formatResult(ok));
  const asm = await run(
    kexecLoadScenario(
      'format: elf, load: 0x200000, asm: "hlt"',
      "expect:\n" + segments([
        "{ mem: 0x1000 }",
        "{ mem: 0x3000, label: ELF boot notes }",
        "{ mem: 0x200000, bufsz: 1 }",
      ]),
    ),
    { file },
  );
  assert.equal(asm.status, "passed", formatResult(asm));
});

Deno.test("an .asm file of a loader format is assembled at load: and wrapped like asm:", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/code.asm`, "bits 32\nstart:\n  mov eax, start\n  hlt\n");
    const elf = await run(
      kexecLoadScenario(
        "format: elf, file: ./code.asm, load: 0x200000",
        `  - reboot: { cmd: kexec }
  - run: { until: halt, max_instructions: 100000 }
expect:
  cpu: { 0: { eax: 0x200000 } }
  memory: [{ at: 0x200000, bytes: "b8 00 00 20 00 f4" }]
` + segments([
          "{ mem: 0x1000 }",
          "{ mem: 0x3000, label: ELF boot notes }",
          "{ mem: 0x200000, bufsz: 6 }",
        ]),
      ),
      { file: `${dir}/t.yaml` },
    );
    assert.equal(elf.status, "passed", formatResult(elf));
    // As a bzImage the code is wrapped too (raw code is no image: ENOEXEC); the relocatable
    // kernel goes where kexec-tools puts it (kernel_alignment 0x200000).
    const bz = await run(
      kexecLoadScenario(
        "format: bzImage, file: ./code.asm, protocol: 0x0205",
        "expect:\n" + segments([
          "{ mem: 0x3000 }",
          "{ mem: 0x200000, bufsz: 6, label: kernel }",
          "{ mem: 0x1ffe000, label: purgatory }",
        ]),
      ),
      { file: `${dir}/t.yaml` },
    );
    assert.equal(bz.status, "passed", formatResult(bz));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a segment buf can be PowerPC code (arch: ppc): assembled big-endian by arch/ppc/asm.ts", async () => {
  const load = (asm: string) =>
    scenario(`kernel: { version: "2.6.13" }
steps:
  - boot
  - kexec_load:
      segments:
        - { buf: "f4", mem: 0x100000, memsz: 0x1000 }
        - { buf: { format: payload, arch: ppc, asm: "${asm}" }, mem: 0x200000, memsz: 0x1000 }
  - reboot: { cmd: kexec }
  - run: { until: halt, max_instructions: 10000 }
expect:
  memory: [{ at: 0x200000, bytes: "38 60 00 01" }]
`);
  const r = await run(load("li r3, 1"));
  assert.equal(r.status, "passed", formatResult(r));
  const bad = await run(load("frob r3"));
  assert.equal(bad.status, "error");
  assert.match(bad.error!.message, /Unknown instruction: frob/);
});
