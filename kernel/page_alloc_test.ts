import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { PageAllocator, zonesFor } from "./page_alloc.ts";

const MiB = 1 << 20;

Deno.test("page allocator: highest 4 MiB block first, ascending inside it", () => {
  const pa = new PageAllocator({
    free: [{ start: 16 * MiB, end: 32 * MiB }],
    ...zonesFor("i386", 32 * MiB),
  });
  assertEquals(pa.alloc("GFP_KERNEL", 0), 28 * MiB);
  assertEquals(pa.alloc("GFP_KERNEL", 0), 28 * MiB + 4096);
  assertEquals(pa.alloc("GFP_KERNEL", 1), 28 * MiB + 8192, "order 1 naturally aligned");
  assertEquals(pa.usedPages, 4);
});

Deno.test("page allocator: freed pages come back first", () => {
  const pa = new PageAllocator({
    free: [{ start: 16 * MiB, end: 20 * MiB }],
    ...zonesFor("x86_64", 20 * MiB),
  });
  const a = pa.alloc("GFP_HIGHUSER", 0)!;
  pa.alloc("GFP_HIGHUSER", 0);
  pa.free(a, 0);
  assertEquals(pa.alloc("GFP_HIGHUSER", 0), a);
  throws(() => pa.free(0x100000, 0), /freed twice or never allocated/);
});

Deno.test("page allocator: i386 zones (GFP_KERNEL stays below 896 MiB, GFP_HIGHUSER prefers HighMem)", () => {
  const top = 2048 * MiB;
  const pa = new PageAllocator({ free: [{ start: 16 * MiB, end: top }], ...zonesFor("i386", top) });
  assertEquals(pa.alloc("GFP_HIGHUSER", 0), top - 4 * MiB);
  assertEquals(pa.alloc("GFP_KERNEL", 0), 896 * MiB - 4 * MiB);
});

Deno.test("page allocator: exhaustion, reserve, fallback to DMA", () => {
  const pa = new PageAllocator({
    free: [{ start: 8 * MiB, end: 8 * MiB + 8192 }, { start: 16 * MiB, end: 16 * MiB + 4096 }],
    ...zonesFor("i386", 17 * MiB),
  });
  pa.reserve(16 * MiB, 16 * MiB + 4096);
  assertEquals(pa.alloc("GFP_KERNEL", 0), 8 * MiB, "Normal is empty: DMA");
  assertEquals(pa.alloc("GFP_KERNEL", 0), 8 * MiB + 4096);
  assertEquals(pa.alloc("GFP_KERNEL", 0), null);
});

Deno.test("page allocator: belowPfn skips what lies above (KEXEC_SOURCE_MEMORY_LIMIT)", () => {
  const top = 8 * 1024 * MiB;
  const pa = new PageAllocator({ free: [{ start: 16 * MiB, end: top }], ...zonesFor("i386", top) });
  assertEquals(pa.alloc("GFP_HIGHUSER", 0, { belowPfn: 0x100000 }), 4096 * MiB - 4 * MiB);
  assertEquals(
    pa.alloc("GFP_HIGHUSER", 0),
    top - 4 * MiB,
    "unbounded callers still start at the top",
  );
  assertEquals(pa.usedPages, 2);
});
