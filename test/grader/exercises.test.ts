// Every exercise: the reference solution passes every check, the starter fails at least one, and each wrong variant
// (a wrong GFP, a leak, a wrong size, the right text printed without the work...) fails with the intended check.
import { describe, expect, it } from "vitest";
import { EXERCISES, getExercise } from "../../src/grader/exercises/index.ts";
import { gradeSource } from "../../src/grader/grade.ts";
import type { GradeResult } from "../../src/grader/types.ts";

/** A wrong version of the solution: `edit` turns the solution into it; `fails` is the check that must catch it. */
interface Variant {
  name: string;
  edit: [string | RegExp, string][];
  fails: string;
}

const VARIANTS: Record<string, Variant[]> = {
  "hello-module": [
    { name: "wrong level (KERN_ERR)", edit: [['printk(KERN_INFO + "hello', 'printk(KERN_ERR + "hello'], ["import { printk, KERN_INFO,", "import { printk, KERN_INFO, KERN_ERR,"]], fails: "hello-on-load" },
    { name: "goodbye printed on load instead of unload", edit: [['  printk(KERN_INFO + "goodbye, kernel\\n");\n', ""], ['  printk(KERN_INFO + "hello, kernel\\n");\n', '  printk(KERN_INFO + "hello, kernel\\n");\n  printk(KERN_INFO + "goodbye, kernel\\n");\n']], fails: "goodbye-on-unload" },
    { name: "no licence", edit: [['MODULE_LICENSE("GPL");\n', ""]], fails: "no-taint" },
    { name: "proprietary licence", edit: [['MODULE_LICENSE("GPL")', 'MODULE_LICENSE("Proprietary")']], fails: "no-taint" },
    { name: "init fails with -ENOMEM", edit: [["  return 0;", "  return -12;"]], fails: "loads" },
    { name: "slightly different text", edit: [["hello, kernel", "Hello, kernel!"]], fails: "hello-on-load" },
  ],
  "three-allocators": [
    { name: "kmalloc with the wrong size", edit: [["kmalloc(100,", "kmalloc(128,"]], fails: "kmalloc-100" },
    { name: "the page with GFP_ATOMIC", edit: [["__get_free_page(GFP_KERNEL)", "__get_free_page(GFP_ATOMIC)"], ["GFP_KERNEL, ENOMEM,\n", "GFP_KERNEL, ENOMEM, GFP_ATOMIC,\n"]], fails: "page" },
    { name: "vmalloc leaked", edit: [["  vfree(vmallocmem);\n", ""]], fails: "no-leak" },
    { name: "a million bytes from kmalloc instead", edit: [["vmalloc(1000000)", "kmalloc(1000000, GFP_KERNEL)"], ["  vfree(vmallocmem);", "  kfree(vmallocmem);"]], fails: "vmalloc-1000000" },
    { name: "prints made-up addresses", edit: [[/printk\(KERN_INFO \+ "(\w+) = 0x%lx\\n", \w+\);/g, 'printk(KERN_INFO + "$1 = 0x%lx\\n", 0xc0001000n);']], fails: "addresses-printed" },
  ],
  "contiguous-16k": [
    { name: "freed with order 0", edit: [["free_pages(buf, ORDER)", "free_pages(buf, 0)"]], fails: "freed-order-2" },
    { name: "order 1 (8 KiB)", edit: [["const ORDER = 2;", "const ORDER = 1;"]], fails: "order-2" },
    { name: "filled with 0xAA", edit: [["memset(buf, 0xab, 16384)", "memset(buf, 0xaa, 16384)"]], fails: "filled-ab" },
    { name: "only half filled", edit: [["memset(buf, 0xab, 16384)", "memset(buf, 0xab, 8192)"]], fails: "filled-ab" },
    { name: "leaked", edit: [["  free_pages(buf, ORDER);\n", ""]], fails: "no-leak" },
  ],
  "object-cache": [
    { name: "64-byte objects", edit: [['"kmodlab_item", 72', '"kmodlab_item", 64']], fails: "slabinfo-after-load" },
    { name: "50 objects", edit: [["i < 100", "i < 50"]], fails: "slabinfo-after-load" },
    { name: "cache not destroyed", edit: [["  kmem_cache_destroy(cache!);\n", ""]], fails: "cache-destroyed" },
    { name: "objects leaked", edit: [["  for (const o of objs) kmem_cache_free(cache!, o);\n", ""]], fails: "no-leak" },
  ],
  "big-buffer": [
    { name: "vmalloc (not zeroed)", edit: [["buf = vzalloc(SIZE)", "buf = vmalloc(SIZE)"], ["import { vzalloc,", "import { vzalloc, vmalloc,"]], fails: "vmalloc-4m-zeroed" },
    { name: "prints ok without doing the work", edit: [["  for (let i = 0; i < pages; i++) writel(i, buf + BigInt(i * PAGE_SIZE));\n", ""], ["  for (let i = 0; i < pages; i++) if (readl(buf + BigInt(i * PAGE_SIZE)) !== i) good = false;\n", ""]], fails: "writes" },
    { name: "2 MiB", edit: [["const SIZE = 4 * 1024 * 1024;", "const SIZE = 2 * 1024 * 1024;"]], fails: "vmalloc-4m-zeroed" },
    { name: "leaked", edit: [["  vfree(buf);\n", ""]], fails: "no-leak" },
  ],
  "atomic-alloc": [
    { name: "GFP_KERNEL in the handler", edit: [["kmalloc(256, GFP_ATOMIC)", "kmalloc(256, GFP_KERNEL)"], ["GFP_ATOMIC, IRQ_HANDLED", "GFP_ATOMIC, GFP_KERNEL, IRQ_HANDLED"]], fails: "atomic-allocs" },
    { name: "128 bytes", edit: [["kmalloc(256,", "kmalloc(128,"]], fails: "atomic-allocs" },
    { name: "allocations leaked", edit: [["  for (const p of kept) kfree(p);\n", ""]], fails: "no-leak" },
    { name: "IRQ not freed", edit: [["  free_irq(BUTTON_IRQ, dev);\n", ""]], fails: "irq-freed" },
  ],
  "pick-the-flags": [
    { name: "GFP_KERNEL in the timer", edit: [["a = kmalloc(128, GFP_ATOMIC)", "a = kmalloc(128, GFP_KERNEL)"]], fails: "timer-atomic" },
    { name: "GFP_KERNEL in the tasklet", edit: [["b = kmalloc(128, GFP_ATOMIC)", "b = kmalloc(128, GFP_KERNEL)"]], fails: "tasklet-atomic" },
    { name: "GFP_ATOMIC in the work item", edit: [["c = kmalloc(128, GFP_KERNEL)", "c = kmalloc(128, GFP_ATOMIC)"]], fails: "work-kernel" },
    { name: "the work item's allocation leaked", edit: [["kfree(c);", ""]], fails: "no-leak" },
  ],
  "dma-buffer": [
    { name: "vmalloc buffer", edit: [["const buf = kmalloc(SIZE, GFP_KERNEL);", "const buf = vmalloc(SIZE);"], [/kfree\(buf\)/g, "vfree(buf)"], ["import { kmalloc, kfree,", "import { kmalloc, kfree, vmalloc, vfree,"]], fails: "contiguous" },
    { name: "mapping not checked", edit: [["  if (dma_mapping_error(dev, handle)) {\n    kfree(buf);\n    return -EIO;\n  }\n", ""]], fails: "error-checked" },
    { name: "unmapped with another size", edit: [["dma_unmap_single(dev, handle, SIZE,", "dma_unmap_single(dev, handle, 4096,"]], fails: "unmapped-before-free" },
    { name: "freed before unmap", edit: [["  dma_unmap_single(dev, handle, SIZE, DMA_TO_DEVICE);\n  kfree(buf);\n", "  kfree(buf);\n  dma_unmap_single(dev, handle, SIZE, DMA_TO_DEVICE);\n"]], fails: "unmapped-before-free" },
  ],
  "find-the-hole": [
    { name: "prints the answer without searching", edit: [[/  let lo = 0[\s\S]*?printk/, "  const lo = 57;\n  printk"]], fails: "found-largest" },
    { name: "probes without __GFP_NOWARN", edit: [["GFP_KERNEL | __GFP_NOWARN", "GFP_KERNEL"]], fails: "quiet" },
    { name: "keeps the probe it found", edit: [["  vfree(p);\n  return true;", "  return true;"]], fails: "no-leak" },
    { name: "off by one", edit: [['"largest: %d MiB\\n", lo', '"largest: %d MiB\\n", lo + 1']], fails: "found-largest" },
  ],
  "fix-the-bugs": [
    { name: "still writes one past the end", edit: [["i < N; i++) writeb", "i <= N; i++) writeb"]], fails: "no-reports" },
    { name: "still frees vmalloc memory with kfree", edit: [["  vfree(table);   //", "  kfree(table);   //"]], fails: "no-leak" },
    { name: "still leaks", edit: [["  kfree(scratch);", ""]], fails: "no-leak" },
    { name: "prints the sum without reading", edit: [["  for (let i = 0; i < N; i++) sum += readb(buf + BigInt(i));\n", "  sum = 120;\n"]], fails: "same-sum" },
  ],
  "share-a-buffer": [
    { name: "a plain vmalloc buffer (no VM_USERMAP)", edit: [["buf = vmalloc_user(16 * 1024)", "buf = vmalloc(16 * 1024)"], ["import { vmalloc_user,", "import { vmalloc_user, vmalloc,"]], fails: "usermap-buffer" },
    { name: "maps only the first page", edit: [["return remap_vmalloc_range(vma, buf, vma_pgoff(vma));", "return remap_vmalloc_range(vma, buf, 3);"]], fails: "usermap-buffer" },
    { name: "prints the sum without reading", edit: [["  for (let i = 0; i < 4; i++) sum += readb(buf + BigInt(i * 4096));\n", "  sum = 168;\n"]], fails: "read-back" },
    { name: "buffer leaked", edit: [["  vfree(buf);\n}", "}"]], fails: "no-leak" },
  ],
};

function apply(src: string, edits: [string | RegExp, string][]): string {
  let out = src;
  for (const [from, to] of edits) {
    const next = out.replace(from as never, to);
    if (next === out) throw new Error(`variant edit did not apply: ${String(from)}`);
    out = next;
  }
  return out;
}

const failing = (g: GradeResult) => g.checks.filter((c) => !c.pass).map((c) => `${c.id}: ${c.detail}`);

describe("the exercise list", () => {
  it("has the ten exercises of the issue and issue 19's share-a-buffer, each with checks, a statement and at least three wrong variants", () => {
    expect(EXERCISES.map((e) => e.id)).toEqual(["hello-module", "three-allocators", "contiguous-16k", "object-cache", "big-buffer", "atomic-alloc", "pick-the-flags", "dma-buffer", "find-the-hole", "fix-the-bugs", "share-a-buffer"]);
    for (const e of EXERCISES) {
      expect(e.statement.length).toBeGreaterThan(40);
      expect(e.checks.map((c) => c.id)).toContain("loads");
      expect(e.checks.map((c) => c.id)).toContain("no-leak");
      expect(new Set(e.checks.map((c) => c.id)).size).toBe(e.checks.length);
      for (const c of e.checks) expect(c.hint.length, `${e.id}/${c.id} hint`).toBeGreaterThan(10);
      expect(VARIANTS[e.id]?.length ?? 0, e.id).toBeGreaterThanOrEqual(3);
      for (const v of VARIANTS[e.id]) {
        expect(e.checks.map((c) => c.id), `${e.id}: ${v.name}`).toContain(v.fails);
        expect(() => apply(e.solution, v.edit), `${e.id}: ${v.name}`).not.toThrow();
      }
    }
  });
});

for (const ex of EXERCISES) {
  describe(`exercise ${ex.id} (${ex.settings.profile})`, () => {
    it("the reference solution passes every check", async () => {
      const g = await gradeSource(ex, ex.solution);
      expect(failing(g)).toEqual([]);
      expect(g.score).toBe(g.maxScore);
    });
    it("the starter runs and fails at least one check", async () => {
      const g = await gradeSource(ex, ex.starter);
      expect(g.reports?.filter((r) => r.kind === "compile-error")).toEqual([]);
      expect(g.passed).toBe(false);
      expect(g.firstHint).toBeTruthy();
    });
    for (const v of VARIANTS[ex.id] ?? []) {
      it(`wrong variant "${v.name}" fails ${v.fails}`, async () => {
        const g = await gradeSource(ex, apply(ex.solution, v.edit));
        const c = g.checks.find((x) => x.id === v.fails)!;
        expect(c.pass, `${v.fails} should fail; failing: ${JSON.stringify(failing(g))}`).toBe(false);
        expect(c.detail).toBeTruthy();
        expect(g.passed).toBe(false);
      });
    }
  });
}

/** Other correct solutions than the reference: each must pass too (checks judge what was done, not how). */
const ALTERNATIVES: Record<string, [string, [string | RegExp, string][]][]> = {
  "contiguous-16k": [["memset32 instead of memset", [["memset(buf, 0xab, 16384)", "memset32(buf, 0xabababab, 4096)"], ["import { __get_free_pages,", "import { memset32, __get_free_pages,"]]]],
  "three-allocators": [["%px instead of 0x%lx", [[/0x%lx/g, "%px"]]]],
  "hello-module": [["pr_info instead of printk", [[/printk\(KERN_INFO \+ /g, "pr_info("], ["import { printk,", "import { pr_info, printk,"]]]],
};
for (const [id, alts] of Object.entries(ALTERNATIVES)) {
  const ex = getExercise(id)!;
  for (const [name, edit] of alts) {
    it(`${id}: another correct solution passes (${name})`, async () => {
      const g = await gradeSource(ex, apply(ex.solution, edit));
      expect(failing(g)).toEqual([]);
    });
  }
}

describe("getExercise", () => {
  it("finds by id, undefined otherwise", () => {
    expect(getExercise("hello-module")?.settings.profile).toBe("x86_64-6.1");
    expect(getExercise("nope")).toBeUndefined();
  });
});
