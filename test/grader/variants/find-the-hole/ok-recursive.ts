// expect: pass — a recursive bisection; the probe's flags in a constant
import { __vmalloc, vfree, pr_info, GFP_KERNEL, __GFP_NOWARN, PAGE_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const QUIET = GFP_KERNEL | __GFP_NOWARN;

function ok(mib: number): boolean {
  const p = __vmalloc(mib << 20, QUIET, PAGE_KERNEL);
  if (p !== 0n) vfree(p);
  return p !== 0n;
}

function search(lo: number, hi: number): number {
  if (hi - lo <= 1) return lo;
  const mid = lo + Math.floor((hi - lo) / 2);
  return ok(mid) ? search(mid, hi) : search(lo, mid);
}

module_init(() => {
  pr_info("largest: %d MiB\n", search(0, 256));
  return 0;
});
module_exit(() => {});
