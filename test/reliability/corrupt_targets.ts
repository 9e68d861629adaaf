// Where the invariant tests inject their corruptions: the first free page of the buddy lists, and a busy vmalloc
// area with two or more pages. Shared by invariants.test.ts (the whole check) and invariants-verified.test.ts (the
// check that skips verified slabs), which corrupt the same places and must find the same violations.
import type { Kernel } from "../../src/kernel/kernel.ts";
import { VM_ALLOC } from "../../src/kernel/mm/vmalloc.ts";

export function firstFreePfn(k: Kernel): number {
  for (const z of k.pages.zones)
    for (let o = 0; o < k.pages.maxOrder; o++) {
      const l = k.pages.freeList(z.idx, o);
      if (l.length) return l[0]!;
    }
  throw new Error("no free page");
}

export function busyVmallocArea(k: Kernel) {
  for (const n of k.vmalloc.busy.inorder()) {
    const vm = n.data?.vm;
    if (vm && vm.flags & VM_ALLOC && vm.pages && vm.pages.length >= 2) return { n, vm };
  }
  throw new Error("no vmalloc area");
}
