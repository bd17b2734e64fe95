/**
 * Expectations (DESIGN §7): partial matching of the machine's snapshot, `{ value, mask }`,
 * named bit fields through the registers' field tables, `any`, memory checks in the machine's
 * endianness, console output, the segment list and the last run's result.
 *
 * A mismatch is an {@linkcode ExpectationFailure} (exit 1); an expectation that cannot be
 * evaluated (a key the machine's state does not have, an unknown field name, a bad regex) is a
 * {@linkcode ScenarioLoadError} (exit 2), with a "did you mean".
 *
 * @module
 */

import { createHash } from "node:crypto";
import {
  type BitField,
  formatHex,
  RegisterValue,
  type Snapshot,
  type SnapshotValue,
} from "../hw/fields.ts";
import { didYouMean, ScenarioLoadError, type SourcePosition } from "./errors.ts";
import { parseInteger } from "./numbers.ts";
import type { ExpectSection, MatchValue, MemoryCheck } from "./schema.ts";
import type { LoadedSegment, MachineLike, RunResult } from "./steps.ts";
import { formatPath, type SourceMap, type ValuePath } from "./yaml.ts";

/** One failed expectation. */
export interface ExpectationFailure {
  /** The path of the checked state, e.g. `lapic[0].lvt0.masked` or `memory[2]`. */
  readonly path: string;
  /** Where the expectation is written. */
  readonly position: SourcePosition;
  /** What differs, in one sentence. */
  readonly message: string;
  /** The expected value (hex for numbers). */
  readonly expected?: string;
  /** The actual value (hex for numbers). */
  readonly actual?: string;
}

/** What the expectations are checked against. */
export interface ExpectationSubject {
  /** The machine, if one was built. */
  readonly machine: MachineLike | undefined;
  /** The state snapshot (the machine's, plus `kernel` if the kernel model provides one). */
  readonly snapshot: Snapshot | undefined;
  /** The last run's result. */
  readonly lastRun: RunResult | undefined;
  /** Segments the kernel accepted. */
  readonly segments: readonly LoadedSegment[] | undefined;
}

/**
 * Check every expectation of a case; returns the failures (empty when everything matched).
 *
 * @example
 * ```ts ignore
 * import { checkExpectations } from "./expect.ts";
 * const failures = checkExpectations(scenario.expect, subject, positions);
 * ```
 */
export function checkExpectations(
  expect: ExpectSection,
  subject: ExpectationSubject,
  positions: SourceMap,
): ExpectationFailure[] {
  const m = new Matcher(positions);
  for (const [key, expected] of Object.entries(expect)) {
    if (expected === undefined) continue;
    switch (key) {
      case "memory":
        m.memory(expect.memory!, subject);
        break;
      case "console":
        m.console(expect.console!, subject);
        break;
      case "segments":
        m.segments(expect.segments!, subject);
        break;
      case "run":
        m.run(expect.run!, subject);
        break;
      default: {
        const snap = subject.snapshot;
        if (!snap) {
          throw new ScenarioLoadError(
            `expect.${key}: there is no machine state to check (no power_on or boot step)`,
            positions.keyAt(["expect", key]),
          );
        }
        if (!Object.hasOwn(snap, key)) {
          throw new ScenarioLoadError(
            `expect.${key}: the machine's state has no ${key}` +
              hint(key, Object.keys(snap).concat(["memory", "console", "segments", "run"])) +
              `: it has ${Object.keys(snap).join(", ")}`,
            positions.keyAt(["expect", key]),
          );
        }
        m.match(expected as MatchValue, snap[key], [key]);
      }
    }
  }
  return m.failures.sort((a, b) =>
    a.position.file === b.position.file
      ? a.position.line - b.position.line || a.position.column - b.position.column
      : 0
  );
}

function hint(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? "" : ` (did you mean ${JSON.stringify(s)}?)`;
}

interface Numeric {
  value: bigint;
  width: number;
  /** The width is the register's or field's own (not just wide enough for the value). */
  fixedWidth?: boolean;
  fields?: RegisterValue["fields"];
  symbols?: Readonly<Record<string, number>>;
}

function widthOf(v: bigint): number {
  let w = 8;
  while (w < 64 && v >> BigInt(w) !== 0n) w *= 2;
  return v >> 64n !== 0n ? v.toString(2).length : w;
}

function symbolOf(n: Numeric): string {
  if (!n.symbols) return "";
  for (const [name, v] of Object.entries(n.symbols)) if (BigInt(v) === n.value) return ` (${name})`;
  return "";
}

function isValueMask(v: MatchValue): v is { value: MatchValue; mask?: MatchValue } {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.includes("value") && keys.every((k) => k === "value" || k === "mask");
}

class Matcher {
  readonly failures: ExpectationFailure[] = [];
  readonly #positions: SourceMap;

  constructor(positions: SourceMap) {
    this.#positions = positions;
  }

  #pos(path: ValuePath): SourcePosition {
    return this.#positions.valueAt(["expect", ...path]);
  }

  #keyPos(path: ValuePath): SourcePosition {
    return this.#positions.keyAt(["expect", ...path]);
  }

  fail(path: ValuePath, message: string, expected?: string, actual?: string): void {
    this.failures.push({
      path: formatPath(path),
      position: this.#pos(path),
      message,
      expected,
      actual,
    });
  }

  error(path: ValuePath, message: string, atKey = true): never {
    throw new ScenarioLoadError(
      `expect.${formatPath(path)}: ${message}`,
      atKey ? this.#keyPos(path) : this.#pos(path),
    );
  }

  // ---- generic snapshot matching

  match(expected: MatchValue, actual: SnapshotValue | undefined, path: ValuePath): void {
    if (expected === "any") return;
    if (actual instanceof RegisterValue) {
      return this.numeric(expected, {
        value: actual.value,
        width: actual.width,
        fields: actual.fields,
        fixedWidth: true,
      }, path);
    }
    if (typeof actual === "bigint" || typeof actual === "number") {
      const v = typeof actual === "bigint" ? actual : BigInt(Math.trunc(actual));
      if (typeof actual === "number" && !Number.isInteger(actual)) {
        return this.compareScalar(expected, actual, path);
      }
      return this.numeric(expected, { value: v, width: widthOf(v < 0n ? -v : v) }, path);
    }
    if (typeof actual === "string" || typeof actual === "boolean" || actual === null) {
      return this.compareScalar(expected, actual, path);
    }
    if (Array.isArray(actual)) {
      if (Array.isArray(expected)) {
        if (expected.length > actual.length) {
          this.fail(
            path,
            "The list is shorter than expected",
            `${expected.length} items`,
            `${actual.length} items`,
          );
        }
        expected.forEach((e, i) => {
          if (i < actual.length) this.match(e, actual[i], [...path, i]);
        });
        return;
      }
      if (expected !== null && typeof expected === "object") {
        for (const [k, e] of Object.entries(expected)) {
          if (!/^\d+$/.test(k) || Number(k) >= actual.length) {
            this.error([...path, k], `no such index: the list has ${actual.length} items`);
          }
          this.match(e, actual[Number(k)], [...path, k]);
        }
        return;
      }
      return this.fail(
        path,
        "Expected a single value, the state is a list",
        render(expected),
        "a list",
      );
    }
    if (actual !== undefined && typeof actual === "object") {
      const snap = actual as Snapshot;
      if (expected === null || typeof expected !== "object" || Array.isArray(expected)) {
        return this.fail(
          path,
          "Expected a single value, the state is a map",
          render(expected),
          "a map",
        );
      }
      for (const [k, e] of Object.entries(expected)) {
        if (!Object.hasOwn(snap, k)) {
          this.error(
            [...path, k],
            `the state has no key ${k}${hint(k, Object.keys(snap))}: it has ${
              Object.keys(snap).join(", ")
            }`,
          );
        }
        this.match(e, snap[k], [...path, k]);
      }
      return;
    }
    this.error(path, "the state has no such value");
  }

  compareScalar(
    expected: MatchValue,
    actual: string | boolean | null | number,
    path: ValuePath,
  ): void {
    if (
      typeof actual === "boolean" && typeof expected === "bigint" &&
      (expected === 0n || expected === 1n)
    ) {
      if ((expected === 1n) !== actual) {
        this.fail(path, "Mismatch", String(expected), String(actual));
      }
      return;
    }
    if (typeof actual === "string" && typeof expected === "bigint") {
      // A text state (run state, mode, reason) never equals a number: the scenario is wrong.
      this.error(
        path,
        `${formatHex(expected, 0)} is a number, but this state is text (now ${
          JSON.stringify(actual)
        })`,
        false,
      );
    }
    if (expected !== actual) {
      this.fail(path, "Mismatch", render(expected), render(actual));
    }
  }

  numeric(expected: MatchValue, actual: Numeric, path: ValuePath): void {
    if (expected === "any") return;
    if (typeof expected === "bigint") return this.compareNumber(expected, undefined, actual, path);
    if (typeof expected === "boolean") {
      if ((actual.value !== 0n) !== expected) {
        this.fail(
          path,
          "Mismatch",
          formatHex(expected ? 1n : 0n, actual.width),
          formatHex(actual.value, actual.width),
        );
      }
      return;
    }
    if (typeof expected === "string") {
      if (actual.symbols) {
        const sym = actual.symbols[expected] ??
          Object.entries(actual.symbols).find(([k]) => k.toLowerCase() === expected.toLowerCase())
            ?.[1];
        if (sym !== undefined) return this.compareNumber(BigInt(sym), undefined, actual, path);
      }
      let n: bigint;
      try {
        n = parseInteger(expected);
      } catch {
        const known = actual.symbols ? Object.keys(actual.symbols) : [];
        this.error(
          path,
          `${JSON.stringify(expected)} is not a value of this ${
            actual.symbols ? "field" : "number"
          }` +
            (known.length
              ? `: expected one of ${known.join(", ")}${hint(expected, known)}`
              : ": expected an integer"),
          false,
        );
      }
      return this.compareNumber(n, undefined, actual, path);
    }
    if (expected === null) {
      return this.fail(path, "Mismatch", "null", formatHex(actual.value, actual.width));
    }
    if (Array.isArray(expected)) {
      this.error(path, "expected a list, but the state is a number", false);
    }
    if (isValueMask(expected)) {
      const value = this.toInt(expected.value, [...path, "value"]);
      const mask = expected.mask === undefined
        ? undefined
        : this.toInt(expected.mask, [...path, "mask"]);
      return this.compareNumber(value, mask, actual, path);
    }
    // Named fields.
    if (!actual.fields) {
      this.error(
        path,
        `${formatHex(actual.value, actual.width)} has no named fields: expected a number, ` +
          "{ value, mask } or any",
      );
    }
    for (const [name, e] of Object.entries(expected)) {
      const field: BitField | undefined = actual.fields[name];
      if (!field) {
        const names = Object.keys(actual.fields);
        this.error(
          [...path, name],
          `unknown field ${name}${hint(name, names)}: the fields are ${names.join(", ")}`,
        );
      }
      const v = (actual.value >> BigInt(field.lsb)) & ((1n << BigInt(field.width)) - 1n);
      this.numeric(e, {
        value: v,
        width: field.width,
        symbols: field.values,
        fixedWidth: true,
      }, [...path, name]);
    }
  }

  toInt(v: MatchValue, path: ValuePath): bigint {
    if (typeof v === "bigint") return v;
    if (typeof v === "string") {
      try {
        return parseInteger(v);
      } catch (e) {
        this.error(path, (e as Error).message, false);
      }
    }
    this.error(path, "expected an integer", false);
  }

  compareNumber(
    expected: bigint,
    mask: bigint | undefined,
    actual: Numeric,
    path: ValuePath,
  ): void {
    const got = mask === undefined ? actual.value : actual.value & mask;
    const want = mask === undefined ? expected : expected & mask;
    if (actual.fixedWidth && want >> BigInt(actual.width) !== 0n) {
      // No state can ever match: the scenario is wrong, not the machine.
      this.error(
        path,
        `${formatHex(want, 0)} does not fit in ${
          actual.width === 1 ? "a 1-bit field" : `${actual.width} bits`
        }: expected at most ${formatHex((1n << BigInt(actual.width)) - 1n, 0)}`,
        false,
      );
    }
    if (got !== want) {
      const w = actual.width;
      this.fail(
        path,
        mask === undefined ? "Mismatch" : `Mismatch under mask ${formatHex(mask, w)}`,
        formatHex(want, w) + symbolOf({ ...actual, value: want }),
        formatHex(got, w) + symbolOf({ ...actual, value: got }),
      );
    }
  }

  // ---- memory

  memory(checks: readonly MemoryCheck[], subject: ExpectationSubject): void {
    checks.forEach((check, i) => {
      const path: ValuePath = ["memory", i];
      const machine = subject.machine ??
        this.error(path, "there is no machine memory to check (no power_on or boot step)");
      const kinds = (["bytes", "u8", "u16", "u32", "u64", "zero", "sha256", "segment"] as const)
        .filter((k) => check[k] !== undefined);
      if (kinds.length !== 1) {
        this.error(
          path,
          `expected exactly one of bytes, u8, u16, u32, u64, zero, sha256, segment; found ${
            kinds.length === 0 ? "none" : kinds.join(", ")
          }`,
          false,
        );
      }
      const kind = kinds[0];
      let at = check.at;
      if (kind === "segment") {
        const segs = subject.segments ??
          this.error([...path, "segment"], "no kexec segments were loaded");
        const seg = segs[check.segment!] ??
          this.error(
            [...path, "segment"],
            `no segment ${check.segment}: ${segs.length} were loaded`,
            false,
          );
        at ??= seg.mem;
        const base = this.addr(at, path);
        const got = machine.memory.readBytes(base, seg.bytes.length);
        const diff = firstDiff(seg.bytes, got);
        if (diff >= 0) {
          return this.fail(
            [...path, "segment"],
            `Memory differs from segment ${check.segment} at ${formatHex(BigInt(base + diff))}`,
            hexBytes(seg.bytes, diff),
            hexBytes(got, diff),
          );
        }
        const rest = Number(seg.memsz) - seg.bytes.length;
        if (rest > 0) this.zero(machine, base + seg.bytes.length, rest, [...path, "segment"]);
        return;
      }
      if (at === undefined) this.error(path, "missing at: (the address to check)", false);
      const addr = this.addr(at, path);
      const mem = machine.memory;
      switch (kind) {
        case "bytes": {
          const want = parseHexBytes(check.bytes!) ??
            this.error([...path, "bytes"], 'expected hex bytes such as "de ad be ef"', false);
          const got = mem.readBytes(addr, want.length);
          const d = firstDiff(want, got);
          if (d >= 0) {
            this.fail(
              [...path, "bytes"],
              `Memory differs at ${formatHex(BigInt(addr + d))}`,
              hexBytes(want, d),
              hexBytes(got, d),
            );
          }
          return;
        }
        case "u8":
        case "u16":
        case "u32":
        case "u64": {
          const bits = Number(kind.slice(1));
          const bytes = mem.readBytes(addr, bits / 8);
          let v = 0n;
          for (let k = 0; k < bytes.length; k++) {
            const b = machine.endianness === "little" ? bytes[bytes.length - 1 - k] : bytes[k];
            v = (v << 8n) | BigInt(b);
          }
          const e = check[kind] as MatchValue;
          if (e === "any") return;
          this.numeric(e, { value: v, width: bits }, [...path, kind]);
          return;
        }
        case "zero":
          this.zero(machine, addr, this.len(check.zero!, [...path, "zero"]), [...path, "zero"]);
          return;
        case "sha256": {
          const len = this.len(check.sha256!.size, [...path, "sha256", "size"]);
          const hash = createHash("sha256");
          for (let off = 0; off < len; off += 1 << 20) {
            hash.update(mem.readBytes(addr + off, Math.min(1 << 20, len - off)));
          }
          const got = hash.digest("hex");
          const want = check.sha256!.value.toLowerCase();
          if (got !== want) {
            this.fail(
              [...path, "sha256"],
              `SHA-256 of ${len} bytes at ${formatHex(BigInt(addr))} differs`,
              want,
              got,
            );
          }
          return;
        }
      }
    });
  }

  zero(machine: MachineLike, addr: number, len: number, path: ValuePath): void {
    for (let off = 0; off < len; off += 1 << 16) {
      const n = Math.min(1 << 16, len - off);
      const chunk = machine.memory.readBytes(addr + off, n);
      const i = chunk.findIndex((b) => b !== 0);
      if (i >= 0) {
        this.fail(
          path,
          `Non-zero byte at ${formatHex(BigInt(addr + off + i))}`,
          "00",
          hexBytes(chunk, i),
        );
        return;
      }
    }
  }

  addr(at: bigint, path: ValuePath): number {
    if (at > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.error([...path, "at"], "address beyond 2^53", false);
    }
    return Number(at);
  }

  len(n: bigint, path: ValuePath): number {
    if (n > 1n << 32n) this.error(path, "range longer than 4 GiB", false);
    return Number(n);
  }

  // ---- console, segments, run

  console(expected: NonNullable<ExpectSection["console"]>, subject: ExpectationSubject): void {
    const machine = subject.machine ??
      this.error(["console"], "there is no machine console (no power_on or boot step)");
    const out = machine.console;
    if (typeof expected === "string") {
      if (out !== expected) {
        this.fail(
          ["console"],
          "Console output differs",
          JSON.stringify(expected),
          JSON.stringify(out),
        );
      }
    } else if ("contains" in expected) {
      if (!out.includes(expected.contains)) {
        this.fail(
          ["console", "contains"],
          "Console output does not contain the text",
          JSON.stringify(expected.contains),
          JSON.stringify(out),
        );
      }
    } else {
      let re: RegExp;
      try {
        re = new RegExp(expected.regex, "m");
      } catch (e) {
        this.error(
          ["console", "regex"],
          `invalid regular expression: ${(e as Error).message}`,
          false,
        );
      }
      if (!re.test(out)) {
        this.fail(
          ["console", "regex"],
          "Console output does not match",
          `/${expected.regex}/`,
          JSON.stringify(out),
        );
      }
    }
  }

  segments(expected: readonly MatchValue[], subject: ExpectationSubject): void {
    const segs = subject.segments ?? this.error(["segments"], "no kexec segments were loaded");
    if (segs.length !== expected.length) {
      this.fail(
        ["segments"],
        "Wrong number of segments",
        String(expected.length),
        String(segs.length),
      );
    }
    const actual: Snapshot[] = segs.map((s) => ({
      mem: s.mem,
      memsz: s.memsz,
      bufsz: BigInt(s.bytes.length),
      sha256: createHash("sha256").update(s.bytes).digest("hex"),
      ...(s.info ?? {}),
    }));
    expected.forEach((e, i) => {
      if (i < actual.length) this.match(e, actual[i], ["segments", i]);
    });
  }

  run(expected: NonNullable<ExpectSection["run"]>, subject: ExpectationSubject): void {
    const r = subject.lastRun ?? this.error(["run"], "no run step ran");
    const actual: Snapshot = {
      reason: r.reason,
      instructions: r.instructions,
      ...(r.exitCode === undefined ? {} : { exit_code: r.exitCode }),
    };
    for (const [k, e] of Object.entries(expected)) {
      if (e === undefined) continue;
      if (!Object.hasOwn(actual, k)) {
        this.fail(["run", k], `The run has no ${k}`, render(e as MatchValue), "nothing");
        continue;
      }
      this.match(e as MatchValue, actual[k], ["run", k]);
    }
  }
}

function render(v: MatchValue | SnapshotValue | undefined): string {
  if (typeof v === "bigint") return formatHex(v);
  if (typeof v === "string") return v;
  if (v instanceof RegisterValue) return v.toString();
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? formatHex(x) : x));
}

function parseHexBytes(text: string): Uint8Array | undefined {
  const clean = text.replace(/0x/gi, "").replace(/[\s:,_-]/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Up to 16 bytes in hex starting at `from`, e.g. `de ad be ef`. */
function hexBytes(bytes: Uint8Array, from: number): string {
  const slice = bytes.subarray(from, from + 16);
  const s = [...slice].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return (from > 0 ? `+${from}: ` : "") + s + (bytes.length > from + 16 ? " ..." : "");
}
