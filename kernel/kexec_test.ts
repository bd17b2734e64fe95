import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { PhysicalMemory } from "../hw/memory.ts";
import { IoBus } from "../hw/io_bus.ts";
import { MmioBus } from "../hw/mmio_bus.ts";
import { Trace } from "../hw/trace.ts";
import type { KexecArch, KexecLimits, KexecServices } from "./arch.ts";
import {
  Kexec,
  KEXEC_ARCH_386,
  KEXEC_ARCH_X86_64,
  KEXEC_ON_CRASH,
  type UserSegment,
} from "./kexec.ts";
import {
  IND_DESTINATION,
  IND_DONE,
  IND_INDIRECTION,
  IND_SOURCE,
  type Kimage,
  pageOf,
} from "./kimage.ts";
import { PageAllocator, zonesFor } from "./page_alloc.ts";
import { KernelConfig, type KernelVersion } from "./versions.ts";

const I386: KexecLimits = {
  sourceMemoryLimit: 0xffffffffn,
  destinationMemoryLimit: 0xffffffffn,
  controlMemoryLimit: 0xc0000000n,
  controlCodeSize: 4096,
  kexecArch: KEXEC_ARCH_386,
  wordBytes: 4,
};
const X86_64: KexecLimits = {
  sourceMemoryLimit: 0xffffffffffn,
  destinationMemoryLimit: 0xffffffffffn,
  controlMemoryLimit: 0xffffffffffn,
  controlCodeSize: 8192,
  kexecArch: KEXEC_ARCH_X86_64,
  wordBytes: 8,
};

interface Setup {
  kexec: Kexec;
  memory: PhysicalMemory;
  pages: PageAllocator;
  prepared: Kimage[];
  cleaned: Kimage[];
}

function setup(options: {
  version: KernelVersion;
  limits?: KexecLimits;
  free?: { start: number; end: number }[];
  patches?: Record<string, boolean>;
  crash?: { start: bigint; end: bigint };
}): Setup {
  const limits = options.limits ?? I386;
  const memory = new PhysicalMemory({ addressSpace: 2 ** 40 });
  const trace = new Trace();
  const machine = { memory, io: new IoBus(), bus: new MmioBus({ memory }), trace };
  const name = limits.wordBytes === 8 ? "x86_64" : "i386";
  const pages = new PageAllocator({
    free: options.free ?? [{ start: 0x1000000, end: 0x4000000 }],
    ...zonesFor(name, 2 ** 33),
  });
  const config = new KernelConfig({ version: options.version, patches: options.patches });
  const k: KexecServices = {
    machine,
    config,
    pages,
    allocControlPages: (img, order) => img.allocControlPages(order),
    log: () => {},
  };
  const prepared: Kimage[] = [], cleaned: Kimage[] = [];
  const arch = {
    name,
    limits,
    machineKexecPrepare: (_k: KexecServices, img: Kimage) => void prepared.push(img),
    machineKexecCleanup: (_k: KexecServices, img: Kimage) => void cleaned.push(img),
  } as unknown as KexecArch;
  const kexec = new Kexec({ services: k, arch });
  if (options.crash) kexec.state.crashRegion = options.crash;
  return { kexec, memory, pages, prepared, cleaned };
}

function data(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = (x >>> 16) & 0xff;
  }
  return b;
}

const seg = (mem: number, size: number, extra: Partial<UserSegment> = {}): UserSegment => ({
  buf: data(size, mem),
  mem,
  memsz: size,
  ...extra,
});

// ---- validation rules, table driven ----

interface Case {
  name: string;
  versions: Partial<Record<KernelVersion, string | 0>>; // expected errno or 0
  limits?: KexecLimits;
  args: Parameters<Kexec["load"]>[0];
  locked?: boolean;
  crash?: { start: bigint; end: bigint };
  patches?: Record<string, boolean>;
}

const cases: Case[] = [
  {
    name: "no CAP_SYS_BOOT",
    versions: { "2.6.8.1-kexec3": "EPERM", "2.6.13": "EPERM" },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x1000)], capSysBoot: false },
  },
  {
    name: "flags KEXEC_ON_CRASH without crashkernel",
    versions: { "2.6.8.1-kexec3": "EINVAL", "2.6.13": "EADDRNOTAVAIL" },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x1000)], flags: KEXEC_ON_CRASH },
  },
  {
    name: "unknown flag bit 0x2",
    versions: { "2.6.8.1-kexec3": "EINVAL", "2.6.13": "EINVAL" },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x1000)], flags: 2 },
  },
  {
    name: "KEXEC_ARCH_386 on i386",
    versions: { "2.6.8.1-kexec3": "EINVAL", "2.6.13": 0 },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x1000)], flags: KEXEC_ARCH_386 },
  },
  {
    name: "KEXEC_ARCH_X86_64 on i386",
    versions: { "2.6.13": "EINVAL" },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x1000)], flags: KEXEC_ARCH_X86_64 },
  },
  {
    name: "9 segments",
    versions: { "2.6.8.1-kexec3": "EINVAL", "2.6.13": "EINVAL" },
    args: {
      entry: 0x100000,
      segments: Array.from({ length: 9 }, (_, i) => seg(0x100000 + i * 0x1000, 0x1000)),
    },
  },
  {
    name: "8 segments",
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": 0 },
    args: {
      entry: 0x100000,
      segments: Array.from({ length: 8 }, (_, i) => seg(0x100000 + i * 0x1000, 0x1000)),
    },
  },
  {
    name: "end at KEXEC_DESTINATION_MEMORY_LIMIT (i386)",
    versions: { "2.6.8.1-kexec3": "EADDRNOTAVAIL", "2.6.13": "EADDRNOTAVAIL" },
    args: { entry: 0x100000, segments: [{ buf: null, bufsz: 0, mem: 0xffffe000, memsz: 0x1fff }] },
  },
  {
    name: "end wraps past 4 GiB (i386): unsigned long arithmetic lets it through",
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": 0 },
    args: { entry: 0x100000, segments: [{ buf: null, bufsz: 0, mem: 0xfffff000, memsz: 0x2000 }] },
  },
  {
    name: "end beyond 40 bits (x86_64)",
    limits: X86_64,
    versions: { "2.6.8.1-kexec3": "EADDRNOTAVAIL", "2.6.13": "EADDRNOTAVAIL" },
    args: {
      entry: 0x100000,
      segments: [{ buf: null, bufsz: 0, mem: 0xfffffff000, memsz: 0x1000 }],
    },
  },
  {
    name: "unaligned start",
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": "EADDRNOTAVAIL" },
    args: { entry: 0x100000, segments: [seg(0x100800, 0x1000)] },
  },
  {
    name: "unaligned size",
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": "EADDRNOTAVAIL" },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x1800)] },
  },
  {
    name: "overlapping segments",
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": "EINVAL" },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x2000), seg(0x101000, 0x2000)] },
  },
  {
    name: "adjacent segments",
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": 0 },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x2000), seg(0x102000, 0x2000)] },
  },
  {
    // The reference says a zero-length segment never overlaps; the rule
    // (mend > pstart && mstart < pend) does catch one strictly inside another.
    name: "zero-length segment strictly inside another",
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": "EINVAL" },
    args: {
      entry: 0x100000,
      segments: [seg(0x100000, 0x2000), { buf: null, bufsz: 0, mem: 0x101000, memsz: 0 }],
    },
  },
  {
    name: "zero-length segment at another's start",
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": 0 },
    args: {
      entry: 0x100000,
      segments: [seg(0x100000, 0x2000), { buf: null, bufsz: 0, mem: 0x100000, memsz: 0 }],
    },
  },
  {
    name: "bufsz > memsz",
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": "EINVAL" },
    args: {
      entry: 0x100000,
      segments: [seg(0x100000, 0x1000, { bufsz: 0x1001, buf: data(0x1001) })],
    },
  },
  {
    name: "kexec_lock held",
    locked: true,
    versions: { "2.6.8.1-kexec3": 0, "2.6.13": "EBUSY" },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x1000)] },
  },
  {
    name: "user buffer faults",
    versions: { "2.6.8.1-kexec3": "EIO", "2.6.13": "EIO" },
    args: {
      entry: 0x100000,
      segments: [{ buf: data(0x800), bufsz: 0x1000, mem: 0x100000, memsz: 0x1000 }],
    },
  },
  {
    name: "kexec-generic patch off",
    patches: { "kexec-generic": false },
    versions: { "2.6.8.1-kexec3": "ENOSYS", "2.6.13": "ENOSYS" },
    args: { entry: 0x100000, segments: [seg(0x100000, 0x1000)] },
  },
  {
    name: "crash entry outside crashkernel",
    crash: { start: 0x4000000n, end: 0x7ffffffn },
    versions: { "2.6.13": "EADDRNOTAVAIL" },
    args: { entry: 0x100000, segments: [seg(0x4000000, 0x1000)], flags: KEXEC_ON_CRASH },
  },
  {
    name: "crash segment beyond crashkernel end",
    crash: { start: 0x4000000n, end: 0x7ffffffn },
    versions: { "2.6.13": "EADDRNOTAVAIL" },
    args: { entry: 0x4000000, segments: [seg(0x7fff000, 0x2000)], flags: KEXEC_ON_CRASH },
  },
  {
    name: "crash segment ending exactly at crashkernel end",
    crash: { start: 0x4000000n, end: 0x7ffffffn },
    versions: { "2.6.13": 0 },
    args: { entry: 0x4000000, segments: [seg(0x7fff000, 0x1000)], flags: KEXEC_ON_CRASH },
  },
  {
    // kimage_crash_alloc computes mend = mem + memsz - 1 in unsigned long: at address 0 a
    // zero-length segment wraps to ~0 and is refused, even inside a region that starts at 0.
    name: "crash zero-length segment at 0: mem + memsz - 1 wraps",
    crash: { start: 0n, end: 0x3ffffffn },
    versions: { "2.6.13": "EADDRNOTAVAIL" },
    args: {
      entry: 0x1000,
      segments: [seg(0x1000, 0x1000), { buf: null, bufsz: 0, mem: 0, memsz: 0 }],
      flags: KEXEC_ON_CRASH,
    },
  },
  {
    name: "crash zero-length segment inside the region",
    crash: { start: 0x4000000n, end: 0x7ffffffn },
    versions: { "2.6.13": 0 },
    args: {
      entry: 0x4000000,
      segments: [seg(0x4000000, 0x1000), { buf: null, bufsz: 0, mem: 0x4002000, memsz: 0 }],
      flags: KEXEC_ON_CRASH,
    },
  },
  {
    name: "crash image with arch field",
    crash: { start: 0x4000000n, end: 0x7ffffffn },
    versions: { "2.6.13": 0 },
    args: {
      entry: 0x4000000,
      segments: [seg(0x4000000, 0x1000)],
      flags: KEXEC_ON_CRASH | KEXEC_ARCH_386,
    },
  },
];

for (const c of cases) {
  for (const [version, expected] of Object.entries(c.versions)) {
    Deno.test(`sys_kexec_load ${version}: ${c.name} -> ${expected || "0"}`, () => {
      const s = setup({
        version: version as KernelVersion,
        limits: c.limits,
        patches: c.patches,
        crash: c.crash,
        free: [{ start: 0x8000000, end: 0x10000000 }],
      });
      if (c.locked) s.kexec.state.locked = true;
      const r = s.kexec.load(c.args);
      assertEquals(r.errno, expected, r.reason);
      if (expected === 0) assertEquals(r.ret, 0);
      else assert(r.ret < 0);
      if (c.locked) assertEquals(s.kexec.state.locked, true, "a refused caller leaves the lock");
      else assertEquals(s.kexec.state.locked, false, "lock released");
      if (expected !== 0) {
        assertEquals(s.kexec.state.image, null);
        assertEquals(s.pages.usedPages, 0, "a failed load frees everything");
      }
    });
  }
}

Deno.test("sys_kexec_load: a failed normal load leaves the loaded image in its slot", () => {
  // §1.5/§1.6: errors `goto out` past the xchg; only the half-built image is freed. (Crash
  // loads differ: the old crash image is dropped first, see the crash image test.)
  for (const version of ["2.6.8.1-kexec3", "2.6.13"] as const) {
    const s = setup({ version });
    assertEquals(s.kexec.load({ entry: 0x100000, segments: [seg(0x100000, 0x2000)] }).errno, 0);
    const old = s.kexec.state.image!;
    const used = s.pages.usedPages;
    const failures: Parameters<Kexec["load"]>[0][] = [
      { entry: 0, segments: [{ buf: null, bufsz: 0, mem: 0xffffe000, memsz: 0x1fff }] },
      { entry: 0, segments: [{ buf: data(16), bufsz: 0x1000, mem: 0x200000, memsz: 0x1000 }] },
      { entry: 0, segments: null, nrSegments: 1 }, // positive "bytes not copied" return
    ];
    for (const args of failures) {
      const r = s.kexec.load(args);
      assert(r.ret !== 0, `${version}: ${r.reason}`);
      assertEquals(s.kexec.state.image, old, version);
      assertEquals(s.pages.usedPages, used, `${version}: the failed image is freed`);
    }
    assertEquals(s.cleaned.includes(old), false, "the old image was not freed");
  }
});

Deno.test("sys_kexec_load: errno values", () => {
  const s = setup({ version: "2.6.13" });
  const r = s.kexec.load({ entry: 0, segments: [seg(0x100800, 0x1000)] });
  assertEquals(r, { ret: -99, errno: "EADDRNOTAVAIL", reason: r.reason });
  const e = s.kexec.load({ entry: 0, segments: [seg(0, 0x1000)], flags: 4 });
  assertEquals(e.ret, -22);
});

Deno.test("sys_kexec_load: a faulting segment array returns the uncopied byte count", () => {
  for (const [limits, size] of [[I386, 16], [X86_64, 32]] as const) {
    const s = setup({ version: "2.6.8.1-kexec3", limits });
    const r = s.kexec.load({ entry: 0, segments: null, nrSegments: 3 });
    assertEquals(r.ret, 3 * size);
    assertEquals(r.errno, 0);
    assertEquals(s.kexec.state.image, null);
  }
});

// ---- the entry list in guest memory and what the stub would do with it ----

/** Walk the list as the relocation stub does and perform the copies. */
function relocate(
  memory: PhysicalMemory,
  image: Kimage,
  version: KernelVersion | "kexec3",
): number {
  const w = image.entryBytes;
  const read = (a: number) =>
    w === 4 ? memory.read32(a) : memory.read32(a) + memory.read32(a + 4) * 2 ** 32;
  let ptr = 0, dst = 0, copies = 0;
  let e: number;
  if (version !== "2.6.13") {
    ptr = pageOf(image.head);
    e = read(ptr);
    ptr += w;
  } else e = image.head;
  for (;;) {
    if (e & IND_DESTINATION) dst = pageOf(e);
    else if (e & IND_INDIRECTION) ptr = pageOf(e);
    else if (e & IND_DONE) return copies;
    else if (e & IND_SOURCE) {
      memory.copy(dst, pageOf(e), 4096);
      dst += 4096;
      copies++;
    }
    e = read(ptr);
    ptr += w;
  }
}

function assertSourcesSafe(image: Kimage): void {
  let dest = 0;
  for (const [, e] of image.entries()) {
    if (e & IND_DESTINATION) dest = pageOf(e);
    else if (e & IND_SOURCE) {
      const src = pageOf(e);
      assert(
        src === dest || !image.isDestinationRange(src, src + 4096),
        `source 0x${src.toString(16)} for 0x${dest.toString(16)} lies in a destination`,
      );
      dest += 4096;
    }
  }
}

for (const version of ["2.6.8.1-kexec3", "2.6.13"] as const) {
  for (const limits of [I386, X86_64]) {
    const arch = limits.wordBytes === 4 ? "i386" : "x86_64";
    Deno.test(`entry list ${version} ${arch}: layout, zero fill and relocation`, () => {
      const s = setup({ version, limits });
      // garbage in all free memory, as a used machine has
      s.memory.fill(0x1000000, 0x3000000, 0xaa);
      const a = data(0x2345, 7), b = data(0x1000, 9);
      const r = s.kexec.load({
        entry: 0x100000,
        segments: [
          { buf: a, mem: 0x100000, memsz: 0x3000 },
          { buf: b, mem: 0x200000, memsz: 0x1000 },
        ],
      });
      assertEquals(r.errno, 0, r.reason);
      const img = s.kexec.state.image!;
      assertEquals(s.prepared, [img]);
      assertEquals(img.head & 0xfff, IND_INDIRECTION);
      const w = limits.wordBytes;
      const page0 = pageOf(img.head);
      const rd = (i: number) =>
        w === 4 ? s.memory.read32(page0 + i * 4) : Number(s.memory.read64(page0 + i * 8));
      assertEquals(rd(0), 0x100000 | IND_DESTINATION);
      for (let i = 1; i <= 3; i++) assertEquals(rd(i) & 0xfff, IND_SOURCE);
      assertEquals(rd(4), 0x200000 | IND_DESTINATION);
      assertEquals(rd(5) & 0xfff, IND_SOURCE);
      assertEquals(rd(6), IND_DONE);
      // indirection pages are not cleared: kexec3's appended IND_DONE leaves a 0 after it,
      // 2.6.13's in-place IND_DONE leaves the page's old bytes
      assertEquals(
        s.memory.read32(page0 + 7 * w),
        version === "2.6.13" ? 0xaaaaaaaa : 0,
      );
      assertEquals(relocate(s.memory, img, version), 4);
      assertEquals(s.memory.readBytes(0x100000, 0x2345), a);
      assert(s.memory.isZero(0x102345, 0x3000 - 0x2345), "memsz beyond bufsz is zero");
      assertEquals(s.memory.readBytes(0x200000, 0x1000), b);
      // control page: outside destinations, below the limit, not a source page
      assert(
        !img.isDestinationRange(img.controlCodePage, img.controlCodePage + limits.controlCodeSize),
      );
      assertEquals(img.controlCodePage % limits.controlCodeSize, 0);
      // unload frees everything and runs machine_kexec_cleanup
      const u = s.kexec.load({ entry: 0, segments: [] });
      assertEquals(u.errno, 0);
      assertEquals(s.kexec.state.image, null);
      assertEquals(s.cleaned, [img]);
      assertEquals(s.pages.usedPages, 0);
    });
  }
}

Deno.test("kimage_terminate: a full indirection page (kexec3 chains a page, 2.6.13 uses the last slot)", () => {
  for (const version of ["2.6.8.1-kexec3", "2.6.13"] as const) {
    const s = setup({ version });
    // 1 destination + 1022 sources = 1023 entries: exactly the data slots of page 0
    const r = s.kexec.load({
      entry: 0,
      segments: [{ buf: null, bufsz: 0, mem: 0x100000, memsz: 1022 * 4096 }],
    });
    assertEquals(r.errno, 0, r.reason);
    const img = s.kexec.state.image!;
    const page0 = pageOf(img.head);
    const last = s.memory.read32(page0 + 1023 * 4);
    if (version === "2.6.8.1-kexec3") {
      assertEquals(last & 0xfff, IND_INDIRECTION);
      assertEquals(img.indirectionPages.length, 2);
      assertEquals(s.memory.read32(pageOf(last)), IND_DONE);
    } else {
      assertEquals(last, IND_DONE);
      assertEquals(img.indirectionPages.length, 1);
    }
    assertEquals(relocate(s.memory, img, version), 1022);
  }
});

Deno.test("kimage_add_entry: chains indirection pages (1023 slots on i386, 511 on x86_64)", () => {
  for (const [limits, per] of [[I386, 1023], [X86_64, 511]] as const) {
    const s = setup({ version: "2.6.13", limits });
    const pagesN = per + 10;
    const r = s.kexec.load({
      entry: 0,
      segments: [{ buf: data(pagesN * 4096), mem: 0x100000, memsz: pagesN * 4096 }],
    });
    assertEquals(r.errno, 0, r.reason);
    const img = s.kexec.state.image!;
    assertEquals(img.indirectionPages.length, 2);
    const w = limits.wordBytes;
    const link = s.memory.read32(img.indirectionPages[0] + per * w);
    assertEquals(link, img.indirectionPages[1] | IND_INDIRECTION);
    assertEquals(relocate(s.memory, img, "2.6.13"), pagesN);
    assertEquals(s.memory.readBytes(0x100000, pagesN * 4096), data(pagesN * 4096));
  }
});

Deno.test("for_each_kimage_entry: a corrupted list that loops ends with an error, not a hang", () => {
  const s = setup({ version: "2.6.13", limits: I386 });
  const pagesN = 1023 + 10;
  const r = s.kexec.load({
    entry: 0,
    segments: [{ buf: data(pagesN * 4096), mem: 0x100000, memsz: pagesN * 4096 }],
  });
  assertEquals(r.errno, 0, r.reason);
  const img = s.kexec.state.image!;
  assertEquals([...img.entries()].length > pagesN, true);
  // Point the second indirection page's first slot back at the first indirection page.
  s.memory.write32(img.indirectionPages[1], img.indirectionPages[0] | IND_INDIRECTION);
  throws(
    () => [...img.entries()],
    (e: unknown) => e instanceof RangeError && /loops back to indirection page/.test(e.message),
  );
});

Deno.test("kimage_alloc_page: destination pages are parked, reused and swapped", () => {
  for (const version of ["2.6.8.1-kexec3", "2.6.13"] as const) {
    const P = 0x1000000, pg = 4096;
    // Free memory is 16 pages; segment 0 lands inside it, segment 1 outside.
    const s = setup({ version, free: [{ start: P, end: P + 16 * pg }] });
    const a = data(2 * pg, 3), b = data(4 * pg, 4);
    const r = s.kexec.load({
      entry: P,
      segments: [{ buf: a, mem: P + 4 * pg, memsz: 2 * pg }, {
        buf: b,
        mem: 0x200000,
        memsz: 4 * pg,
      }],
    });
    assertEquals(r.errno, 0, r.reason);
    const img = s.kexec.state.image!;
    assertSourcesSafe(img);
    // the destinations of segment 0 ended up holding their own data (swapped in)
    const sources = [...img.entries()].filter(([, e]) => e & IND_SOURCE).map(([, e]) => pageOf(e));
    assert(sources.includes(P + 4 * pg) && sources.includes(P + 5 * pg));
    assertEquals(relocate(s.memory, img, version), 6);
    assertEquals(s.memory.readBytes(P + 4 * pg, 2 * pg), a);
    assertEquals(s.memory.readBytes(0x200000, 4 * pg), b);
  }
});

Deno.test("kimage_alloc_page: sources never land in destinations (random layouts)", () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let round = 0; round < 30; round++) {
    const version = round % 2 ? "2.6.13" : "2.6.8.1-kexec3";
    const P = 0x1000000;
    const s = setup({ version, free: [{ start: P, end: P + 64 * 4096 }] });
    const segments: UserSegment[] = [];
    let at = P + rnd(8) * 4096;
    for (let i = 0; i < 1 + rnd(4); i++) {
      const n = 1 + rnd(6);
      segments.push({ buf: data(n * 4096, round * 10 + i), mem: at, memsz: n * 4096 });
      at += (n + rnd(3)) * 4096;
    }
    const r = s.kexec.load({ entry: P, segments });
    if (r.errno === "ENOMEM") continue;
    assertEquals(r.errno, 0, r.reason);
    const img = s.kexec.state.image!;
    assertSourcesSafe(img);
    relocate(s.memory, img, version);
    for (const sg of segments) {
      assertEquals(s.memory.readBytes(Number(sg.mem), sg.buf!.length), sg.buf);
    }
  }
});

Deno.test("kimage_load_segment kexec3: an unaligned start skips `leader` bytes of the buffer", () => {
  const s = setup({ version: "2.6.8.1-kexec3" });
  const buf = data(0x1800, 5);
  const r = s.kexec.load({ entry: 0, segments: [{ buf, mem: 0x100800, memsz: 0x1800 }] });
  assertEquals(r.errno, 0, r.reason);
  relocate(s.memory, s.kexec.state.image!, "2.6.8.1-kexec3");
  assert(s.memory.isZero(0x100000, 0x800));
  assertEquals(s.memory.readBytes(0x100800, 0x800), buf.subarray(0, 0x800));
  assertEquals(s.memory.readBytes(0x101000, 0x800), buf.subarray(0x1000, 0x1800));
  assert(s.memory.isZero(0x101800, 0x800));
});

Deno.test("kimage_terminate kexec3: pages parked on dest_pages are freed at once", () => {
  // An unaligned segment at the bottom of the allocator's first block: its destination pages
  // are handed out (and parked on dest_pages) while the control and indirection pages are
  // sought, but kexec3 asks for them by the unaligned `mem + offset`, so they are never taken
  // back. kimage_terminate frees them (§2.3); only the image's own pages stay allocated.
  const s = setup({ version: "2.6.8.1-kexec3", free: [{ start: 0x3c00000, end: 0x4000000 }] });
  const r = s.kexec.load({ entry: 0, segments: [seg(0x3c00800, 0x4000)] });
  assertEquals(r.errno, 0, r.reason);
  const img = s.kexec.state.image!;
  assertEquals(img.destPages, []);
  let sources = 0;
  for (const [, e] of img.entries()) if (e & IND_SOURCE) sources++;
  assertEquals(sources, 4);
  assertEquals(s.pages.usedPages, 1 + img.indirectionPages.length + sources);
  // and the parked pages really were parked: the sources all lie above the destination range
  for (const [, e] of img.entries()) if (e & IND_SOURCE) assert(pageOf(e) >= 0x3c05000);
});

Deno.test("control pages: normal images avoid destinations and stay below the limit", () => {
  const P = 0x1000000;
  const s = setup({ version: "2.6.13", free: [{ start: P, end: P + 8 * 4096 }] });
  // the first pages the allocator offers are destinations; the control page must skip them
  const r = s.kexec.load({ entry: P, segments: [{ buf: data(4096), mem: P, memsz: 2 * 4096 }] });
  assertEquals(r.errno, 0, r.reason);
  const img = s.kexec.state.image!;
  assertEquals(img.controlCodePage, P + 2 * 4096);
  // a limit below all free memory: ENOMEM
  const lim = setup({
    version: "2.6.13",
    limits: { ...I386, controlMemoryLimit: BigInt(P) },
    free: [{ start: P, end: P + 8 * 4096 }],
  });
  const e = lim.kexec.load({ entry: P, segments: [{ buf: data(16), mem: 0x100000, memsz: 4096 }] });
  assertEquals(e.errno, "ENOMEM");
  assertEquals(lim.pages.usedPages, 0, "rejected control pages are given back");
  // §2.6: accepted only if pfn + 2^order < KEXEC_CONTROL_MEMORY_LIMIT >> 12 (strictly)
  const edge: [number, number | "ENOMEM"][] = [
    [P + 4096, "ENOMEM"], // the page [P, P + 4 KiB) ends exactly at the limit: rejected
    [P + 4096 + 0xfff, "ENOMEM"], // the limit is compared in pages
    [P + 8192, P],
  ];
  for (const [limit, want] of edge) {
    const t = setup({
      version: "2.6.8.1-kexec3",
      limits: { ...I386, controlMemoryLimit: BigInt(limit) },
      free: [{ start: P, end: P + 2 * 4096 }],
    });
    const r = t.kexec.load({
      entry: P,
      segments: [{ buf: null, bufsz: 0, mem: 0x100000, memsz: 0 }],
    });
    if (want === "ENOMEM") assertEquals(r.errno, "ENOMEM", `limit 0x${limit.toString(16)}`);
    else assertEquals(t.kexec.state.image!.controlCodePage, want);
  }
});

Deno.test("crash images: written into the reserved region at load time, head = IND_DONE", () => {
  const crash = { start: 0x4000000n, end: 0x7ffffffn };
  const s = setup({ version: "2.6.13", crash, free: [{ start: 0x1000000, end: 0x4000000 }] });
  s.memory.fill(0x4000000, 0x10000, 0xcc);
  const buf = data(0x1800, 11);
  const r = s.kexec.load({
    entry: 0x4000000,
    flags: KEXEC_ON_CRASH,
    segments: [{ buf, mem: 0x4000000, memsz: 0x2000 }],
  });
  assertEquals(r.errno, 0, r.reason);
  const img = s.kexec.state.crashImage!;
  assertEquals(s.kexec.state.image, null);
  assertEquals(img.head, IND_DONE);
  assertEquals(s.memory.readBytes(0x4000000, 0x1800), buf);
  assert(s.memory.isZero(0x4001800, 0x800));
  assertEquals(s.memory.read8(0x4002000), 0xcc, "outside [mem, mem+memsz) untouched");
  assertEquals(img.controlCodePage, 0x4002000, "first hole after the segment");
  assertEquals(s.pages.usedPages, 0, "no pages from the allocator");
  // a new crash load that fails still discards the old crash image
  const bad = s.kexec.load({
    entry: 0x100000,
    flags: KEXEC_ON_CRASH,
    segments: [seg(0x4000000, 0x1000)],
  });
  assertEquals(bad.errno, "EADDRNOTAVAIL");
  assertEquals(s.kexec.state.crashImage, null);
  // unload of the crash slot
  assertEquals(
    s.kexec.load({ entry: 0x4000000, flags: KEXEC_ON_CRASH, segments: [seg(0x4000000, 0x1000)] })
      .errno,
    0,
  );
  assertEquals(s.kexec.load({ entry: 0, flags: KEXEC_ON_CRASH, segments: [] }).errno, 0);
  assertEquals(s.kexec.state.crashImage, null);
});

Deno.test("crash control pages: x86_64 order-1 block rounds up and skips segments", () => {
  const crash = { start: 0x4001000n, end: 0x7ffffffn };
  const s = setup({ version: "2.6.13", limits: X86_64, crash });
  const r = s.kexec.load({
    entry: 0x4001000,
    flags: KEXEC_ON_CRASH,
    segments: [{ buf: data(16), mem: 0x4002000, memsz: 0x1000 }],
  });
  assertEquals(r.errno, 0, r.reason);
  assertEquals(s.kexec.state.crashImage!.controlCodePage, 0x4004000);
});

Deno.test("compat_sys_kexec_load (x86_64, 32-bit caller)", () => {
  const k3 = setup({ version: "2.6.8.1-kexec3", limits: X86_64 });
  assertEquals(
    k3.kexec.load({ entry: 0, segments: [seg(0x100000, 0x1000)], caller: 32 }).errno,
    "ENOSYS",
  );
  const s = setup({ version: "2.6.13", limits: X86_64 });
  assertEquals(
    s.kexec.load({ entry: 0, segments: [seg(0x100000, 0x1000)], caller: 32 }).errno,
    "EINVAL",
  );
  assertEquals(
    s.kexec.load({
      entry: 0,
      segments: Array.from({ length: 9 }, (_, i) => seg(0x100000 + i * 4096, 4096)),
      caller: 32,
      flags: KEXEC_ARCH_X86_64,
    }).errno,
    "EINVAL",
  );
  assertEquals(
    s.kexec.load({ entry: 0, segments: null, nrSegments: 1, caller: 32, flags: KEXEC_ARCH_X86_64 })
      .errno,
    "EFAULT",
  );
  // compat_sys_kexec_load checks before sys_kexec_load's capability test (§1.6)
  const noCap = {
    entry: 0,
    segments: [seg(0x100000, 4096)],
    caller: 32 as const,
    capSysBoot: false,
  };
  assertEquals(s.kexec.load(noCap).errno, "EINVAL", "KEXEC_ARCH_DEFAULT refused first");
  assertEquals(s.kexec.load({ ...noCap, flags: KEXEC_ARCH_X86_64 }).errno, "EPERM");
  // KEXEC_ARCH_386 passes compat but sys_kexec_load on x86_64 refuses it
  assertEquals(
    s.kexec.load({ entry: 0, segments: [seg(0x100000, 4096)], caller: 32, flags: KEXEC_ARCH_386 })
      .errno,
    "EINVAL",
  );
  // 32-bit fields: the high half of mem is lost in the 16-byte compat segment
  const buf = data(4096);
  const r = s.kexec.load({
    entry: 0,
    segments: [{ buf, mem: 0x1_0010_0000, memsz: 4096 }],
    caller: 32,
    flags: KEXEC_ARCH_X86_64,
  });
  assertEquals(r.errno, 0, r.reason);
  const img = s.kexec.state.image!;
  assertEquals(img.segments[0].mem, 0x100000n);
});

Deno.test("i386 PAE with RAM above 4 GiB: source pages stay below KEXEC_SOURCE_MEMORY_LIMIT", () => {
  const s = setup({ version: "2.6.13", free: [{ start: 0x1000000, end: 0x400000000 }] });
  const r = s.kexec.load({ entry: 0x100000, segments: [seg(0x100000, 0x4000)] });
  assertEquals(r.errno, 0, r.reason);
  const img = s.kexec.state.image!;
  for (const [, e] of img.entries()) assert(e < 2 ** 32, `entry 0x${e.toString(16)}`);
  assertEquals(img.unusableCount, (0x400000000 - 0x100000000) / 4096);
});

Deno.test("kexec3: a huge memsz runs out of pages (ENOMEM) and gives everything back", () => {
  const s = setup({ version: "2.6.8.1-kexec3", limits: X86_64 });
  const r = s.kexec.load({
    entry: 0,
    segments: [{ buf: null, bufsz: 0, mem: 0x100000, memsz: 2 ** 39 }],
  });
  assertEquals(r.errno, "ENOMEM");
  assertEquals(s.pages.usedPages, 0);
});
