/**
 * Named bit fields of hardware registers, and the snapshot values that carry them.
 *
 * Devices and CPU models export a {@linkcode FieldTable} for each register whose bits have
 * datasheet names (CR0.PG, an LVT entry's delivery mode, an IOAPIC redirection entry's mask).
 * A device's `snapshot()` wraps such registers in a {@linkcode RegisterValue}, so the runner can
 * match `cr0: { pg: 0 }` or `lvt0: { delivery: ExtINT }` without knowing the device.
 *
 * @module
 */

/** One named field of a register: `width` bits starting at bit `lsb`. */
export interface BitField {
  /** Least significant bit of the field. */
  readonly lsb: number;
  /** Width in bits (1 for a flag). */
  readonly width: number;
  /** Symbolic names for field values, e.g. `{ Fixed: 0, NMI: 4, ExtINT: 7 }`. */
  readonly values?: Readonly<Record<string, number>>;
  /** One line of datasheet meaning, shown in failure messages and docs. */
  readonly doc?: string;
}

/** A register's named fields, keyed by the lower-case name used in scenarios. */
export type FieldTable = Readonly<Record<string, BitField>>;

/**
 * A register value in a snapshot, with its width and (optionally) its named fields.
 *
 * @example
 * ```ts
 * import { RegisterValue } from "./fields.ts";
 * const cr0 = new RegisterValue(0x80000011n, 32, { pe: { lsb: 0, width: 1 }, pg: { lsb: 31, width: 1 } });
 * cr0.field("pg"); // 1n
 * ```
 */
export class RegisterValue {
  /** The raw value as an unsigned integer. */
  readonly value: bigint;
  /** Width of the register in bits (for hex formatting). */
  readonly width: number;
  /** Named fields, if the register has any. */
  readonly fields: FieldTable | undefined;

  /** Wrap a raw register value; numbers are taken as unsigned. */
  constructor(value: bigint | number, width: number, fields?: FieldTable) {
    const v = typeof value === "bigint" ? value : BigInt(value >= 0 ? value : value >>> 0);
    this.value = BigInt.asUintN(width, v);
    this.width = width;
    this.fields = fields;
  }

  /** Extract a named field; throws `RangeError` for an unknown name. */
  field(name: string): bigint {
    const f = this.fields?.[name];
    if (f === undefined) throw new RangeError(`Unknown register field: ${name}`);
    return extractField(this.value, f);
  }

  /** Hex rendering padded to the register width, e.g. `0x000000ff`. */
  toString(): string {
    return formatHex(this.value, this.width);
  }
}

/**
 * Extract a field from a raw value.
 *
 * @example
 * ```ts
 * import { extractField } from "./fields.ts";
 * extractField(0x00010700n, { lsb: 8, width: 3 }); // 7n (an LVT's delivery mode: ExtINT)
 * ```
 */
export function extractField(value: bigint, field: BitField): bigint {
  return (value >> BigInt(field.lsb)) & ((1n << BigInt(field.width)) - 1n);
}

/**
 * Format an unsigned value as hex padded to `width` bits.
 *
 * @example
 * ```ts
 * import { formatHex } from "./fields.ts";
 * formatHex(0xfen, 8); // "0xfe"
 * ```
 */
export function formatHex(value: bigint | number, width = 0): string {
  const v = typeof value === "bigint" ? value : BigInt(value);
  const digits = Math.ceil(width / 4);
  const s = (v < 0n ? BigInt.asUintN(Math.max(width, 64), v) : v).toString(16);
  return "0x" + s.padStart(digits, "0");
}

/** A value in a state snapshot. */
export type SnapshotValue =
  | number
  | bigint
  | boolean
  | string
  | null
  | RegisterValue
  | readonly SnapshotValue[]
  | Snapshot;

/** A tree of named state, as returned by every device's and CPU's `snapshot()`. */
export interface Snapshot {
  /** A named piece of state: a value, a register, a list or a nested snapshot. */
  readonly [key: string]: SnapshotValue;
}
