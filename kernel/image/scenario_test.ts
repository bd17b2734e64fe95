import assert from "node:assert/strict";
import { parseBzImage } from "./bzimage.ts";
import { EM_386, EM_PPC, EM_X86_64, parseElf } from "./elf.ts";
import { parseDol } from "./dol.ts";
import { KexecOptionError } from "./errors.ts";
import { loadWithKexecTools } from "./kexec_tools.ts";
import { DEBIAN_2_0_25_X86_64_PURGATORY } from "./purgatory.ts";
import { loaderOptionsFromScenario, prepareKexecImage, segmentMismatches } from "./scenario.ts";

const code = new Uint8Array([0xfa, 0xf4, 0xeb, 0xfd]);

Deno.test("prepareKexecImage: assembled payloads and ELFs are wrapped per bits/arch", () => {
  const cases = [
    [{ bits: 32 }, 32, EM_386, "little"],
    [{ bits: 64 }, 64, EM_X86_64, "little"],
    [{ arch: "ppc" as const, bits: 32 }, 32, EM_PPC, "big"],
  ] as const;
  for (const [extra, cls, machine, endian] of cases) {
    const elf = parseElf(
      prepareKexecImage({
        format: "payload",
        assembled: true,
        load: 0x200000n,
        entry: 0x200001n,
        ...extra,
      }, code),
    );
    assert.equal(elf.elfClass, cls);
    assert.equal(elf.machine, machine);
    assert.equal(elf.endian, endian);
    assert.equal(elf.entry, 0x200001n);
    assert.equal(elf.programHeaders[0].paddr, 0x200000n);
  }
  const file = new Uint8Array([1, 2, 3]);
  assert.equal(prepareKexecImage({ format: "elf", assembled: false }, file), file);
  assert.throws(
    () => prepareKexecImage({ format: "bootsector", assembled: true }, code),
    KexecOptionError,
  );
  const dol = parseDol(
    prepareKexecImage({ format: "dol", assembled: true, load: 0x80004000n }, code),
  );
  assert.equal(dol.entry, 0x80004000);
  assert.equal(dol.sections[0].size, 4);
});

Deno.test("prepareKexecImage: assembled bzImage (64-bit defaults) loads as bzImage64", () => {
  const bytes = prepareKexecImage(
    { format: "bzImage", assembled: true, bits: 64 },
    new Uint8Array(0x300),
  );
  const h = parseBzImage(bytes).header;
  assert.equal(h.version, 0x020f);
  assert.equal(h.xloadflags, 3);
  const r = loadWithKexecTools(bytes, {
    memoryMap: [{ base: 0n, size: 0x9fc00n, type: "ram" }, {
      base: 0x100000n,
      size: 0x3f00000n,
      type: "ram",
    }],
  });
  assert.equal(r.fileType, "bzImage64");
  assert.equal(r.registers.entry64?.rip, r.kernel! + 0x200n);
});

Deno.test("loaderOptionsFromScenario: converts and names the bad key", () => {
  assert.deepEqual(
    loaderOptionsFromScenario({
      build: "i386",
      args: "linux",
      mem_max: 0x7fffffffn,
      real_mode: true,
      no_checks: true,
      purgatory: "debian-2.0.25",
    }),
    {
      build: "i386",
      args: "linux",
      memMax: 0x7fffffffn,
      realMode: true,
      noChecks: true,
      purgatory: DEBIAN_2_0_25_X86_64_PURGATORY,
    },
  );
  for (
    const [bad, key] of [[{ args: "weird" }, "args"], [{ real_mode: 1 }, "real_mode"], [{
      bogus: true,
    }, "bogus"], [{ mem_min: -1 }, "mem_min"]] as const
  ) {
    assert.throws(
      () => loaderOptionsFromScenario(bad),
      (e: unknown) => e instanceof KexecOptionError && e.path[0] === key,
    );
  }
});

Deno.test("segmentMismatches: length, fields and labels", () => {
  const segs = [{
    buf: new Uint8Array(1),
    bufsz: 1n,
    mem: 0x3000n,
    memsz: 0x1000n,
    label: "setup (zero page)",
  }];
  assert.deepEqual(segmentMismatches(segs, [{ mem: 0x3000n, label: "setup" }]), []);
  assert.deepEqual(segmentMismatches(segs, [{ mem: 0x4000n, bufsz: 1n }, {}]), [
    "nr_segments: expected 2, got 1",
    "segment[0].mem: expected 0x4000, got 0x3000",
  ]);
  assert.deepEqual(segmentMismatches(segs, [{ label: "kernel" }]), [
    'segment[0].label: expected "kernel", got "setup (zero page)"',
  ]);
});
