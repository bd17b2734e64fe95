import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { KernelConfig, PATCHES, VersionError, VERSIONS } from "./versions.ts";

Deno.test("KernelConfig: default version and every patch on", () => {
  const k = new KernelConfig();
  assertEquals(k.version, "2.6.8.1-kexec3");
  for (const p of PATCHES) assertEquals(k.patch(p.name), true, p.name);
});

Deno.test("KernelConfig: switches and errors", () => {
  const k = new KernelConfig({ version: "2.6.13", patches: { "reboot-on-bsp": false } });
  assertEquals(k.patch("reboot-on-bsp"), false);
  assertEquals(k.patch("i8259-shutdown"), true);
  throws(() => new KernelConfig({ version: "2.6.12" }), VersionError);
  throws(() => new KernelConfig({ patches: { "i8259": false } }), /Unknown patch switch: i8259/);
  throws(
    () => new KernelConfig({ patches: { "e820-64bit": "no" as unknown as boolean } }),
    /must be true or false/,
  );
});

Deno.test("version tables: the differences the reference lists", () => {
  const a = VERSIONS["2.6.8.1-kexec3"], b = VERSIONS["2.6.13"];
  assertEquals([a.segmentMax, b.segmentMax], [8, 8]);
  assertEquals([a.flagsRule, b.flagsRule], ["zero", "arch"]);
  assertEquals([a.kexecLock, b.kexecLock], [false, true]);
  assertEquals([a.crashImage, b.crashImage], [false, true]);
  assertEquals([a.terminate, b.terminate], ["append", "in-place"]);
  assertEquals([a.stubList, b.stubList], ["indirection-page", "head"]);
  assertEquals([a.compatEntry, b.compatEntry], [false, true]);
  assertEquals([a.virtWireArgument, b.virtWireArgument], [false, true]);
  assertEquals([a.i386UpShutdown, b.i386UpShutdown], ["disable_local_APIC", "lapic_shutdown"]);
  assert(a.stubCld && !b.stubCld);
});

Deno.test("patch list: the announcement's switches by name", () => {
  const names = PATCHES.map((p) => p.name);
  for (
    const n of [
      "i8259-shutdown",
      "i8259-sysfs",
      "apic-virtwire-on-shutdown",
      "ioapic-virtwire-on-shutdown",
      "e820-64bit",
      "kexec-generic",
      "reboot-on-bsp",
      "vmlinux-lds",
      "highbzImage",
    ]
  ) assert(names.includes(n as never), n);
});
