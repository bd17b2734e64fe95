import assert from "node:assert/strict";
import { buildPurgatory } from "../kernel/image/purgatory.ts";
import { assembledPurgatory, kexecToolsErrno } from "./kexec_tools_images.ts";

Deno.test("kexec-tools failures map to the errnos scenarios expect", () => {
  const table: [string, string][] = [
    ["locate_hole failed", "EADDRNOTAVAIL"],
    ["Invalid memory segment 0x9f000 - 0xa1000", "EADDRNOTAVAIL"],
    ["sort_segments failed", "EADDRNOTAVAIL"],
    ["Base address: 0x100800 is not page aligned", "EADDRNOTAVAIL"],
    ["Could not put setup code above the kernel parameters", "EADDRNOTAVAIL"],
    ["Wrong file type bzImage, file matches type elf-x86", "ENOEXEC"],
    ["BzImage truncated?", "ENOEXEC"],
    ["BzImage is not relocatable. Can't be used as capture kernel.", "ENOEXEC"],
    ["Kernel command line too long for kernel!", "EINVAL"],
    ["Memory for crashkernel is not reserved: pass crashkernel=X@Y", "EINVAL"],
  ];
  for (const [message, errno] of table) assert.equal(kexecToolsErrno(message), errno, message);
});

Deno.test("the runner's purgatory is assembled by arch/x86/asm.ts and equals nasm's bytes", () => {
  for (
    const v of [{ bits: 32 as const }, { bits: 32 as const, clearCr4: true }, { bits: 64 as const }]
  ) {
    const ours = assembledPurgatory(v);
    assert.deepEqual(ours.bytes, buildPurgatory(v).bytes);
    assert.equal(assembledPurgatory(v), ours, "cached");
  }
  assert.notDeepEqual(
    assembledPurgatory({ bits: 32 }).bytes,
    assembledPurgatory({ bits: 32, clearCr4: true }).bytes,
  );
});
