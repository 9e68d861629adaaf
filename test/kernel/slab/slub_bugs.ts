// The four slab bugs a slub_debug=FZPU kernel must each report once, in this order: a double free, one byte written
// past a 32-byte object (found at kfree), a write after free (found when the object is handed out again), and kfree of
// a pointer into the middle of an object. Shared by the debug kernel's report texts (slub_debug.test.ts) and the same
// bugs under CONFIG_SLAB_FREELIST_RANDOM (freelist_random.test.ts).
import type { Kernel } from "../../../src/kernel/kernel.ts";

export function provokeSlubBugs(k: Kernel, gfp: number): void {
  // 1. double free
  const a = k.slab.kmalloc(20, gfp);
  k.slab.kfree(a);
  k.slab.kfree(a);
  // 2. one byte written past a 32-byte object, found at kfree
  const b = k.slab.kmalloc(32, gfp);
  k.physmem.write8(k.slab.phys(b) + 32, 0x21);
  k.slab.kfree(b);
  // 3. a write after free, found when the object is handed out again
  const c = k.slab.kmalloc(32, gfp);
  k.slab.kfree(c);
  k.physmem.write8(k.slab.phys(c) + 5, 0);
  k.slab.kmalloc(32, gfp);
  // 4. kfree of a pointer into the middle of an object
  const d = k.slab.kmalloc(32, gfp);
  k.slab.kfree(d + 4n);
}
