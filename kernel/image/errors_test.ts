import assert from "node:assert/strict";
import { ImageFormatError } from "./errors.ts";

Deno.test("ImageFormatError: a field's offset is appended, a whole-image error reads as written", () => {
  const cases: [ImageFormatError, string, number][] = [
    [
      new ImageFormatError("Bad boot flag: expected 0xaa55, found 0x0000", {
        offset: 0x1fe,
        format: "bzImage",
      }),
      "Bad boot flag: expected 0xaa55, found 0x0000 (bzImage offset 0x1fe)",
      0x1fe,
    ],
    [
      new ImageFormatError("Bad magic", { offset: 0, format: "ELF" }),
      "Bad magic (ELF offset 0x0)",
      0,
    ],
    [
      new ImageFormatError("Cannot determine the file type: no loader recognises these 16 bytes", {
        format: "unknown",
      }),
      "Cannot determine the file type: no loader recognises these 16 bytes",
      0,
    ],
  ];
  for (const [e, message, offset] of cases) {
    assert.ok(e instanceof SyntaxError);
    assert.equal(e.name, "ImageFormatError");
    assert.equal(e.message, message);
    assert.equal(e.offset, offset, message);
  }
});
