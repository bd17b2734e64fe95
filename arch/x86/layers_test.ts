import assert from "node:assert/strict";

// DESIGN §3: arch/ uses hw/ and implements the interfaces kernel/ declares, reaching kernel/ only
// through kernel/arch.ts (its tests may drive the whole kernel model) and never runner/.
Deno.test("arch/x86 library modules import kernel/ only through kernel/arch.ts", async () => {
  const dir = new URL("./", import.meta.url);
  const wrong: string[] = [];
  let modules = 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
    modules++;
    const text = await Deno.readTextFile(new URL(e.name, dir));
    for (const m of text.matchAll(/\bfrom\s+"([^"]+)"/g)) {
      const spec = m[1];
      const up = spec.startsWith("../../kernel/") && spec !== "../../kernel/arch.ts";
      if (up || spec.startsWith("../../runner/")) wrong.push(`${e.name}: ${spec}`);
    }
  }
  assert.ok(modules > 20, `only ${modules} modules found`);
  assert.deepEqual(wrong, []);
});
