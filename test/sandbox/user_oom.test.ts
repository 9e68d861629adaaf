// A user process when no page is left for its page tables (fuzz seed 5007): fork's pgd_alloc() fails and the shell
// says so, a fault that needs a new table page is VM_FAULT_OOM (SIGKILL), and a driver's insert is -ENOMEM; none of
// them is the simulator's internal error, and nothing they took is left behind.

import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { boot } from "../../src/kernel/kernel.ts";
import { Process } from "../../src/kernel/kernel/exec.ts";
import { PageOwner } from "../../src/kernel/mm/page_flags.ts";
import { PGTABLE_OOM } from "../../src/kernel/mm/pgtable.ts";

// fuzz seed 5007, minimised: the module eats the msm8x25's 128 MiB, then the user program is started. The second loop
// eats the 16 KiB blocks too (the size of ARM's PGD, which the shell's fork takes): the seed's 32 KiB loop alone stops
// where the min watermark says, and since the 3.4 zones count their present pages after the memmap (realsize, e0d47f8)
// that watermark left one 16 KiB block the fork could take.
const SEED_5007 = `import { GFP_NOIO, __GFP_ZERO, __GFP_NOWARN, __GFP_DMA32, kmalloc_array, module_exit, module_init } from "linux";
import { user_main } from "user";
let p5: bigint = 0n, p7: bigint = 0n;
user_main(fz_user);
function fz_user() { return 0; }
function fz_init() {
  p7 = kmalloc_array(3, 1, GFP_NOIO | __GFP_ZERO | __GFP_NOWARN | __GFP_DMA32);
  for (let i = 0; i < 300; i++) { p5 = kmalloc_array(16, 2048, GFP_NOIO); }
  for (let i = 0; i < 2000; i++) { p5 = kmalloc_array(8, 2048, GFP_NOIO | __GFP_NOWARN); }
  return 0;
}
function fz_exit() {}
module_init(fz_init);
module_exit(fz_exit);
`;

describe("a user process with no page left for its page tables", () => {
  it("fuzz seed 5007: the shell's fork fails with ENOMEM (status 2), no internal error, the kernel's invariants hold", async () => {
    const r = await runModule(SEED_5007, { profile: "arm-3.4-msm8x25", config: "distro", mem: 128 << 20, seed: 26, checkInvariants: true });
    expect(r.reports.filter((x) => x.kind === "bug").map((x) => x.title)).toEqual([]);
    expect(r.reports.some((x) => x.kind === "page-alloc-failure")).toBe(true);
    expect(r.user).toMatchObject({ comm: "a.out", status: 2, stderr: "sh: can't fork: Out of memory\n", minFlt: 0, pagesTotal: 0 });
    expect(r.user!.exitCode).toBeUndefined();
  });

  for (const profile of ["x86_64-6.1", "i386-6.1-pae", "arm-6.1-virt", "arm-3.4-msm8x25", "i386-2.6"]) {
    it(`${profile}: a fault that needs a new table page is SIGKILL (OOM), a driver's insert -ENOMEM; nothing is left taken`, () => {
      const k = boot(profile, { mem: 128 << 20, config: "distro" });
      const proc = new Process(k, 300, "t");
      // a mapping of its own (its own PTE table)
      const at = proc.run(() => proc.sysMmap(0n, 1 << 23, 3, 0x22, -1, 0));
      expect(at > 0n).toBe(true);
      // from here no page-table page can be had (what __pte_alloc() meets when the allocator has none); data pages can
      const pages = k.pages as unknown as { alloc_pages(gfp: number, order: number, owner?: number): number };
      const real = pages.alloc_pages.bind(pages);
      pages.alloc_pages = (gfp, order, owner) => (owner === PageOwner.PageTable ? -1 : real(gfp, order, owner));
      // free pages, those on the per-CPU lists too (a page freed there leaves NR_FREE_PAGES as it was)
      const free = () => k.pages.nrFreePages() + k.pages.pcpPages();
      const free0 = free();
      const addr = at + (1n << 22n);
      // a read maps the zero page (3.4, 6.1) or a new page (2.6); a write a new page, given back
      expect(proc.run(() => proc.mm.handleFault(addr, false))).toMatchObject({ ok: false, sig: "SIGKILL", code: "OOM" });
      expect(proc.run(() => proc.mm.handleFault(addr, true))).toMatchObject({ ok: false, sig: "SIGKILL", code: "OOM" });
      expect(free()).toBe(free0);
      const vma = proc.mm.vmas.find((v) => v.start <= addr && addr < v.end)!;
      expect(proc.run(() => proc.mm.insertPfn(vma, addr + 8192n, 0x100, "pfnmap"))).toBe(-12);
      // and a new process cannot be made: pgd_alloc() fails, and what it took (PAE's PMDs) goes back
      expect(() => new Process(k, 301, "u")).toThrow(PGTABLE_OOM);
      expect(free()).toBe(free0);
      pages.alloc_pages = real;
      proc.exit();
      expect(k.checkInvariants?.() ?? []).toEqual([]);
    });
  }
});
