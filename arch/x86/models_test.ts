import assert from "node:assert/strict";
import { X86_MODEL_INFO } from "../../hw/testdata/fake_cpu.ts";
import { x86Model, x86Models } from "./models.ts";

Deno.test("hw tests' copy of the model facts equals x86Models[name].info", () => {
  assert.deepEqual(Object.keys(X86_MODEL_INFO).sort(), Object.keys(x86Models).sort());
  for (const [name, model] of Object.entries(x86Models)) {
    assert.deepEqual(X86_MODEL_INFO[name], model.info, `${name}: update hw/testdata/fake_cpu.ts`);
  }
});

Deno.test("every model's info names it and agrees with its identification and CPUID leaf 1", () => {
  for (const [name, model] of Object.entries(x86Models)) {
    assert.equal(model.name, name);
    assert.equal(model.info.name, name);
    assert.equal(model.info.arch, "x86");
    assert.equal(model.info.maxPhysAddr, model.maxPhysAddr, name);
    assert.equal(model.info.longMode, model.features.longMode, name);
    assert.equal(model.info.signature, model.signature, name);
    if (model.basicLeaves.length > 1) {
      // The MP table's processor entry carries CPUID.1 EAX and EDX.
      assert.equal(model.info.signature, model.basicLeaves[1][0], name);
      assert.equal(model.info.featureFlags, model.basicLeaves[1][3], name);
    }
    assert.equal(x86Model(name), model);
  }
  assert.throws(() => x86Model("k6"), RangeError);
});
