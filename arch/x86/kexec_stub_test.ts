import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { relocateStub } from "./kexec_stub.ts";
import { RELOCATE_GOLDEN } from "./relocate_kernel_golden.ts";
import { relocateKernel32Source } from "./relocate_kernel_32.ts";
import { relocateKernel64Source } from "./relocate_kernel_64.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

for (const arch of ["i386", "x86_64"] as const) {
  for (const variant of ["kexec3", "2.6.13"] as const) {
    Deno.test(`relocation stub ${arch}/${variant}: our assembler gives nasm's bytes`, () => {
      const bytes = relocateStub({ arch, variant });
      assertEquals(hex(bytes), RELOCATE_GOLDEN[`${arch}/${variant}`]);
      assert(bytes.length < 4096, "fits the control page");
    });
  }
}

Deno.test("relocation stubs: the version differences are where the spec puts them", () => {
  const k3 = relocateKernel32Source("kexec3"), n13 = relocateKernel32Source("2.6.13");
  assert(k3.includes("    cld") && !n13.includes("    cld"));
  assert(n13.includes("mov ecx, ebx") && !k3.includes("mov ecx, ebx"));
  // CR4 only behind the has_pae test
  const i = n13.indexOf("test ecx, ecx"), j = n13.indexOf("mov eax, cr4");
  assert(i > 0 && j > i);
  const x = relocateKernel64Source("2.6.13");
  assert(x.includes("xor r9, r10"), "the R9/R10 quirk");
  assert(x.includes("mov rax, 0x20") && x.includes("mov cr3, rcx"));
});
