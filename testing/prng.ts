/**
 * Test support: a small seeded PRNG (mulberry32), so fuzz tests and data generators draw the same
 * reproducible sequences without wall-clock or unseeded randomness. Not part of the library API.
 *
 * @module
 */

/**
 * Mulberry32: returns a function yielding unsigned 32-bit values from `seed`.
 *
 * @example
 * ```ts
 * import { mulberry32 } from "./prng.ts";
 * const rnd = mulberry32(1);
 * rnd() === mulberry32(1)(); // true
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}
