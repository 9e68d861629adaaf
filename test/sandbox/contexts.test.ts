// The contexts rows through runModule on the real kernel: timers, interrupts, work, locks, sleeping, DMA, the
// page allocator's struct page rows, and the wrong frees' explanations. Each names the behaviour it pins.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { explainWrongFree } from "../../src/kernel/debug/wrong_free.ts";
import type { RunResult } from "../../sandbox/result.ts";
import type { CallRecord } from "../../sandbox/calllog.ts";

const calls = (r: RunResult, fn: string) => (r.kernel.calls as CallRecord[]).filter((c) => c.fn === fn);
/** The 1-based line of the cell that contains `marker`. */
const lineOf = (src: string, marker: string) => src.split("\n").findIndex((l) => l.includes(marker)) + 1;

const timerCell = (gfp: string) => `import { timer_setup, mod_timer, del_timer_sync, kmalloc, kfree, ${gfp}, jiffies, msecs_to_jiffies,
         timer_list, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
const timer = new timer_list();
let p = 0n;
function tick(t: timer_list): void {
  p = kmalloc(64, ${gfp}); // the allocation
}
function init(): number { timer_setup(timer, tick, 0); mod_timer(timer, jiffies + msecs_to_jiffies(5)); return 0; }
function exit(): void { del_timer_sync(timer); kfree(p); }
module_init(init);
module_exit(exit);
`;

describe("contexts through the sandbox (x86_64-6.1)", () => {
  it("GFP_KERNEL kmalloc in a timer callback: sleep-in-atomic at the kmalloc's cell line, in softirq context", async () => {
    const src = timerCell("GFP_KERNEL");
    const r = await runModule(src);
    const rep = r.reports.find((x) => x.kind === "sleep-in-atomic");
    expect(rep?.title).toMatch(/^BUG: sleeping function called from invalid context at /);
    expect(rep?.line).toBe(lineOf(src, "// the allocation"));
    expect(r.dmesg.some((l) => /tick\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]/.test(l))).toBe(true);
    const k = calls(r, "kmalloc")[0]!;
    expect(k.caller).toBe("tick");
    expect(k.ctx.softirq).toBe(true);
    expect(r.module).toEqual({ loaded: true, unloaded: true });
  });

  it("GFP_ATOMIC in the same timer callback: no report", async () => {
    const r = await runModule(timerCell("GFP_ATOMIC"));
    expect(r.reports).toEqual([]);
    expect(calls(r, "kmalloc")[0]!.ret).not.toBe("0x0");
  });

  it("an IRQ handler on sim.BUTTON_IRQ raised three times allocates three times in hardirq context; free_irq finds it by dev_id", async () => {
    const r = await runModule(`import { request_irq, free_irq, kmalloc, kfree, GFP_ATOMIC, IRQ_HANDLED, MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ, raise_irq, raise_irq_at } from "sim";
MODULE_LICENSE("GPL");
const kept: bigint[] = [];
const dev = { name: "button" };
function button_handler(irq: number, dev_id: unknown): number {
  if (dev_id !== dev || irq !== BUTTON_IRQ) throw new Error("wrong arguments");
  kept.push(kmalloc(256, GFP_ATOMIC));
  return IRQ_HANDLED;
}
function btn_init(): number {
  const ret = request_irq(BUTTON_IRQ, button_handler, 0, "kmodlab-button", dev);
  raise_irq(BUTTON_IRQ);
  raise_irq_at(2, BUTTON_IRQ);
  raise_irq_at(3, BUTTON_IRQ);
  return ret;
}
function btn_exit(): void { free_irq(BUTTON_IRQ, dev); for (const p of kept) kfree(p); }
module_init(btn_init);
module_exit(btn_exit);
`);
    expect(r.reports).toEqual([]);
    const ks = calls(r, "kmalloc");
    expect(ks.length).toBe(3);
    expect(ks.every((c) => c.ctx.hardirq && c.ctx.irqsDisabled && c.caller === "button_handler")).toBe(true);
    expect(ks.map((c) => c.phase)).toEqual(["init", "deferred", "deferred"]);
  });

  it("a work item may sleep: GFP_KERNEL there is fine, and it runs as the kworker", async () => {
    const r =
      await runModule(`import { INIT_WORK, schedule_work, flush_work, work_struct, kmalloc, kfree, GFP_KERNEL, msleep, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
const w = new work_struct();
let p = 0n;
function work_fn(work: work_struct): void { if (work !== w) throw new Error("not my work"); msleep(1); p = kmalloc(128, GFP_KERNEL); }
module_init(() => { INIT_WORK(w, work_fn); schedule_work(w); return 0; });
module_exit(() => { flush_work(w); kfree(p); });
`);
    expect(r.reports).toEqual([]);
    const k = calls(r, "kmalloc")[0]!;
    expect(k.ctx.task).toMatch(/^kworker\//);
    expect(k.ctx.atomic).toBe(false);
  });

  it("msleep under a spinlock: scheduling while atomic, at the msleep line", async () => {
    const src = `import { DEFINE_SPINLOCK, spin_lock, spin_unlock, msleep, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
const lock = DEFINE_SPINLOCK();
function init(): number {
  spin_lock(lock);
  msleep(10); // sleeps
  spin_unlock(lock);
  return 0;
}
module_init(init);
`;
    const r = await runModule(src);
    const rep = r.reports.find((x) => x.kind === "scheduling-while-atomic" || x.kind === "sleep-in-atomic");
    expect(rep).toBeDefined();
    expect(rep!.line).toBe(lineOf(src, "// sleeps"));
  });

  it("spin_lock_irqsave returns the flags spin_unlock_irqrestore takes; interrupts are off in between", async () => {
    const r =
      await runModule(`import { DEFINE_SPINLOCK, spin_lock_irqsave, spin_unlock_irqrestore, irqs_disabled, in_atomic, printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
const lock = DEFINE_SPINLOCK();
module_init(function init(): number {
  const flags = spin_lock_irqsave(lock);
  printk(KERN_INFO + "inside %d %d\\n", irqs_disabled() ? 1 : 0, in_atomic() ? 1 : 0);
  spin_unlock_irqrestore(lock, flags);
  printk(KERN_INFO + "after %d %d\\n", irqs_disabled() ? 1 : 0, in_atomic() ? 1 : 0);
  return 0;
});
`);
    expect(r.reports).toEqual([]);
    expect(r.dmesg.slice(-2).map((l) => l.slice(15))).toEqual(["inside 1 1", "after 0 0"]);
  });

  it("a handle of the wrong type is a TypeError naming the function and parameter", async () => {
    const r = await runModule(`import { DEFINE_MUTEX, spin_lock, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
const m = DEFINE_MUTEX();
module_init(function init(): number { spin_lock(m as any); return 0; });
`);
    expect(r.reports[0]?.kind).toBe("exception");
    expect(r.reports[0]?.text).toContain("spin_lock: parameter 'lock' must be a spinlock_t (made with DEFINE_SPINLOCK())");
  });

  it("vmalloc in an IRQ handler: the era's kernel BUG at mm/vmalloc.c:N! ends the handler; the run goes on to rmmod", async () => {
    const r = await runModule(`import { request_irq, free_irq, vmalloc, printk, KERN_INFO, IRQ_HANDLED, MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ, raise_irq_at } from "sim";
MODULE_LICENSE("GPL");
function handler(irq: number, dev: unknown): number {
  const v = vmalloc(8192);
  printk(KERN_INFO + "handler went on: %px\\n", v);
  return IRQ_HANDLED;
}
module_init(function init(): number { raise_irq_at(1, BUTTON_IRQ); return request_irq(BUTTON_IRQ, handler, 0, "btn", 1); });
module_exit(function exit(): void { free_irq(BUTTON_IRQ, 1); printk(KERN_INFO + "exit ran\\n"); });
`);
    const bug = r.reports.find((x) => /^kernel BUG at mm\/vmalloc\.c:\d+!$/.test(x.title));
    expect(bug).toBeDefined();
    expect(r.dmesg.some((l) => l.includes("handler went on"))).toBe(false);
    expect(r.dmesg.some((l) => l.includes("exit ran"))).toBe(true);
    expect(r.module).toEqual({ loaded: true, unloaded: true });
  });

  it("dma_map_single of a vmalloc buffer: 6.1 rejects it (rejecting DMA map of vmalloc memory) and dma_mapping_error says so", async () => {
    const r =
      await runModule(`import { vmalloc, vfree, dma_map_single, dma_mapping_error, DMA_TO_DEVICE, printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
import { dma_device } from "sim";
MODULE_LICENSE("GPL");
module_init(function init(): number {
  const dev = dma_device();
  if (dev !== dma_device()) return -1;
  const buf = vmalloc(65536);
  const h = dma_map_single(dev, buf, 65536, DMA_TO_DEVICE);
  printk(KERN_INFO + "err=%d\\n", dma_mapping_error(dev, h));
  vfree(buf);
  return 0;
});
`);
    expect(r.initReturn).toBe(0);
    const rep = r.reports.find((x) => x.kind === "dma-api");
    expect(rep?.text).toContain("pci 0000:00:04.0: rejecting DMA map of vmalloc memory");
    expect(r.dmesg.some((l) => l.endsWith("err=-12"))).toBe(true);
  });

  it("a mapping never checked with dma_mapping_error: the DMA-API report at unmap", async () => {
    const r = await runModule(`import { kmalloc, kfree, dma_map_single, dma_unmap_single, DMA_TO_DEVICE, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
import { dma_device } from "sim";
MODULE_LICENSE("GPL");
module_init(function init(): number {
  const dev = dma_device();
  const buf = kmalloc(4096, GFP_KERNEL);
  const h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
  dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
  kfree(buf);
  return 0;
});
`);
    const rep = r.reports.find((x) => x.kind === "dma-api");
    expect(rep?.text).toContain("DMA-API: pci 0000:00:04.0: device driver failed to check map error");
  });

  it("alloc_pages returns a struct page * in vmemmap; page_address / virt_to_page / page_to_pfn agree; __free_pages frees it", async () => {
    const r =
      await runModule(`import { alloc_pages, __free_pages, page_address, virt_to_page, page_to_pfn, pfn_to_page, virt_to_phys, GFP_KERNEL, printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(function init(): number {
  const page = alloc_pages(GFP_KERNEL, 2);
  const addr = page_address(page);
  const ok = virt_to_page(addr) === page && pfn_to_page(page_to_pfn(page)) === page && BigInt(page_to_pfn(page)) * 4096n === virt_to_phys(addr);
  printk(KERN_INFO + "page=%px ok=%d\\n", page, ok ? 1 : 0);
  __free_pages(page, 2);
  return 0;
});
`);
    expect(r.reports).toEqual([]);
    expect(r.dmesg.at(-1)).toMatch(/page=ffffea[0-9a-f]{10} ok=1$/);
  });
});

describe("eras through the sandbox", () => {
  it("i386-2.6: setup_timer(t, fn, data) calls fn(data) in softirq context; timer_setup is an import error naming the era", async () => {
    const r = await runModule(
      `import { setup_timer, mod_timer, del_timer_sync, timer_list, jiffies, HZ, in_softirq, printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
const t = new timer_list();
function fire(data: number): void { printk(KERN_INFO + "fired data=%lu softirq=%d\\n", data, in_softirq() ? 1 : 0); }
module_init(function init(): number { setup_timer(t, fire, 42); mod_timer(t, jiffies + HZ / 10); return 0; });
module_exit(function exit(): void { del_timer_sync(t); });
`,
      { profile: "i386-2.6" },
    );
    expect(r.reports).toEqual([]);
    expect(r.dmesg.some((l) => l.endsWith("fired data=42 softirq=1"))).toBe(true);
    const bad = await runModule(`import { timer_setup } from "linux";`, { profile: "i386-2.6" });
    expect(bad.reports[0]?.kind).toBe("compile-error");
    expect(bad.reports[0]?.title).toContain("timer_setup does not exist in Linux 2.6 (added in 4.15 — use setup_timer(timer, fn, data))");
  });

  it("i386-6.1: a highmem page has no page_address until kmap gives it one in the pkmap area", async () => {
    const r = await runModule(
      `import { alloc_pages, __free_pages, page_address, kmap, kunmap, kmap_local_page, kunmap_local, writel, readl, GFP_HIGHUSER, printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(function init(): number {
  const page = alloc_pages(GFP_HIGHUSER, 0);
  const before = page_address(page);
  const v = kmap(page);
  writel(0x1234, v);
  kunmap(page);
  const l = kmap_local_page(page);
  printk(KERN_INFO + "before=%lx kmap=%lx local=%lx value=%x\\n", before, v, l, readl(l));
  kunmap_local(l);
  __free_pages(page, 0);
  return 0;
});
`,
      { profile: "i386-6.1", mem: 1 << 30 },
    );
    expect(r.reports).toEqual([]);
    const m = /before=(\w+) kmap=(\w+) local=(\w+) value=1234$/.exec(r.dmesg.at(-1)!);
    expect(m?.[1]).toBe("0");
    const pkmap = BigInt((r.kernel.layout as { pkmapBase: string }).pkmapBase);
    expect(BigInt("0x" + m![2])).toBeGreaterThanOrEqual(pkmap);
    expect(BigInt("0x" + m![2])).toBeLessThan(pkmap + 0x400000n);
  });
});

describe("wrong frees carry the learner's explanation (x86_64-6.1)", () => {
  const run = (body: string, imports: string) =>
    runModule(`import { ${imports}, printk, KERN_INFO, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(function init(): number {
${body}
  printk(KERN_INFO + "init went on\\n");
  return 0;
});
`);

  it("kfree of a vmalloc address: the Oops, explained, and the task ends there", async () => {
    const r = await run("  const v = vmalloc(8192);\n  kfree(v);", "vmalloc, kfree");
    const rep = r.reports.find((x) => x.explain?.startsWith(explainWrongFree("kfree-vmalloc")));
    expect(rep?.title).toMatch(/^BUG: unable to handle page fault for address: /);
    expect(r.dmesg.some((l) => l.includes("init went on"))).toBe(false);
  });

  it("vfree of a kmalloc address: Trying to vfree() ..., explained", async () => {
    const r = await run("  const p = kmalloc(100, GFP_KERNEL);\n  vfree(p);\n  kfree(p);", "kmalloc, kfree, vfree");
    const rep = r.reports.find((x) => x.explain === explainWrongFree("vfree-kmalloc"));
    expect(rep?.text).toMatch(/Trying to vfree\(\) (bad address|nonexistent vm area)/);
    expect(r.dmesg.some((l) => l.includes("init went on"))).toBe(true);
  });

  it("free_pages with the wrong order: Bad page state, explained", async () => {
    const r = await run("  const a = __get_free_pages(GFP_KERNEL, 0);\n  free_pages(a, 2);", "__get_free_pages, free_pages");
    const rep = r.reports.find((x) => x.explain?.startsWith(explainWrongFree("free_pages-wrong-order")));
    expect(rep?.title).toMatch(/^BUG: Bad page state in process insmod/);
  });

  it("free_pages of a kmalloc address: Bad page state, explained", async () => {
    const r = await run("  const p = kmalloc(64, GFP_KERNEL);\n  free_pages(p, 0);", "kmalloc, free_pages");
    const rep = r.reports.find((x) => x.explain?.startsWith(explainWrongFree("free_pages-not-page")));
    expect(rep?.title).toMatch(/^BUG: Bad page state/);
  });

  it("free_pages of a vmalloc address: the Oops, explained, and the task ends there", async () => {
    const r = await run("  const v = vmalloc(4096);\n  free_pages(v, 0);", "vmalloc, free_pages");
    const rep = r.reports.find((x) => x.explain?.startsWith(explainWrongFree("free_pages-not-page")));
    expect(rep?.title).toMatch(/^BUG: unable to handle page fault/);
    expect(r.dmesg.some((l) => l.includes("init went on"))).toBe(false);
  });

  it("kmem_cache_free to the wrong cache: cache_from_obj's WARN, explained", async () => {
    const r = await run(
      '  const a = kmem_cache_create("kml_a", 64, 0, SLAB_HWCACHE_ALIGN);\n  const b = kmem_cache_create("kml_b", 200, 0, SLAB_HWCACHE_ALIGN);\n  const o = kmem_cache_alloc(a!, GFP_KERNEL);\n  kmem_cache_free(b!, o);',
      "kmem_cache_create, kmem_cache_alloc, kmem_cache_free, SLAB_HWCACHE_ALIGN",
    );
    const rep = r.reports.find((x) => x.explain === explainWrongFree("kmem_cache_free-wrong-cache"));
    expect(rep?.text).toContain("cache_from_obj: Wrong slab cache. kml_b but object is from kml_a");
  });
});
