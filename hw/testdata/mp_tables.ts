// Test support for MP table tests (hw/firmware_test.ts, arch/x86/kexec_pc_test.ts): a minimal
// configuration and floating pointers with chosen defects.

import { encodeMpTables, type MpConfig } from "../firmware.ts";

/** An MP configuration with the IMCR flag and one ISA bus, nothing else. */
export const ISA_MP_CONFIG: MpConfig = {
  imcr: true,
  lapicAddress: 0xfee00000,
  oemId: "OEM",
  productId: "BOARD",
  processors: [],
  buses: [{ id: 0, type: "ISA" }],
  ioApics: [],
  ioInterrupts: [],
  localInterrupts: [],
};

/**
 * The 16-byte floating pointer of {@linkcode ISA_MP_CONFIG} pointing at `configAddr`, `edit`
 * applied, then the checksum made right again unless `fixChecksum` is false.
 */
export function floatingPointer(
  configAddr: number,
  edit: (fp: Uint8Array) => void = () => {},
  options: { fixChecksum?: boolean } = {},
): Uint8Array {
  const { floating } = encodeMpTables(ISA_MP_CONFIG, { configAddr });
  edit(floating);
  if (options.fixChecksum ?? true) {
    floating[10] = 0;
    let sum = 0;
    for (const b of floating) sum = (sum + b) & 0xff;
    floating[10] = (256 - sum) & 0xff;
  }
  return floating;
}
