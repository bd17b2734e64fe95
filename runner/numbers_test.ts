import assert from "node:assert/strict";
import { IntegerFormatError, parseInteger, toInteger } from "./numbers.ts";

Deno.test("parseInteger accepts decimal, hex, octal, binary, separators and size suffixes", () => {
  const table: [string, bigint][] = [
    ["0", 0n],
    ["1_000_000", 1000000n],
    ["0x10_0000", 0x100000n],
    ["0XfF", 255n],
    ["0o17", 15n],
    ["0b1010_1010", 0xaan],
    ["64K", 65536n],
    ["256M", 268435456n],
    ["4G", 4294967296n],
    ["1T", 1099511627776n],
    ["0x10M", 16n << 20n],
    ["18446744073709551615", 18446744073709551615n],
    ["0xffff_ffff_ffff_ffff", 0xffffffffffffffffn],
    ["16777215T", 16777215n << 40n],
  ];
  for (const [text, want] of table) assert.equal(parseInteger(text), want, text);
});

Deno.test("parseInteger rejects what is not an exact 64-bit integer", () => {
  const table: [string, RegExp][] = [
    ["18446744073709551616", /does not fit in 64 bits/],
    ["0x1_0000_0000_0000_0000", /does not fit in 64 bits/],
    ["16777216T", /does not fit in 64 bits/],
    ["256Q", /Unknown size suffix: "Q"/],
    ["256KB", /Unknown size suffix: "KB"/],
    ["1__0", /Not an integer/],
    ["_1", /Not an integer/],
    ["0x", /Not an integer/],
    ["1.5", /Not an integer/],
    ["-1", /Not an integer/],
    ["", /Not an integer/],
  ];
  for (const [text, re] of table) {
    assert.throws(() => parseInteger(text), IntegerFormatError, text);
    assert.throws(() => parseInteger(text), re, text);
  }
});

Deno.test("toInteger keeps YAML bigints exact and rejects floats and negatives", () => {
  assert.equal(toInteger(0xfedcba9876543210n), 0xfedcba9876543210n);
  assert.equal(toInteger("1K"), 1024n);
  assert.throws(() => toInteger(1.5), /Not an integer: 1.5/);
  assert.throws(() => toInteger(-1n), /Negative/);
  assert.throws(() => toInteger(true), /Not an integer: the boolean true/);
  assert.throws(() => toInteger(300n, { max: 255n, limitName: "8 bits" }), /fit in 8 bits/);
});
