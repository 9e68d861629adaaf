// Exercise three-allocators: the blog notes' classic demo on an i386 2.6 machine with 160 MB of RAM.
// The printed addresses are judged from the print calls' argument values, in the graded run and in a second run
// with 8 MiB more RAM (every allocator then returns other addresses), so numbers copied from an output fail.
// Failure paths: 2.6 has no fail-nth, so the failslab / fail_page_alloc attributes fail the Nth call (grade.ts).

import type { Exercise } from "../types.ts";
import { allocatedAs, findAlloc, gfpIs, isOutcome, loads, noReports, nothingLeaked, printedValue, survivesFaultInjection } from "../checks.ts";
import { zeroBit, type Allocation } from "../records.ts";

const PAGE_FNS = ["__get_free_page", "__get_free_pages", "get_zeroed_page", "get_free_page", "alloc_page", "alloc_pages"];
const KMALLOC_FNS = ["kmalloc", "kzalloc"];
const VMALLOC_FNS = ["vmalloc", "vzalloc"];

const three = (c: Parameters<typeof findAlloc>[0]) => {
  const page = findAlloc(c, PAGE_FNS, (a) => (a.order ?? 0) === 0);
  const km = findAlloc(c, KMALLOC_FNS, (a) => a.size === 100);
  const vm = findAlloc(c, VMALLOC_FNS, (a) => a.size === 1000000);
  for (const x of [page, km, vm]) if (isOutcome(x)) return x;
  return [...(page as Allocation[]).slice(0, 1), ...(km as Allocation[]).slice(0, 1), ...(vm as Allocation[]).slice(0, 1)];
};

export const threeAllocators: Exercise = {
  id: "three-allocators",
  title: "One page, 100 bytes, a million bytes",
  lesson: "address-space",
  settings: { profile: "i386-2.6", mem: 160 * 1024 * 1024 },
  statement: `On a 160 MB i386 machine running 2.6, take one page with \`__get_free_page(GFP_KERNEL)\`, 100 bytes with
\`kmalloc(100, GFP_KERNEL)\` and 1000000 bytes with \`vmalloc(1000000)\`. Print each address in hex (\`%lx\` or
\`%px\`) on load, from the value the allocator returned: the grader runs your module a second time with 8 MiB more
RAM, where every address is different. If an allocation fails, free what you took before it and return -ENOMEM.
Free all three on unload.`,
  starter: `import { __get_free_page, free_page, printk, KERN_INFO, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n;

function mem_init(): number {
  pagemem = __get_free_page(GFP_KERNEL);
  printk(KERN_INFO + "pagemem = 0x%lx\\n", pagemem);
  // TODO: 100 bytes with kmalloc, 1000000 bytes with vmalloc; print both addresses
  // TODO: if an allocation fails, free what you took and return -ENOMEM
  return 0;
}

function mem_exit(): void {
  free_page(pagemem);
  // TODO: free the other two
}

module_init(mem_init);
module_exit(mem_exit);
`,
  solution: `import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL, ENOMEM,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n, kmallocmem = 0n, vmallocmem = 0n;

function mem_init(): number {
  pagemem = __get_free_page(GFP_KERNEL);
  if (pagemem === 0n) return -ENOMEM;
  printk(KERN_INFO + "pagemem = 0x%lx\\n", pagemem);
  kmallocmem = kmalloc(100, GFP_KERNEL);
  if (kmallocmem === 0n) {
    free_page(pagemem);
    return -ENOMEM;
  }
  printk(KERN_INFO + "kmallocmem = 0x%lx\\n", kmallocmem);
  vmallocmem = vmalloc(1000000);
  if (vmallocmem === 0n) {
    kfree(kmallocmem);
    free_page(pagemem);
    return -ENOMEM;
  }
  printk(KERN_INFO + "vmallocmem = 0x%lx\\n", vmallocmem);
  return 0;
}

function mem_exit(): void {
  free_page(pagemem);
  kfree(kmallocmem);
  vfree(vmallocmem);
}

module_init(mem_init);
module_exit(mem_exit);
`,
  checks: [
    loads(),
    allocatedAs({
      id: "page",
      message: "One page from the page allocator (__get_free_page with GFP_KERNEL), in lowmem",
      hint: "Call __get_free_page(GFP_KERNEL) once: it returns the address of one page in the linear map.",
      fns: PAGE_FNS,
      order: 0,
      gfp: gfpIs("GFP_KERNEL"),
      region: "linear",
      requires: ["__get_free_page", "GFP_KERNEL"],
    }),
    allocatedAs({
      id: "kmalloc-100",
      message: "100 bytes from kmalloc (or kzalloc) with GFP_KERNEL, in lowmem",
      hint: "Call kmalloc(100, GFP_KERNEL): exactly 100, the kernel rounds it up to its 128-byte cache itself.",
      fns: KMALLOC_FNS,
      size: 100,
      gfp: (c, gfp) => gfpIs("GFP_KERNEL")(c, gfp === undefined ? gfp : gfp & ~zeroBit(c.result)),
      region: "linear",
      requires: ["kmalloc", "100", "GFP_KERNEL"],
    }),
    allocatedAs({
      id: "vmalloc-1000000",
      message: "1000000 bytes from vmalloc, in the vmalloc area",
      hint: "A million bytes is too big for the page allocator's and kmalloc's comfort: call vmalloc(1000000).",
      fns: VMALLOC_FNS,
      size: 1000000,
      region: "vmalloc",
      requires: ["vmalloc", "1000000"],
    }),
    printedValue({ id: "addresses-printed", pick: three, what: "all three", requires: ["%lx", "%px"] }),
    nothingLeaked(),
    survivesFaultInjection(),
    noReports(),
  ],
};
