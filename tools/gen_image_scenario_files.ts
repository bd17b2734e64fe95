// Writes the image files of the image_* scenarios that asm: cannot express (broken images):
//   deno run --allow-write=scenarios/images tools/gen_image_scenario_files.ts
import { buildBzImage } from "../kernel/image/bzimage.ts";

const code = new Uint8Array([0xb0, 0x4b, 0xe6, 0xe9, 0xfa, 0xf4]); // mov al,'K'; out 0xe9,al; cli; hlt
const good = buildBzImage({ version: 0x0206, payload: code, relocatableKernel: 0 });
const badFlag = good.slice();
badFlag[0x1fe] = 0x00; // boot flag 0xAA55 -> 0xAA00
badFlag[0x1ff] = 0xaa;
await Deno.writeFile("scenarios/images/bad_boot_flag.bzImage", badFlag);
await Deno.writeFile("scenarios/images/good.bzImage", good);

// A bzImage with real-mode setup code for --real-mode: the setup code (entered at
// setup segment + 0x20 : 0) prints "R", stores CS, DS, SS, SP at 0x600 and halts.
const setup = new Uint8Array([
  0xb0,
  0x52,
  0xe6,
  0xe9, //          mov al, 'R' ; out 0xe9, al
  0x31,
  0xc0,
  0x8e,
  0xc0, //          xor ax, ax ; mov es, ax
  0x26,
  0x8c,
  0x0e,
  0x00,
  0x06, //    mov [es:0x600], cs
  0x26,
  0x8c,
  0x1e,
  0x02,
  0x06, //    mov [es:0x602], ds
  0x26,
  0x8c,
  0x16,
  0x04,
  0x06, //    mov [es:0x604], ss
  0x26,
  0x89,
  0x26,
  0x06,
  0x06, //    mov [es:0x606], sp
  0xfa,
  0xf4, //                      cli ; hlt
]);
const realMode = buildBzImage({
  version: 0x0202,
  payload: code,
  setupCode: setup,
  relocatableKernel: 0,
});
await Deno.writeFile("scenarios/images/real_mode_setup.bzImage", realMode);

// A vmlinux as the kexec3 vmlinux-lds patch links it for LOAD_ADDRESS = 16 MiB: p_vaddr =
// 0xC0000000 + 16 MiB, p_paddr = 16 MiB, e_entry = 16 MiB (physical). Its startup code runs with
// paging off at the physical address: it stores ESI at 0x1FF0000 and prints the command line
// found through cmd_line_ptr, then halts.
const { assemble } = await import("../arch/x86/asm.ts");
const { buildElf, EM_386 } = await import("../kernel/image/elf.ts");
const startup32 = assemble(
  `bits 32
org 0x1000000
startup_32:
    mov [0x1ff0000], esi
    mov ebx, [esi + 0x228]
.c: mov al, [ebx]
    test al, al
    jz .done
    out 0xe9, al
    inc ebx
    jmp .c
.done:
    cli
    hlt
`,
  { bits: 32, org: 0x1000000 },
).bytes;
const vmlinux = buildElf({
  elfClass: 32,
  machine: EM_386,
  entry: 0x1000000n,
  segments: [{ paddr: 0x1000000n, vaddr: 0xc1000000n, data: startup32, memsz: 0x3000n }],
});
await Deno.writeFile("scenarios/images/vmlinux_lds_16m.elf", vmlinux);
