// The dynamic percpu allocator (mm/percpu.c; src/kernel/mm/percpu.ts): alloc_percpu in the boot's chunks, meminfo's
// Percpu growing by populated pages x units, a new chunk from vmalloc space (pcpu_get_vm_areas) when the others are
// full, the illegal-size WARN, per_cpu_ptr memory, and 6.1's kmemleak that does not report a leaked percpu area.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const cell = (
  body: string,
  exit = "",
) => `import { alloc_percpu, __alloc_percpu, free_percpu, per_cpu_ptr, this_cpu_ptr, writel, readl, printk, KERN_INFO, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
let keep: bigint[] = [];
function p_init(): number {
${body}
  return 0;
}
function p_exit(): void {
${exit}
}
module_init(p_init);
module_exit(p_exit);
`;
const percpuKb = (m: string | undefined) => Number(/^Percpu:\s+(\d+) kB$/m.exec(m ?? "")?.[1]);
const pcpuAreas = (v: string | undefined) => (v ?? "").split("\n").filter((l) => / pcpu_get_vm_areas\+/.test(l)).length;
const text = (d: string[]) => d.map((l) => l.replace(/^\[[^\]]*\] /, ""));

describe("alloc_percpu", () => {
  it("x86_64 6.1: small areas land in the boot's second chunk; each page the allocations reach is populated and the balance keeps 2 empty ones: Percpu grows 4 kB per page", async () => {
    const base = await runModule(cell(""), { views: false, profile: "x86_64-6.1", config: "distro", proc: ["meminfo"] });
    const before = percpuKb(base.proc?.["meminfo"]);
    expect(before).toBe(260); // the real x86_64 boot's figure
    // 3 pages of allocations: pages 1..3 of the chunk used, the balance adds 2 empty ones (4, 5): 3 more than the boot's 3
    const r = await runModule(cell("for (let i = 0; i < 3; i++) keep.push(alloc_percpu(4096));", "for (const p of keep) free_percpu(p);"), {
      views: false,
      profile: "x86_64-6.1",
      config: "distro",
      proc: ["meminfo", "vmallocinfo"],
    });
    expect(r.reports).toEqual([]);
    expect(percpuKb(r.proc?.["meminfo"])).toBe(before + 3 * 4);
    // freed areas keep their pages
    expect(percpuKb(r.procAfterExit?.["meminfo"])).toBe(before + 3 * 4);
    expect(pcpuAreas(r.proc?.["vmallocinfo"])).toBe(1);
  });

  it("per_cpu_ptr memory is mapped, zeroed and distinct per allocation; this_cpu_ptr is CPU 0's copy", async () => {
    const r = await runModule(
      cell(`const a = alloc_percpu(8); const b = alloc_percpu(8);
  printk(KERN_INFO + "zero %d\\n", readl(per_cpu_ptr(a, 0)));
  writel(0x1234, per_cpu_ptr(a, 0)); writel(7, this_cpu_ptr(b));
  printk(KERN_INFO + "a %x b %d same %d gap %d\\n", readl(this_cpu_ptr(a)), readl(per_cpu_ptr(b, 0)), per_cpu_ptr(a, 0) === this_cpu_ptr(a) ? 1 : 0, Number(b - a));
  free_percpu(a); free_percpu(b);`),
      { views: false, profile: "x86_64-6.1" },
    );
    const d = text(r.dmesg);
    expect(r.reports).toEqual([]);
    expect(d).toContain("zero 0");
    expect(d).toContain("a 1234 b 7 same 1 gap 8");
  });

  it("i386 6.1 (no second chunk at boot): the first allocation creates a chunk, a pcpu_get_vm_areas area of one 33-page unit at the top of vmalloc space", async () => {
    const r = await runModule(cell("keep.push(alloc_percpu(64));", "free_percpu(keep[0]);"), {
      views: false,
      profile: "i386-6.1",
      proc: ["meminfo", "vmallocinfo"],
    });
    expect(r.reports).toEqual([]);
    const v = r.proc?.["vmallocinfo"] ?? "";
    expect(v).toMatch(/ 135168 pcpu_get_vm_areas\+0x0\/0x[0-9a-f]+ vmalloc\n/);
    // the chunk's maps above a page come from vmalloc: obj_cgroups (33792 slots x 4 bytes) and alloc/bound maps (4224/4228 bytes)
    expect(v).toMatch(/ 139264 pcpu_create_chunk\+0x167\/0x1b0 pages=33 vmalloc/);
    // page 0 for the area, pages 1 and 2 by the balance: 3 pages
    expect(percpuKb(r.proc?.["meminfo"]) - percpuKb(r.procAfterExit?.["meminfo"])).toBe(0);
    const base = await runModule(cell(""), { views: false, profile: "i386-6.1", proc: ["meminfo"] });
    expect(percpuKb(r.proc?.["meminfo"]) - percpuKb(base.proc?.["meminfo"])).toBe(12);
  });

  it("size above PCPU_MIN_UNIT_SIZE, or an align that is not a power of two: the WARN and NULL", async () => {
    const r = await runModule(cell('printk(KERN_INFO + "big %d odd %d\\n", Number(alloc_percpu(40000)), Number(__alloc_percpu(16, 12)));'), {
      views: false,
      profile: "x86_64-6.1",
    });
    const d = text(r.dmesg);
    expect(d).toContain("big 0 odd 0");
    expect(d).toContain("illegal size (40000) or align (8) for percpu allocation");
    expect(d).toContain("illegal size (16) or align (12) for percpu allocation");
    expect(r.reports.filter((x) => x.kind === "warn").length).toBe(2);
  });

  it("6.1's kmemleak does not report a percpu area the module never freed (min_count 0): no leak report, the pages just stay", async () => {
    const r = await runModule(cell("keep.push(alloc_percpu(128));"), { views: false, profile: "x86_64-6.1", config: "debug", proc: ["meminfo"] });
    expect(r.reports.filter((x) => x.kind === "leak")).toEqual([]);
  });

  it("not in the 2.6 era: importing alloc_percpu is refused with the reason", async () => {
    const r = await runModule(cell("keep.push(alloc_percpu(8));"), { views: false, profile: "i386-2.6" });
    expect(r.reports.some((x) => /alloc_percpu does not exist in Linux 2\.6/.test(x.title + x.text))).toBe(true);
  });
});
