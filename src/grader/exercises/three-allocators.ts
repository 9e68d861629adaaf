// Exercise three-allocators: the blog notes' classic demo on an i386 2.6 machine with 160 MB of RAM.

import type { Exercise } from "../types.ts";
import { addressesPrinted, allocatedAs, findAlloc, gfpIs, isOutcome, loads, noReports, nothingLeaked } from "../checks.ts";
import type { Allocation } from "../records.ts";

const three = (c: Parameters<typeof findAlloc>[0]) => {
  const page = findAlloc(c, ["__get_free_page", "__get_free_pages", "get_zeroed_page"], (a) => (a.order ?? 0) === 0);
  const km = findAlloc(c, ["kmalloc", "kzalloc"], (a) => a.size === 100);
  const vm = findAlloc(c, ["vmalloc", "vzalloc"], (a) => a.size === 1000000);
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
\`%px\`) on load, and free all three on unload.`,
  starter: `import { __get_free_page, free_page, printk, KERN_INFO, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n;

function mem_init(): number {
  pagemem = __get_free_page(GFP_KERNEL);
  printk(KERN_INFO + "pagemem = 0x%lx\\n", pagemem);
  // TODO: 100 bytes with kmalloc, 1000000 bytes with vmalloc; print both addresses
  return 0;
}

function mem_exit(): void {
  free_page(pagemem);
  // TODO: free the other two
}

module_init(mem_init);
module_exit(mem_exit);
`,
  solution: `import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, printk, KERN_INFO, GFP_KERNEL,
         MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let pagemem = 0n, kmallocmem = 0n, vmallocmem = 0n;

function mem_init(): number {
  pagemem = __get_free_page(GFP_KERNEL);
  printk(KERN_INFO + "pagemem = 0x%lx\\n", pagemem);
  kmallocmem = kmalloc(100, GFP_KERNEL);
  printk(KERN_INFO + "kmallocmem = 0x%lx\\n", kmallocmem);
  vmallocmem = vmalloc(1000000);
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
      fns: ["__get_free_page", "__get_free_pages"],
      order: 0,
      gfp: gfpIs("GFP_KERNEL"),
      region: "linear",
    }),
    allocatedAs({
      id: "kmalloc-100",
      message: "100 bytes from kmalloc with GFP_KERNEL, in lowmem",
      hint: "Call kmalloc(100, GFP_KERNEL): exactly 100, the kernel rounds it up to its 128-byte cache itself.",
      fns: ["kmalloc"],
      size: 100,
      gfp: gfpIs("GFP_KERNEL"),
      region: "linear",
    }),
    allocatedAs({
      id: "vmalloc-1000000",
      message: "1000000 bytes from vmalloc, in the vmalloc area",
      hint: "A million bytes is too big for the page allocator's and kmalloc's comfort: call vmalloc(1000000).",
      fns: ["vmalloc"],
      size: 1000000,
      region: "vmalloc",
    }),
    addressesPrinted("addresses-printed", three, "all three"),
    nothingLeaked(),
    noReports(),
  ],
};
