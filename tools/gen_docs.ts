/**
 * Generates the user reference pages `docs/expectations.md` (every snapshot key and named bit
 * field the `expect:` sections can name) and `docs/boards.md` (the built-in boards), from the
 * real field tables, the real snapshots of every board and the `boards` table itself, so the
 * pages cannot drift: `tools/gen_docs_test.ts` fails when a committed page differs from what
 * this module produces.
 *
 * Regenerate with `deno task docs`.
 *
 * @module
 */

import {
  BIOS_ROM_BASE,
  type BitField,
  boards,
  BOOTSECTOR_ADDR,
  buildMachine,
  createX86KexecArch,
  disassembleText,
  E820_COPY_ADDR,
  findMpTables,
  formatHex,
  IOAPIC_BASE,
  LinuxKernelModel,
  MAX_CPUS,
  MP_FLOATING_ADDR,
  type MpTables,
  PATCHES,
  RegisterValue,
  type Snapshot,
  type SnapshotValue,
  Trace,
  x86CpuFactory,
  x86Models,
} from "../mod.ts";
import type { FieldTable } from "../hw/fields.ts";
import { MEMORY_CHECK_KINDS } from "../runner/schema.ts";

/** Where the generated pages go, relative to the project root. */
export const GENERATED_DOCS = {
  expectations: "docs/expectations.md",
  boards: "docs/boards.md",
} as const;

// ---------------------------------------------------------------------------------------------
// Snapshot sources: every board with its default CPU, plus an i386 on pc-legacy; each as powered
// on, after the kernel model's boot, after kexec_load and after reboot(KEXEC), and with a crash
// kernel loaded and after panic.

interface Source {
  readonly label: string;
  readonly snapshot: Snapshot;
}

function machineFor(board: string, model: string, trace?: Trace) {
  return buildMachine({ board, cpu: { model } }, {
    cpu: x86CpuFactory(model, { disassemble: disassembleText }),
    trace,
  });
}

function sources(): Source[] {
  const out: Source[] = [];
  const variants: [string, string][] = Object.values(boards).map((b) => [b.name, b.defaultCpu]);
  variants.push(["pc-legacy", "i386"]);
  for (const [board, model] of variants) {
    const label = model === boards[board].defaultCpu ? board : `${board} (${model})`;
    const bare = machineFor(board, model);
    out.push({ label, snapshot: bare.snapshot() });

    const machine = machineFor(board, model);
    const longMode = boards[board].longMode;
    const kernel = new LinuxKernelModel(machine, {
      version: "2.6.13",
      cmdline: "crashkernel=16M@16M",
      arch: createX86KexecArch(machine, { arch: longMode ? "x86_64" : "i386" }),
    });
    kernel.boot();
    const withKernel = () => ({ ...machine.snapshot(), kernel: kernel.snapshot() });
    out.push({ label, snapshot: withKernel() });
    const buf = new Uint8Array([0xfa, 0xf4]); // cli; hlt
    kernel.kexecLoad({ entry: 0x100000, segments: [{ buf, mem: 0x100000, memsz: 0x1000 }] });
    out.push({ label, snapshot: withKernel() });
    kernel.reboot({ cmd: "kexec" });
    machine.run({ until: "halt", maxInstructions: 100_000 });
    out.push({ label, snapshot: withKernel() });

    // The crash path: a crash kernel in the crashkernel= region, then panic().
    const crashed = machineFor(board, model);
    const crashKernel = new LinuxKernelModel(crashed, {
      version: "2.6.13",
      cmdline: "crashkernel=16M@16M",
      arch: createX86KexecArch(crashed, { arch: longMode ? "x86_64" : "i386" }),
    });
    crashKernel.boot();
    const at = 0x1000000;
    crashKernel.kexecLoad({ entry: at, crash: true, segments: [{ buf, mem: at, memsz: 0x1000 }] });
    const withCrash = () => ({ ...crashed.snapshot(), kernel: crashKernel.snapshot() });
    out.push({ label, snapshot: withCrash() });
    crashKernel.panic({});
    crashed.run({ until: "halt", maxInstructions: 100_000 });
    out.push({ label, snapshot: withCrash() });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shape inference: the union of every source's snapshot, with CPU/pin indices collapsed.

interface Node {
  /** Labels of the sources that have this key. */
  readonly labels: Set<string>;
  /** Register widths seen. */
  readonly widths: Set<number>;
  /** Field tables seen (by identity). */
  readonly tables: Set<FieldTable>;
  /** Scalar kinds seen: integer, string, boolean, null, list, map, register. */
  readonly kinds: Set<string>;
  /** String values seen. */
  readonly strings: Set<string>;
  /** Map children. */
  readonly children: Map<string, Node>;
  /** List elements. */
  element?: Node;
  /** The map's keys are indices (`0`, `1`, ...), collapsed into one child `<n>`. */
  indexed: boolean;
}

function newNode(): Node {
  return {
    labels: new Set(),
    widths: new Set(),
    tables: new Set(),
    kinds: new Set(),
    strings: new Set(),
    children: new Map(),
    indexed: false,
  };
}

function add(node: Node, value: SnapshotValue | undefined, label: string): void {
  node.labels.add(label);
  if (value instanceof RegisterValue) {
    node.kinds.add("register");
    node.widths.add(value.width);
    if (value.fields) node.tables.add(value.fields);
  } else if (typeof value === "number" || typeof value === "bigint") {
    node.kinds.add("integer");
  } else if (typeof value === "string") {
    node.kinds.add("string");
    if (value !== "" && value.length <= 24 && !value.includes("\n")) node.strings.add(value);
  } else if (typeof value === "boolean") {
    node.kinds.add("boolean");
  } else if (value === null || value === undefined) {
    node.kinds.add("null");
  } else if (Array.isArray(value)) {
    node.kinds.add("list");
    node.element ??= newNode();
    for (const v of value as readonly SnapshotValue[]) add(node.element, v, label);
  } else {
    node.kinds.add("map");
    const entries = Object.entries(value as Snapshot);
    const indexed = entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k));
    if (indexed) node.indexed = true;
    for (const [k, v] of entries) {
      const key = indexed ? "<n>" : k;
      let child = node.children.get(key);
      if (!child) node.children.set(key, child = newNode());
      add(child, v, label);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering helpers.

function code(s: string): string {
  return "`" + s + "`";
}

function table(header: string[], rows: string[][]): string {
  const esc = (c: string) => c.replaceAll("|", "\\|");
  const lines = [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ];
  return lines.join("\n");
}

function bits(f: BitField): string {
  return f.width === 1 ? `${f.lsb}` : `${f.lsb + f.width - 1}:${f.lsb}`;
}

function fieldRows(t: FieldTable): string[][] {
  return Object.entries(t)
    .sort((a, b) => a[1].lsb - b[1].lsb)
    .map(([name, f]) => [
      code(name),
      bits(f),
      f.values
        ? Object.entries(f.values).map(([n, v]) => `${code(n)} (${v})`).join(", ")
        : f.width === 1
        ? "0/1, `true`/`false`"
        : `0..${formatHex((1n << BigInt(f.width)) - 1n)}`,
      f.doc ?? "",
    ]);
}

/** Notes for keys whose meaning the value alone does not tell (the test checks they exist). */
export const KEY_NOTES: Readonly<Record<string, string>> = {
  "cpu.<n>.state":
    "run state: `running`, `halted` (HLT, interrupts on), `stopped` (HLT with IF=0), " +
    "`wait-for-sipi`, `shutdown` (triple fault)",
  "cpu.<n>.mode": "`real`, `protected16`, `protected32` (by the CS default size), `long64`, " +
    "`compat` (long mode running 16/32-bit code)",
  "cpu.<n>.retired": "instructions retired by this CPU",
  "cpu.<n>.nmi_blocked": "an NMI handler is running (until IRET)",
  "lapic.<n>.lvt0": "same register as `lvt_lint0`",
  "lapic.<n>.lvt1": "same register as `lvt_lint1`",
  "lapic.<n>.irr_vectors": "the vectors set in `irr`, as a list",
  "lapic.<n>.isr_vectors": "the vectors set in `isr`, as a list",
  "lapic.<n>.tmr_vectors": "the vectors set in `tmr`, as a list",
  "memory_map.iomem": "/proc/iomem-style text of the firmware's resources",
  "kernel.iomem": "/proc/iomem text after the old kernel's boot",
  "kernel.image": "the loaded kexec image, or `null`",
  "kernel.crash_image": "the loaded crash kernel image, or `null`",
  "kernel.kexeced": "the image machine_kexec entered (`null` until a reboot or crash kexec)",
  "debug.output": "text written to port 0xE9 (also `expect: console:`)",
  "debug.exit_code": "value written to port 0xF4, or `null`",
};

function describe(path: string, node: Node, tableNames: Map<FieldTable, string>): string {
  const parts: string[] = [];
  for (const kind of [...node.kinds].sort()) {
    switch (kind) {
      case "register": {
        const w = [...node.widths].sort((a, b) => a - b).join("/");
        const t = [...node.tables].map((t) => tableNames.get(t)!).filter(Boolean);
        parts.push(
          `${w}-bit register` +
            (t.length ? `, fields: ${t.map((n) => `[${n}](#${anchor(n)})`)}` : ""),
        );
        break;
      }
      case "string": {
        const seen = [...node.strings].sort();
        parts.push(seen.length ? `string (seen: ${seen.map(code).join(", ")})` : "string");
        break;
      }
      case "map":
        parts.push("map");
        break;
      case "list":
        parts.push(node.element && node.element.kinds.size ? "list" : "list (empty here)");
        break;
      default:
        parts.push(kind);
    }
  }
  const note = KEY_NOTES[path];
  return parts.join(" or ") + (note ? ` — ${note}` : "");
}

function anchor(name: string): string {
  return "fields-" + name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/-+$/, "");
}

function flatten(
  prefix: string,
  node: Node,
  out: [string, Node][],
): void {
  for (const [k, child] of node.children) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push([p, child]);
    flatten(p, child, out);
    if (child.element) {
      const ep = `${p}[<i>]`;
      if (child.element.children.size) flatten(ep, child.element, out);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// docs/expectations.md

const SECTION_TEXT: Record<string, string> = {
  machine: "The machine as built: board, CPU model and count, virtual time, instruction count.",
  cpu: "One entry per CPU index (`cpu: { 0: { ... }, 1: { ... } }`). Registers carry the CPU " +
    "model's width: x86-64 models add `rax`… `r15` and `rip` beside `eax`… (which show " +
    "the low halves); on models without CR4 or EFER those registers read 0.",
  pic: "The 8259A pair (`master`, `slave`) and the ELCR.",
  imcr: "The IMCR (boards with `imcr`).",
  pit: "The 8254 PIT: three channels and port 0x61.",
  debug: "The debug console (0xE9) and exit (0xF4) ports.",
  memory_map: "The firmware's e820 map and iomem resources.",
  lapic: "One local APIC per CPU index (boards with local APICs).",
  ioapic: "The 82093AA IOAPIC (boards with `ioapic`); `pins` by pin number.",
  kernel: "The kernel model's state (scenarios with a `boot` step). Entries of `kexeced` and " +
    "`image` are read from guest memory.",
};

/**
 * The text of `docs/expectations.md`.
 *
 * @example
 * ```ts ignore
 * import { expectationsMarkdown } from "./gen_docs.ts";
 * expectationsMarkdown().startsWith("# Expectations reference"); // true
 * ```
 */
export function expectationsMarkdown(): string {
  const root = newNode();
  const all = sources();
  for (const s of all) add(root, s.snapshot, s.label);
  const everyLabel = new Set(all.map((s) => s.label));

  const out: string[] = [];
  out.push(
    "<!-- Generated by tools/gen_docs.ts (deno task docs); tools/gen_docs_test.ts fails when stale. -->",
    "",
    "# Expectations reference",
    "",
    "Every key an `expect:` section can name, with the named bit fields of each register and",
    "their symbolic values. The tables are generated from the real snapshots of every built-in",
    "board (see [boards.md](boards.md)) with its default CPU (and an i386 on `pc-legacy`): as",
    "powered on, after the kernel model's `boot`, after `kexec_load`, after `reboot`, and with",
    "a crash kernel loaded and after `panic`. How values are matched (`{ value, mask }`, `any`,",
    "partial maps) is in [scenario-language.md](scenario-language.md#expectations).",
    "",
    "Paths below use `<n>` for a CPU, pin or list index: `cpu.<n>.cr0` is written",
    "`cpu: { 0: { cr0: { pg: 0 } } }`. A register with fields can be matched as a whole",
    "(`imr: 0xfb`), under a mask (`{ value: 0x01, mask: 0x01 }`) or field by field",
    "(`imr: { ir0: 1 }`); a field with symbolic values takes the name or the number",
    "(`delivery: ExtINT` or `delivery: 7`), a one-bit field also `true`/`false`.",
    "",
    "Sections:",
    "",
  );
  const sectionNames = [...root.children.keys()];
  const fixed = ["memory", "console", "segments", "run"];
  out.push(
    [...sectionNames, ...fixed].map((n) => `[\`${n}\`](#${n.replace("_", "_")})`).join(" · "),
    "",
  );

  for (const [section, node] of root.children) {
    out.push(`## ${section}`, "");
    if (SECTION_TEXT[section]) out.push(SECTION_TEXT[section], "");
    const missing = [...everyLabel].filter((l) => !node.labels.has(l));
    if (missing.length) out.push(`Absent on: ${missing.map(code).join(", ")}.`, "");

    // Name each field table after the keys that use it.
    const users = new Map<FieldTable, string[]>();
    const rowsIn: [string, Node][] = [];
    flatten(section, node, rowsIn);
    for (const [p, n] of rowsIn) {
      for (const t of n.tables) {
        const key = p.split(".").filter((k) => k !== "<n>").at(-1)!;
        const list = users.get(t) ?? [];
        if (!list.includes(key)) list.push(key);
        users.set(t, list);
      }
    }
    const tableNames = new Map<FieldTable, string>();
    for (const [t, keys] of users) tableNames.set(t, `${section}: ${keys.join(", ")}`);

    const rows = rowsIn
      .filter(([, n]) => !(n.kinds.size === 1 && n.kinds.has("map") && n.children.size > 0))
      .map(([p, n]) => {
        const where = n.labels.size < node.labels.size
          ? [...n.labels].filter((l) => !l.includes("(")).join(", ") ||
            [...n.labels].join(", ")
          : "";
        return [code(p), describe(p, n, tableNames), where];
      });
    if (rows.length) out.push(table(["key", "value", "only on"], rows), "");
    for (const [t, name] of tableNames) {
      out.push(`### Fields: ${name}`, "", `<a id="${anchor(name)}"></a>`, "");
      out.push(table(["field", "bits", "values", "meaning"], fieldRows(t)), "");
    }
  }

  out.push(
    "## memory",
    "",
    "Not part of the snapshot: a list of checks of guest physical memory, each `at:` plus one of",
    MEMORY_CHECK_KINDS.map(code).join(", ") + ".",
    "",
    "## console",
    "",
    "The debug port 0xE9 output (`debug.output`): a string (exact), `{ contains }` or `{ regex }`.",
    "",
    "## segments",
    "",
    "The segment list the last `kexec_load` built, in `mem` order, each matched partially",
    "against `{ mem, memsz, bufsz, sha256, label }`.",
    "",
    "## run",
    "",
    "The last `run` step's result: `reason` (`halted`, `all-halted`, `exit`, `shutdown`,",
    "`budget`), `instructions`, `exit_code`.",
    "",
  );
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// docs/boards.md

function size(n: number | bigint): string {
  const v = BigInt(n);
  for (const [unit, s] of [["G", 30n], ["M", 20n], ["K", 10n]] as const) {
    if (v !== 0n && v % (1n << s) === 0n) return `${v >> s}${unit}`;
  }
  return formatHex(v);
}

const WIRING: Record<string, string> = {
  intr: "the master 8259's INT goes straight to the CPU's INTR pin",
  imcr: "the master 8259's INT goes through the IMCR to the BSP's INTR (PIC mode, IMCR=0) or " +
    "is cut off (APIC mode, IMCR=1)",
  lint0: "the master 8259's INT goes to LINT0 of every local APIC (virtual wire A)",
  ioapic: "the master 8259's INT goes to an IOAPIC pin programmed ExtINT (virtual wire B)",
};

function mpSummary(mp: MpTables | undefined): string {
  if (!mp) return "none";
  const extint = mp.ioInterrupts.filter((e) => e.type === "ExtINT").map((e) => `pin ${e.pin}`);
  const lints = mp.localInterrupts.map((e) => `${e.type} on LINT${e.lint}`);
  return [
    `at ${formatHex(mp.floatingAddr)}, ${code(`${mp.oemId.trim()} ${mp.productId.trim()}`)}`,
    `${mp.processors.length} processor(s)`,
    `IMCRP ${mp.imcr ? "set (PIC mode)" : "clear"}`,
    `${mp.ioApics.length} IOAPIC(s)`,
    `ExtINT I/O entry: ${extint.length ? extint.join(", ") : "none"}`,
    `local entries: ${lints.join(", ") || "none"}`,
  ].join("; ");
}

/** The `machine:` override example of `docs/boards.md` (the test loads and builds it). */
export const OVERRIDE_EXAMPLE: string = `machine:
  board: pc-ioapic
  cpu: { model: pentium4-xeon, count: 4 }   # CPU model and count
  memory: 1G            # or an explicit e820 list, e.g.
  # memory: [ { base: 0, size: 0x9fc00, type: ram }, { base: 1M, size: 255M, type: ram } ]
  wiring: { pic_output: ioapic, extint_pin: 0, ioapic_pins: 24 }
  mptable: { present: true, imcr: false, extint_pin: 0 }   # what the BIOS claims
  timing: { ns_per_instruction: 10, quantum: 1000 }
`;

/**
 * The text of `docs/boards.md`.
 *
 * @example
 * ```ts ignore
 * import { boardsMarkdown } from "./gen_docs.ts";
 * boardsMarkdown().includes("## pc-legacy"); // true
 * ```
 */
export function boardsMarkdown(): string {
  const out: string[] = [
    "<!-- Generated by tools/gen_docs.ts (deno task docs); tools/gen_docs_test.ts fails when stale. -->",
    "",
    "# Built-in boards",
    "",
    "`machine: { board: NAME }` picks one of these profiles (`boards` in `hw/platforms.ts`);",
    "every part can be overridden in the same section:",
    "",
    "```yaml",
    OVERRIDE_EXAMPLE.trimEnd(),
    "```",
    "",
    "A machine that cannot exist (two CPUs without local APICs, an IOAPIC or virtual wire",
    "without local APICs, RAM beyond the CPU's MAXPHYADDR, an x86-64 board with a 32-bit CPU,",
    "an unknown board or model) is a load error naming the key (`machine.cpu.count: ...`).",
    "",
    `CPU models: ${Object.keys(x86Models).map(code).join(", ")}.`,
    "",
    "What the BIOS leaves on every board (`hw/firmware.ts`): the e820 map below, with a copy",
    `of it in guest memory at ${formatHex(E820_COPY_ADDR)} for bare-metal guests and the kernel`,
    `model; the BIOS ROM at ${formatHex(BIOS_ROM_BASE)} (reset vector, a POST stub that jumps`,
    `to the boot sector at ${formatHex(BOOTSECTOR_ADDR)}, an IRET handler every IVT vector`,
    `points to), mirrored below 4 GiB; an MP table at ${formatHex(MP_FLOATING_ADDR)} on boards`,
    "with local APICs; and the interrupt hardware as the POST programs it, through ports and",
    "MMIO. The firmware steps and the state below come from a freshly built machine with the",
    "board's defaults (every state key is in [expectations.md](expectations.md)).",
    "",
  ];
  for (const b of Object.values(boards)) {
    const trace = new Trace({ full: true });
    const m = machineFor(b.name, b.defaultCpu, trace);
    const s = m.snapshot() as Snapshot & Record<string, Snapshot>;
    const model = x86Models[b.defaultCpu];
    out.push(`## ${b.name}`, "", `${b.description}.`, "");
    const devices = ["8259A pair (0x20/0x21, 0xA0/0xA1)", "8254 PIT (0x40-0x43, port 0x61)"];
    if (b.elcr) devices.push("ELCR (0x4D0/0x4D1)");
    if (b.imcr) devices.push("IMCR (0x22/0x23)");
    if (b.localApic) devices.push(`local APIC per CPU at ${formatHex(m.lapics[0]?.base ?? 0)}`);
    if (m.ioapic) {
      devices.push(
        `82093AA IOAPIC at ${formatHex(IOAPIC_BASE)} (${
          Object.keys(s.ioapic.pins as Snapshot).length
        } pins)`,
      );
    }
    devices.push("debug console 0xE9, exit port 0xF4");
    out.push(
      table(["", ""], [
        ["CPU default", `${code(b.defaultCpu)} × ${b.defaultCount}`],
        [
          "CPU count",
          b.localApic
            ? `1..${MAX_CPUS} (at most what the model's APIC ID width allows)`
            : "1 (no local APICs)",
        ],
        ["needs long mode", b.longMode ? "yes (x86-64 CPU models only)" : "no"],
        ["RAM default", size(b.defaultMemory)],
        ["PCI hole", `${formatHex(b.pciHoleBase)} (RAM above it is remapped at 4G)`],
        ["ACPI tables", b.acpi ? "yes (last 64K of low RAM)" : "no"],
        ["devices", devices.join("; ")],
        [
          "wiring",
          `${code(b.picOutput)}: ${WIRING[b.picOutput]}` +
          (b.picOutput === "ioapic" ? ` (pin ${b.extintPin})` : ""),
        ],
        ["MP table (read back from guest memory)", mpSummary(findMpTables(m.memory))],
        [
          "default CPU facts",
          `MAXPHYADDR ${model.info.maxPhysAddr}, ${model.info.longMode ? "" : "no "}long mode, ` +
          `${model.info.threadsPerPackage} thread(s) per package`,
        ],
      ]),
      "",
    );
    out.push("Default e820 map (`memory_map.e820`):", "");
    out.push(
      table(
        ["base", "size", "type"],
        (s.memory_map.e820 as unknown as { base: number; size: number; type: string }[]).map((
          e,
        ) => [
          formatHex(e.base),
          size(e.size),
          e.type,
        ]),
      ),
      "",
    );
    const pic = s.pic as Record<string, Snapshot>;
    const post: string[][] = [
      [
        "8259 master",
        `vector base ${formatHex(Number(pic.master.vector_base))}, imr ${
          String(pic.master.imr)
        }, init ${pic.master.init_state}`,
      ],
      [
        "8259 slave",
        `vector base ${formatHex(Number(pic.slave.vector_base))}, imr ${
          String(pic.slave.imr)
        }, init ${pic.slave.init_state}`,
      ],
    ];
    if (s.imcr) {
      post.push(["IMCR", `mode ${s.imcr.mode}, value ${formatHex(Number(s.imcr.value), 8)}`]);
    }
    if (s.lapic) {
      const l = (s.lapic as Record<string, Snapshot>)["0"];
      post.push([
        "local APIC 0",
        `svr ${String(l.svr)}, lvt0 ${String(l.lvt0)}, lvt1 ${
          String(l.lvt1)
        }, enabled ${l.enabled}`,
      ]);
    }
    const cpu0 = (s.cpu as Record<string, Snapshot>)["0"];
    post.push(["CPU 0", `${cpu0.state}, ${cpu0.mode}`]);
    if (s.cpu && Object.keys(s.cpu).length > 1) {
      post.push(["other CPUs", String((s.cpu as Record<string, Snapshot>)["1"].state)]);
    }
    const firmware = trace.all().filter((e) => e.category === "step").map((e) => e.message);
    out.push("What the firmware did (the machine's trace):", "");
    out.push(...firmware.map((m) => `- ${m}`), "");
    out.push("State after the BIOS:", "", table(["device", "state"], post), "");
  }
  out.push(
    "## Kernel patch switches",
    "",
    "For reference, the `kernel: { patches: ... }` switches (all on by default):",
    "",
    table(
      ["patch", "arches", "with the switch off"],
      PATCHES.map((p) => [code(p.name), p.arches.join(", "), p.off]),
    ),
    "",
  );
  return out.join("\n");
}

if (import.meta.main) {
  await Deno.writeTextFile(GENERATED_DOCS.expectations, expectationsMarkdown());
  await Deno.writeTextFile(GENERATED_DOCS.boards, boardsMarkdown());
}
