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
