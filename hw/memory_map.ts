/**
 * The PC physical memory map as firmware reports it (the BIOS INT 15h/E820 table) and as Linux
 * shows it in `/proc/iomem` (a tree of named resources).
 *
 * - {@linkcode MemoryMap} holds a validated, sorted e820 table: RAM, reserved, ACPI data, ACPI
 *   NVS and unusable ranges. Holes (the VGA window, the PCI hole below 4 GiB, MMIO) are simply
 *   absent from it, as on a real BIOS.
 * - {@linkcode ResourceTree} is the kernel's `iomem_resource`: `request` fails on a conflict like
 *   Linux `request_resource`, `insert` nests like `insert_resource`, and
 *   {@linkcode ResourceTree.format} prints the `/proc/iomem` text (two spaces of indent per level,
 *   start and end in lower-case hex padded to at least 8 digits, `" : "`, name).
 * - {@linkcode e820ReserveResources} builds the top level from the e820 table the way
 *   `e820_reserve_resources()` does. Its `e820_64bit` switch reproduces the x86_64 kexec3 patch:
 *   without it, every entry that ends above 4 GiB is skipped (entries above and entries straddling
 *   4 GiB get no resource), which is what kernels before 2.6.13 did.
 * - {@linkcode encodeE820Table} / {@linkcode decodeE820Table} use the zero-page layout
 *   (`struct e820entry`: u64 addr, u64 size, u32 type; 20 bytes, packed).
 *
 * Addresses are JavaScript numbers (exact up to 2^53, which covers every MAXPHYADDR we model).
 *
 * @module
 */

/** e820 type codes as the BIOS returns them (ACPI spec / zero page). */
export const E820_TYPE = {
  ram: 1,
  reserved: 2,
  acpi: 3,
  nvs: 4,
  unusable: 5,
} as const;

/** An e820 type name. */
export type E820TypeName = keyof typeof E820_TYPE;

/** One e820 entry (`size` in bytes, `base + size` exclusive end). */
export interface E820Entry {
  /** First byte. */
  readonly base: number;
  /** Length in bytes (> 0). */
  readonly size: number;
  /** Range type. */
  readonly type: E820TypeName;
}

/** Size of one packed `struct e820entry`. */
export const E820_ENTRY_SIZE = 20;

/** 4 GiB, the limit of the pre-2.6.13 x86_64 e820 resource filter. */
export const FOUR_GIB = 0x1_0000_0000;

/**
 * A bad memory map: overlapping, empty or out-of-range entries.
 *
 * @example
 * ```ts
 * import { MemoryMap, MemoryMapError } from "./memory_map.ts";
 * try {
 *   new MemoryMap([{ base: 0, size: 0, type: "ram" }]);
 * } catch (e) {
 *   (e as MemoryMapError).field; // "size"
 * }
 * ```
 */
export class MemoryMapError extends RangeError {
  /** Index of the offending entry in the input list, or -1. */
  readonly index: number;
  /** Field of the offending entry (`base`, `size`, `type`) or `""`. */
  readonly field: string;

  /** Create the error for entry `index`. */
  constructor(message: string, options: { index?: number; field?: string } = {}) {
    super(message);
    this.name = "MemoryMapError";
    this.index = options.index ?? -1;
    this.field = options.field ?? "";
  }
}

/**
 * Linux name of an e820 type in `/proc/iomem` (`e820_reserve_resources`).
 *
 * @example
 * ```ts
 * import { e820ResourceName } from "./memory_map.ts";
 * e820ResourceName("nvs"); // "ACPI Non-volatile Storage"
 * ```
 */
export function e820ResourceName(type: E820TypeName): string {
  switch (type) {
    case "ram":
      return "System RAM";
    case "acpi":
      return "ACPI Tables";
    case "nvs":
      return "ACPI Non-volatile Storage";
    default:
      return "reserved";
  }
}

/** Name of an e820 type in the kernel's boot log (`BIOS-e820: ... (usable)`). */
function e820LogName(type: E820TypeName): string {
  switch (type) {
    case "ram":
      return "usable";
    case "acpi":
      return "ACPI data";
    case "nvs":
      return "ACPI NVS";
    case "unusable":
      return "unusable";
    default:
      return "reserved";
  }
}

function hex(v: number, digits: number): string {
  return v.toString(16).padStart(digits, "0");
}

/**
 * A validated e820 table: entries sorted by base, no two overlapping.
 *
 * @example
 * ```ts
 * import { MemoryMap } from "./memory_map.ts";
 * const map = new MemoryMap([
 *   { base: 0, size: 0x9fc00, type: "ram" },
 *   { base: 0x100000, size: 0x3f00000, type: "ram" },
 * ]);
 * map.ramBytes(); // 0x3f9fc00
 * map.typeAt(0x200000); // "ram"
 * ```
 */
export class MemoryMap {
  /** Entries sorted by base. */
  readonly entries: readonly E820Entry[];

  /**
   * Validate and sort `entries`. Throws {@linkcode MemoryMapError} for a non-integer, negative or
   * empty entry, or for two entries that overlap (the error names the later entry of the input).
   */
  constructor(entries: readonly E820Entry[]) {
    entries.forEach((e, i) => {
      if (!(Number.isSafeInteger(e.base) && e.base >= 0)) {
        throw new MemoryMapError(`Memory range ${i} has a bad base: ${e.base}`, {
          index: i,
          field: "base",
        });
      }
      if (!(Number.isSafeInteger(e.size) && e.size > 0)) {
        throw new MemoryMapError(
          `Memory range ${i} has a bad size: ${e.size} (must be a positive integer)`,
          { index: i, field: "size" },
        );
      }
      if (!(e.type in E820_TYPE)) {
        throw new MemoryMapError(
          `Memory range ${i} has an unknown type: ${e.type} (expected one of ${
            Object.keys(E820_TYPE).join(", ")
          })`,
          { index: i, field: "type" },
        );
      }
    });
    const order = entries.map((e, i) => ({ e, i })).sort((a, b) =>
      a.e.base - b.e.base || a.i - b.i
    );
    for (let k = 1; k < order.length; k++) {
      const prev = order[k - 1], cur = order[k];
      if (cur.e.base < prev.e.base + prev.e.size) {
        const later = cur.i > prev.i ? cur : prev, earlier = later === cur ? prev : cur;
        throw new MemoryMapError(
          `Memory range ${later.i} [0x${hex(later.e.base, 1)}-0x${
            hex(later.e.base + later.e.size - 1, 1)
          }] overlaps range ${earlier.i} [0x${hex(earlier.e.base, 1)}-0x${
            hex(earlier.e.base + earlier.e.size - 1, 1)
          }]`,
          { index: later.i, field: "base" },
        );
      }
    }
    this.entries = Object.freeze(order.map((o) => Object.freeze({ ...o.e })));
  }

  /** One past the highest byte of any entry (0 for an empty map). */
  get end(): number {
    let top = 0;
    for (const e of this.entries) top = Math.max(top, e.base + e.size);
    return top;
  }

  /** Total bytes of `ram` entries. */
  ramBytes(): number {
    let n = 0;
    for (const e of this.entries) if (e.type === "ram") n += e.size;
    return n;
  }

  /** The type of the entry containing `addr`, or `undefined` in a hole. */
  typeAt(addr: number): E820TypeName | undefined {
    for (const e of this.entries) if (addr >= e.base && addr < e.base + e.size) return e.type;
    return undefined;
  }

  /** True when `[base, base+size)` lies entirely inside entries of type `type`. */
  covers(base: number, size: number, type: E820TypeName = "ram"): boolean {
    let at = base;
    const end = base + size;
    for (const e of this.entries) {
      if (e.type !== type || e.base + e.size <= at) continue;
      if (e.base > at) return false;
      at = e.base + e.size;
      if (at >= end) return true;
    }
    return at >= end;
  }

  /**
   * The table as the kernel logs it at boot, one line per entry:
   * ` BIOS-e820: 0000000000000000 - 000000000009f800 (usable)`.
   */
  formatBiosLog(): string {
    return this.entries.map((e) =>
      ` BIOS-e820: ${hex(e.base, 16)} - ${hex(e.base + e.size, 16)} (${e820LogName(e.type)})\n`
    ).join("");
  }

  /** Snapshot form for expectations: a list of `{ base, size, type }`. */
  snapshot(): { base: number; size: number; type: string }[] {
    return this.entries.map((e) => ({ base: e.base, size: e.size, type: e.type }));
  }
}

/**
 * Encode entries in the zero-page / INT 15h layout (20 bytes each: u64 addr, u64 size, u32 type,
 * little-endian).
 *
 * @example
 * ```ts
 * import { encodeE820Table } from "./memory_map.ts";
 * encodeE820Table([{ base: 0, size: 0x9fc00, type: "ram" }]).length; // 20
 * ```
 */
export function encodeE820Table(entries: readonly E820Entry[]): Uint8Array {
  const out = new Uint8Array(entries.length * E820_ENTRY_SIZE);
  const dv = new DataView(out.buffer);
  entries.forEach((e, i) => {
    const o = i * E820_ENTRY_SIZE;
    dv.setBigUint64(o, BigInt(e.base), true);
    dv.setBigUint64(o + 8, BigInt(e.size), true);
    dv.setUint32(o + 16, E820_TYPE[e.type], true);
  });
  return out;
}

/**
 * Decode `count` packed entries. Unknown type codes decode as `reserved`, as Linux treats them.
 *
 * @example
 * ```ts
 * import { decodeE820Table, encodeE820Table } from "./memory_map.ts";
 * const bytes = encodeE820Table([{ base: 0x100000, size: 0x100000, type: "acpi" }]);
 * decodeE820Table(bytes, 1)[0].type; // "acpi"
 * ```
 */
export function decodeE820Table(bytes: Uint8Array, count: number): E820Entry[] {
  if (count * E820_ENTRY_SIZE > bytes.length) {
    throw new RangeError(
      `E820 table truncated: ${count} entries need ${
        count * E820_ENTRY_SIZE
      } bytes, got ${bytes.length}`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const names = Object.entries(E820_TYPE);
  const out: E820Entry[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * E820_ENTRY_SIZE;
    const code = dv.getUint32(o + 16, true);
    const type = (names.find(([, v]) => v === code)?.[0] ?? "reserved") as E820TypeName;
    out.push({
      base: Number(dv.getBigUint64(o, true)),
      size: Number(dv.getBigUint64(o + 8, true)),
      type,
    });
  }
  return out;
}

/** One node of the iomem tree; `end` is inclusive, as in Linux `struct resource`. */
export interface Resource {
  /** First byte. */
  readonly start: number;
  /** Last byte (inclusive). */
  readonly end: number;
  /** Name shown in `/proc/iomem`. */
  readonly name: string;
  /** Children sorted by start, non-overlapping, each inside this range. */
  readonly children: Resource[];
}

/**
 * A resource request failed because it overlaps an existing resource.
 *
 * @example
 * ```ts
 * import { ResourceConflictError, ResourceTree } from "./memory_map.ts";
 * const tree = new ResourceTree({ end: 0xffffffff });
 * tree.request({ start: 0, end: 0xfff, name: "a" });
 * try {
 *   tree.request({ start: 0x800, end: 0x1fff, name: "b" });
 * } catch (e) {
 *   (e as ResourceConflictError).conflict.name; // "a"
 * }
 * ```
 */
export class ResourceConflictError extends RangeError {
  /** The resource already there. */
  readonly conflict: Resource;

  /** Create the error. */
  constructor(message: string, conflict: Resource) {
    super(message);
    this.name = "ResourceConflictError";
    this.conflict = conflict;
  }
}

function formatRange(r: { start: number; end: number }): string {
  return `${hex(r.start, 8)}-${hex(r.end, 8)}`;
}

/**
 * The kernel's iomem resource tree. The root spans the whole physical address space.
 *
 * @example
 * ```ts
 * import { ResourceTree } from "./memory_map.ts";
 * const iomem = new ResourceTree({ end: 2 ** 36 - 1 });
 * const ram = iomem.request({ start: 0x100000, end: 0x3ffffff, name: "System RAM" });
 * iomem.request({ start: 0x100000, end: 0x2fffff, name: "Kernel code" }, ram);
 * iomem.format(); // "00100000-03ffffff : System RAM\n  00100000-002fffff : Kernel code\n"
 * ```
 */
export class ResourceTree {
  /** The root (`iomem_resource`, named "PCI mem"), not printed. */
  readonly root: Resource;

  /** Create an empty tree whose root spans `[0, end]`. */
  constructor(options: { end: number }) {
    this.root = { start: 0, end: options.end, name: "PCI mem", children: [] };
  }

  /**
   * Add `res` as a child of `parent` (default the root), like Linux `request_resource`: throws
   * {@linkcode ResourceConflictError} when it is not inside the parent or overlaps a sibling.
   * Returns the new node.
   */
  request(
    res: { start: number; end: number; name: string },
    parent: Resource = this.root,
  ): Resource {
    if (!(res.end >= res.start && res.start >= parent.start && res.end <= parent.end)) {
      throw new ResourceConflictError(
        `Resource ${formatRange(res)} ${res.name} is not inside ${
          formatRange(parent)
        } ${parent.name}`,
        parent,
      );
    }
    const sib = parent.children;
    let i = 0;
    while (i < sib.length && sib[i].end < res.start) i++;
    if (i < sib.length && sib[i].start <= res.end) {
      throw new ResourceConflictError(
        `Resource ${formatRange(res)} ${res.name} conflicts with ${formatRange(sib[i])} ${
          sib[i].name
        }`,
        sib[i],
      );
    }
    const node: Resource = { start: res.start, end: res.end, name: res.name, children: [] };
    sib.splice(i, 0, node);
    return node;
  }

  /**
   * Add `res` like Linux `insert_resource`: it goes as deep as possible; siblings that lie fully
   * inside it become its children. Throws {@linkcode ResourceConflictError} on a partial overlap.
   */
  insert(
    res: { start: number; end: number; name: string },
    parent: Resource = this.root,
  ): Resource {
    for (;;) {
      const inner = parent.children.find((c) => c.start <= res.start && c.end >= res.end);
      if (inner === undefined || (inner.start === res.start && inner.end === res.end)) break;
      parent = inner;
    }
    const sib = parent.children;
    const node: Resource = { start: res.start, end: res.end, name: res.name, children: [] };
    const keep: Resource[] = [];
    for (const c of sib) {
      if (c.end < res.start || c.start > res.end) keep.push(c);
      else if (c.start >= res.start && c.end <= res.end) node.children.push(c);
      else {
        throw new ResourceConflictError(
          `Resource ${formatRange(res)} ${res.name} partly overlaps ${formatRange(c)} ${c.name}`,
          c,
        );
      }
    }
    keep.push(node);
    keep.sort((a, b) => a.start - b.start);
    sib.splice(0, sib.length, ...keep);
    return node;
  }

  /** Every resource in depth-first order with its nesting depth (root excluded). */
  walk(): { resource: Resource; depth: number }[] {
    const out: { resource: Resource; depth: number }[] = [];
    const visit = (r: Resource, depth: number) => {
      for (const c of r.children) {
        out.push({ resource: c, depth });
        visit(c, depth + 1);
      }
    };
    visit(this.root, 0);
    return out;
  }

  /** The first resource named `name` (depth first), if any. */
  find(name: string): Resource | undefined {
    return this.walk().find((w) => w.resource.name === name)?.resource;
  }

  /** `/proc/iomem` text. */
  format(): string {
    return this.walk().map(({ resource, depth }) =>
      `${"  ".repeat(depth)}${formatRange(resource)} : ${resource.name}\n`
    ).join("");
  }
}

/** Options for {@linkcode e820ReserveResources}. */
export interface E820ReserveOptions {
  /**
   * The x86_64 "e820-64bit" behaviour (kexec3 patch, mainline 2.6.13): every entry gets a
   * resource. When false (kernels up to 2.6.12), entries whose end is above 4 GiB are skipped.
   * Default true.
   */
  e820_64bit?: boolean;
  /** Physical range of the kernel text (`_text` to `_etext - 1`): requested under its RAM entry. */
  kernelCode?: { start: number; end: number };
  /** Physical range of the kernel data (`_etext` to `_edata - 1`). */
  kernelData?: { start: number; end: number };
  /** The `crashkernel=` reservation, requested as "Crash kernel" under its RAM entry. */
  crashKernel?: { start: number; end: number };
}

/**
 * Populate `tree` from an e820 table as Linux `e820_reserve_resources()` does: one resource per
 * entry named by type; conflicts are silently skipped; "Kernel code", "Kernel data" and
 * "Crash kernel" go under the RAM entry that contains them. Returns the e820 entries that got
 * no resource because of the pre-2.6.13 4 GiB filter.
 *
 * @example
 * ```ts
 * import { e820ReserveResources, MemoryMap, ResourceTree } from "./memory_map.ts";
 * const map = new MemoryMap([{ base: 0x1_0000_0000, size: 0x8000_0000, type: "ram" }]);
 * const tree = new ResourceTree({ end: 2 ** 40 - 1 });
 * e820ReserveResources(tree, map, { e820_64bit: false }).length; // 1 (dropped)
 * tree.format(); // ""
 * ```
 */
export function e820ReserveResources(
  tree: ResourceTree,
  map: MemoryMap,
  options: E820ReserveOptions = {},
): E820Entry[] {
  const dropped: E820Entry[] = [];
  const wide = options.e820_64bit ?? true;
  for (const e of map.entries) {
    if (!wide && e.base + e.size > FOUR_GIB) {
      dropped.push(e);
      continue;
    }
    let res: Resource;
    try {
      res = tree.request({
        start: e.base,
        end: e.base + e.size - 1,
        name: e820ResourceName(e.type),
      });
    } catch (err) {
      if (err instanceof ResourceConflictError) continue; // request_resource fails silently
      throw err;
    }
    if (e.type !== "ram") continue;
    const children: [string, { start: number; end: number } | undefined][] = [
      ["Kernel code", options.kernelCode],
      ["Kernel data", options.kernelData],
      ["Crash kernel", options.crashKernel],
    ];
    for (const [name, r] of children) {
      if (r === undefined || r.start < res.start || r.end > res.end) continue;
      try {
        tree.request({ start: r.start, end: r.end, name }, res);
      } catch (err) {
        if (!(err instanceof ResourceConflictError)) throw err;
      }
    }
  }
  return dropped;
}
