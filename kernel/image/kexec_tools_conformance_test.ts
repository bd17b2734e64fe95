// Conformance: the model against Debian's kexec-tools 2.0.25 (testdata/kexec_tools_2.0.25.json,
// produced by tools/gen_kexec_tools_vectors.ts).
import assert from "node:assert/strict";
import { KexecToolsError } from "./errors.ts";
import { loadWithKexecTools, parseKexecToolsArgs } from "./kexec_tools.ts";
import { DEBIAN_2_0_25_X86_64_PURGATORY } from "./purgatory.ts";
import { caseImage, caseInitrd, CASES } from "./testdata/kexec_tools_cases.ts";

interface Vector {
  name: string;
  entry?: string;
  flags?: string;
  segments?: { bufsz: string; mem: string; memsz: string }[];
  buffers: Record<string, string>;
  error?: string;
  debugText: string;
}
const data = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/kexec_tools_2.0.25.json", import.meta.url)),
) as { kexecVersion: string; cases: Vector[] };

// Bytes of the zero page that come from the host in kexec-tools (framebuffer/boot_params
// screen_info, ACPI RSDP, EFI, EDD, hardware_subarch), not modelled.
function hostSpecific(o: number): boolean {
  return (o < 0x40 && !(o >= 0x20 && o < 0x24)) || (o >= 0x70 && o < 0x78) ||
    (o >= 0x1c0 && o < 0x1e0) || o === 0x1e9 || o === 0x1ea || (o >= 0x23c && o < 0x240) ||
    (o >= 0x290 && o < 0x2d0) || (o >= 0xd00 && o < 0xeec);
}

Deno.test("conformance data was produced by kexec-tools 2.0.25", () => {
  assert.match(data.kexecVersion, /2\.0\.25/);
  assert.equal(data.cases.length, CASES.length);
});

for (const c of CASES) {
  Deno.test(`kexec-tools 2.0.25 conformance: ${c.name}`, () => {
    const v = data.cases.find((x) => x.name === c.name);
    assert.ok(v, "vector missing: regenerate with tools/gen_kexec_tools_vectors.ts");
    const run = () =>
      loadWithKexecTools(caseImage(c), {
        ...parseKexecToolsArgs(c.args),
        memoryMap: c.memoryMap,
        initrd: caseInitrd(c),
        procCmdline: c.procCmdline,
        purgatory: DEBIAN_2_0_25_X86_64_PURGATORY,
        rngSeed: true,
        build: "x86_64",
      });
    if (v.error) {
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof KexecToolsError, String(e));
        // kexec prints the reason, then possibly "Cannot load <file>".
        assert.ok(v.debugText.includes(e.message), `${e.message} not in:\n${v.debugText}`);
        // Everything printed before dying matches too.
        const realLines = v.debugText.split("\n").filter((l) =>
          !l.startsWith("kernel: ") && !l.startsWith("Cannot load")
        );
        assert.deepEqual(
          e.stderr.trimEnd().split("\n"),
          realLines.join("\n").trimEnd().split("\n"),
        );
        return true;
      });
      return;
    }
    const r = run();
    // The --debug text, from MEMORY RANGES to the segment dump, matches line for line
    // (host pointers aside; kexec's own "kernel:" line and the syscall failure are not modelled).
    const realText = v.debugText.split("\n").filter((l) => !l.startsWith("kernel: "));
    const end = realText.findIndex((l) => l.startsWith("kexec_load failed"));
    assert.deepEqual(
      r.debugText.replace(/(buf\s*= )0x[0-9a-f]+/g, "$1<ptr>").trimEnd().split("\n"),
      realText.slice(0, end),
    );
    assert.equal(`0x${r.entry.toString(16)}`, v.entry);
    assert.equal(`0x${r.flags.toString(16)}`, v.flags);
    assert.deepEqual(
      r.segments.map((s) => ({
        bufsz: `0x${s.bufsz.toString(16)}`,
        mem: `0x${s.mem.toString(16)}`,
        memsz: `0x${s.memsz.toString(16)}`,
      })),
      v.segments,
    );
    for (const [index, hex] of Object.entries(v.buffers)) {
      const seg = r.segments[Number(index)];
      const real = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
      const ours = seg.buf.subarray(0, Number(seg.bufsz));
      assert.equal(ours.length, real.length, `segment ${index} length`);
      const label = seg.label ?? "";
      if (label.includes("RNG")) {
        assert.deepEqual(ours.subarray(0, 16), real.subarray(0, 16), "setup_data header");
        continue;
      }
      const zeroPage = label.startsWith("setup") || label.startsWith("faked");
      const diffs: string[] = [];
      for (let i = 0; i < real.length; i++) {
        if (zeroPage && hostSpecific(i)) continue;
        if (ours[i] !== real[i]) diffs.push(`+0x${i.toString(16)}: ${ours[i]} != ${real[i]}`);
      }
      assert.deepEqual(diffs.slice(0, 10), [], `segment ${index} (${label}) bytes differ`);
    }
  });
}
