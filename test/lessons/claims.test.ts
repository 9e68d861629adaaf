// What a lesson says its cell shows, asserted on what the page shows: each cell runs as the notebook's worker runs it
// (the cell's own settings, the worker's KernelSession for the frames behind each buffer, the digest the page gets)
// and is rendered by the notebook's own renderOutcome in jsdom; the assertions read the rendered text.
// A lesson cannot claim what its cell does not show.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { JSDOM } from "jsdom";
import { loadKernelDeps, runModule } from "../../sandbox/run.ts";
import { cellRunSettings, loadLessons, LESSONS_DIR } from "../../src/lessons/load.ts";
import { KernelSession } from "../../src/notebook/session.ts";
import { digestForPage } from "../../src/notebook/digest.ts";
import { parseMem } from "../../src/notebook/settings.ts";

let renderOutcome: typeof import("../../src/notebook/output.ts").renderOutcome;
const lessons = loadLessons();

beforeAll(async () => {
  const { window } = new JSDOM("");
  // canvases draw in the next frame: not in jsdom
  Object.assign(globalThis, { document: window.document, getComputedStyle: window.getComputedStyle.bind(window), requestAnimationFrame: () => 0, Node: window.Node });
  ({ renderOutcome } = await import("../../src/notebook/output.ts"));
});

/** The page's output of a lesson cell, run as the notebook runs it. */
async function page(
  lessonId: string,
  cellId: string,
  source?: string,
  config?: "debug" | "distro",
): Promise<{ el: HTMLElement; text: (sel: string) => string; session: KernelSession }> {
  const lesson = lessons.find((l) => l.meta.id === lessonId)!;
  const cell = lesson.cells.find((c) => c.id === cellId)!;
  expect(cell, `${lessonId}/${cellId}`).toBeDefined();
  const s = cellRunSettings(cell);
  const session = new KernelSession(await loadKernelDeps());
  const result = await runModule(source ?? cell.source, { profile: s.profile, mem: parseMem(s.mem ?? ""), cmdline: s.cmdline, config: config ?? s.config, limits: { cpuMs: 30_000 }, proc: ["vmallocinfo", "buddyinfo", "slabinfo"] }, session.deps());
  const cellMemory = session.keep(1, result.kernel.calls);
  const forPage = digestForPage(result, cellMemory, session.roles);
  const el = document.createElement("div");
  renderOutcome(el, { kind: "result", result: forPage, ms: 1, runId: 1 }, { gotoLine: () => {}, moduleFns: () => [], walk: async () => ({}) as never });
  const text = (sel: string) => [...el.querySelectorAll(sel)].map((e) => e.textContent ?? "").join("\n");
  return { el, text, session };
}

/** Open a folded view (a lazy <details>) as the learner does. */
function openView(el: HTMLElement, sel: string) {
  const d = el.querySelector<HTMLDetailsElement>(sel)!;
  d.open = true;
  d.dispatchEvent(new (d.ownerDocument.defaultView as unknown as typeof globalThis).Event("toggle"));
}
/** A /proc table's row as the page shows it, cell by cell (while loaded, each changed number with its delta), by its leading words. */
function procRow(el: HTMLElement, file: string, lead: RegExp): string[] | undefined {
  const table = [...el.querySelectorAll(".view-proc .proc-table")].find((t) => t.querySelector("caption")?.textContent?.includes(`/proc/${file}`));
  return [...(table?.querySelectorAll("tbody tr") ?? [])]
    .map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent ?? ""))
    .find((cells) => lead.test(cells.join(" ")));
}
const lessonText = (id: string) => readFileSync(join(LESSONS_DIR, lessons.find((l) => l.meta.id === id)!.path.replace(/^lessons\//, "")), "utf8");

const hexIn = (text: string, name: string) => BigInt("0x" + new RegExp(`${name}\\s*(?:addr)?\\s*=\\s*(?:0x)?([0-9a-f]+)`).exec(text)![1]);
const fig = (text: string) => Number(text.replace(/,/g, ""));

describe("lesson claims, as the page shows them", () => {
  it("01 memdemo: of the three addresses two are close together, one is far away", async () => {
    const { text } = await page("first-module", "memdemo");
    const d = text("pre.dmesg");
    const [p, k, v] = ["pagemem", "kmallocmem", "vmallocmem"].map((n) => hexIn(d, n));
    const dist = (a: bigint, b: bigint) => (a > b ? a - b : b - a);
    expect(dist(p, k)).toBeLessThan(1n << 30n);
    expect(dist(p, v)).toBeGreaterThan(1n << 40n);
    expect(dist(k, v)).toBeGreaterThan(1n << 40n);
  });

  it("01: the debug kernel does not check module signatures; the distro config loads the unsigned module with 'module verification failed' and the E taint", async () => {
    expect((await page("first-module", "hello")).text("pre.dmesg")).not.toMatch(/verification/);
    const warn = 'import { __get_free_pages, GFP_KERNEL, MODULE_LICENSE, module_init } from "linux";\nMODULE_LICENSE("GPL");\nmodule_init(() => { __get_free_pages(GFP_KERNEL, 11); return 0; });\n';
    const d = (await page("first-module", "hello", warn, "distro")).text("pre.dmesg");
    expect(d).toMatch(/cell: module verification failed: signature and\/or required key missing - tainting kernel/);
    expect(d).toMatch(/Tainted: G +OE /);
  });

  it("02 layout: the boot log's 847 MB vmalloc and 159 MB lowmem on the 160 MB machine, and the 8 MB and 64 KB gap", async () => {
    const { el, text } = await page("address-space", "layout");
    // the boot log is folded away: open it as the learner does
    const boot = el.querySelector<HTMLDetailsElement>("details.bootlog")!;
    boot.open = true;
    boot.dispatchEvent(new (boot.ownerDocument.defaultView as unknown as typeof globalThis).Event("toggle"));
    const log = text("details.bootlog pre");
    expect(log).toMatch(/vmalloc : 0xca800000 - 0xff7fe000\s+\( 847 MB\)/);
    expect(log).toMatch(/lowmem {2}: 0xc0000000 - 0xc9ff0000\s+\( 159 MB\)/);
    expect(text("pre.dmesg")).toMatch(/gap += 8256 KiB/); // 8 MB and 64 KB
  });

  it("02 memdemo160: the page, the kmalloc block and the vmalloc block at the 3G+N MB the lesson's text says", async () => {
    const said = /The simulated machine prints about `3G\+(\d+)M`, `3G\+(\d+)M` and\s+`3G\+(\d+)M`/.exec(lessonText("address-space"));
    expect(said, "the sentence that says the three addresses").not.toBeNull();
    const d = (await page("address-space", "memdemo160")).text("pre.dmesg");
    const mb = ["pagemem", "kmallocmem", "vmallocmem"].map((n) => Number((hexIn(d, n) - 0xc0000000n) >> 20n));
    expect(mb).toEqual(said!.slice(1).map(Number));
  });

  it("02 memdemo160: the frame map lists the vmalloc block's 245 pages; page and kmalloc block in lowmem, vmalloc above VMALLOC_START", async () => {
    const { text } = await page("address-space", "memdemo160");
    const d = text("pre.dmesg");
    for (const n of ["pagemem", "kmallocmem"]) expect(hexIn(d, n)).toBeLessThan(0xc9ff0000n);
    expect(hexIn(d, "vmallocmem")).toBeGreaterThanOrEqual(0xca800000n);
    expect(text(".fm-buf p")).toMatch(/vmallocmem vmalloc\(1000000\) at 0x[0-9a-f]+(?: \(line \d+\))?: 245 frames/);
  });

  it("03 split: the order-4 DMA block splits an order-5 one (order 4 +1, order 5 -1 in the DMA row while loaded, against after rmmod); three single pages move no row", async () => {
    const { el } = await page("page-allocator", "split");
    openView(el, "details.view-proc");
    expect(el.querySelector(".view-proc")!.textContent).toMatch(/\/proc\/buddyinfo — compared with after rmmod: 1 row differs/);
    const dma = procRow(el, "buddyinfo", /^Node 0, zone DMA /)!;
    // "Node 0, zone DMA a b c ...": the numbers of orders 0..10, each changed one with its delta
    const cells = dma.slice(4);
    expect(cells).toHaveLength(11);
    expect(cells.map((c) => /\(([+-]\d+)\)/.exec(c)?.[1] ?? "0")).toEqual(["0", "0", "0", "0", "+1", "-1", "0", "0", "0", "0", "0"]);
    expect(cells.slice(0, 4)).toEqual(["0", "0", "0", "0"]); // no free block below order 5 but the buddy
    const three = `import { __get_free_page, free_page, GFP_KERNEL, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
const pages: bigint[] = [];
module_init(() => { for (let i = 0; i < 3; i++) pages.push(__get_free_page(GFP_KERNEL)); return 0; });
module_exit(() => { for (const p of pages) free_page(p); });
`;
    const p3 = await page("page-allocator", "split", three);
    openView(p3.el, "details.view-proc");
    expect(p3.el.querySelector(".view-proc")!.textContent).toMatch(/\/proc\/buddyinfo — compared with after rmmod: 0 rows differ/);
  });

  it("05 the walk: a vmalloc address goes down to a 4 KiB PTE, one page past the 8 is the guard page; the next cell's kbuf ends at a 2 MiB PMD", async () => {
    const v = await page("vmalloc", "vmalloc-pages");
    const buf = BigInt("0x" + /page 0: virtual ([0-9a-f]+)/.exec(v.text("pre.dmesg"))![1]);
    const w = v.session.walk(1, buf);
    expect([w.steps.at(-1)!.level, w.pageSize]).toEqual(["PTE", 4096]);
    expect(v.session.walk(1, buf + 0x8000n).area?.guard).toBe(true);
    const s = await page("vmalloc", "scattered");
    const k = s.session.walk(1, hexIn(s.text("pre.dmesg"), "kbuf"));
    expect([k.steps.at(-1)!.level, k.pageSize, k.translated]).toEqual(["PMD", 2 * 1024 * 1024, true]);
  });

  it("05 scattered: vbuf's 16 pages are 16 separate frames (scattered), kbuf one block of 16 consecutive frames", async () => {
    const { text } = await page("vmalloc", "scattered");
    const rows = text(".fm-buf p").split("\n");
    expect(rows.find((r) => r.startsWith("vbuf "))).toMatch(/: 16 frames in 16 separate runs \(scattered\)\./);
    expect(rows.find((r) => r.startsWith("kbuf "))).toMatch(/: 16 frames, all consecutive: PFN 0x[0-9a-f]+–0x[0-9a-f]+\./);
    // the 32 pages freed again in init are not listed a second time under the vmalloc buffer that reused them
    expect(text(".fm-freed")).toMatch(/Not listed: 32 buffers the cell freed again before rmmod/);
    expect(rows.filter((r) => r.startsWith("__get_free_page"))).toHaveLength(32);
  });

  it("08 msm-300: with vmalloc=300M on the command line the cell prints a 296 MB vmalloc area (as the CLI does)", async () => {
    const { text } = await page("vmalloc-size", "msm-300");
    expect(text("pre.dmesg")).toMatch(/vmalloc area: 296 MB/);
  });

  it("08 msm-layout: without it, 192 MB of vmalloc and 808 MB of lowmem", async () => {
    const { text } = await page("vmalloc-size", "msm-layout");
    expect(text("pre.dmesg")).toMatch(/vmalloc [0-9a-f]+-[0-9a-f]+ \(192 MB\)/);
    expect(text("pre.dmesg")).toMatch(/lowmem {2}[0-9a-f]+-[0-9a-f]+ \(808 MB\)/);
  });

  it("11: the page shows TLB hits and misses, far more misses for vmalloc; the module's own simulated time (no boot) is longer for vmalloc", async () => {
    const k = await page("vmalloc-cost", "cost-kmalloc");
    const v = await page("vmalloc-cost", "cost-vmalloc");
    const tlb = (p: typeof k) => /([\d,]+) hits?, ([\d,]+) miss(?:es)?/.exec(p.text('[data-fig="tlb"]'))!.slice(1).map(fig);
    const [kh, km] = tlb(k);
    const [vh, vm] = tlb(v);
    expect(kh).toBeGreaterThanOrEqual(511);
    expect(vm).toBeGreaterThanOrEqual(512); // one miss per 4 KiB page of the 2 MiB buffer
    expect(vm).toBeGreaterThan(50 * Math.max(1, km));
    expect(vh).toBeLessThan(kh);
    const ns = (p: typeof k) => {
      const m = /([\d.]+) (ns|µs|ms|s)$/.exec(p.text('[data-fig="time"] strong').trim())!;
      return Number(m[1]) * { ns: 1, µs: 1e3, ms: 1e6, s: 1e9 }[m[2] as "ns"];
    };
    expect(ns(v)).toBeGreaterThan(ns(k));
    // the boot took seconds of simulated time; the module alone, well under a millisecond here
    expect(ns(v)).toBeLessThan(1e6);
  });
});

describe("lessons 12-14 (user space, /proc and devices, mmap), as the page shows them", () => {
  it("three-allocators: kmalloc in the linear map, vmalloc in the vmalloc area, malloc in the user half; a 132 KiB [heap] and the 200 KiB malloc's own mapping", async () => {
    const { text } = await page("user-space", "three-allocators");
    const d = text("pre.dmesg");
    const k = hexIn(d, "kmalloc");
    const v = hexIn(d, "vmalloc");
    expect(k >= 0xffff888000000000n && k < 0xffffc90000000000n).toBe(true);
    expect(v >= 0xffffc90000000000n && v < 0xffffe90000000000n).toBe(true);
    const out = text("pre.user-stdout");
    expect(out).toMatch(/^malloc\(100\)=4042a0 malloc\(200K\)=7ffff7fc6010$/m);
    expect(out).toMatch(/^00404000-00425000 rw-p 00000000 00:00 0 {34}\[heap\]$/m);
    expect(out).toMatch(/^7ffff7fc6000-7ffff7ff9000 rw-p 00000000 00:00 0 $/m);
  });

  it("demand-paging: the mapping and the reads add nothing to VmRSS, the writes add 256 kB; 64 zero-page faults and 64 copies", async () => {
    const { text } = await page("user-space", "demand-paging");
    const rss = [...text("pre.user-stdout").matchAll(/VmRSS (\d+) kB/g)].map((m) => Number(m[1]));
    expect(rss).toHaveLength(3);
    expect(rss[1]).toBe(rss[0]);
    expect(rss[2]! - rss[1]!).toBe(256);
    expect(text("p.user-faults")).toMatch(/64 mapped the zero page \(a read\), 64 mapped a copy of the zero page/);
  });

  it("proc-and-dev: 5000 bytes in 1000-byte reads, then 0; the ioctl's copy_to_user to 0x10 is EFAULT", async () => {
    const { text } = await page("proc-and-devices", "proc-and-dev");
    const out = text("pre.user-stdout");
    expect(out).toMatch(/^read sizes: 1000 1000 1000 1000 1000 0$/m);
    expect(out).toMatch(/^ioctl: 0 K{15}$/m);
    expect(out).toMatch(/^ioctl to a bad pointer: -1 errno 14$/m);
    expect(text("pre.dmesg")).toMatch(/the device was opened 1 time\(s\)/);
  });

  it("mmap-share: plain vmalloc refused with EINVAL, vmalloc_user mapped; the program's store is what the kernel reads, in the frame the module printed", async () => {
    const { text } = await page("mmap-sharing", "mmap-share");
    const out = text("pre.user-stdout");
    expect(out).toMatch(/^vmalloc: refused, errno 22$/m);
    expect(out).toMatch(/^vmalloc_user: mapped at [0-9a-f]+$/m);
    const d = text("pre.dmesg");
    expect(d).toMatch(/the kernel reads 77 from the kmalloc buffer/);
    const pfn = /kmalloc buffer at pfn (\d+)/.exec(d)![1];
    expect(text("details.user-pages pre")).toMatch(new RegExp(`-> pfn ${pfn} \\(0x[0-9a-f]+\\) pfnmap`));
  });

  it("mmap-share: both address spaces side by side — the kmalloc frame (the pfn the module printed) links a /dev/share VMA to the buffer in the direct map, the vmalloc_user frame to a vmalloc address, plain vmalloc has no link", async () => {
    const { el, text } = await page("mmap-sharing", "mmap-share");
    const view = el.querySelector<HTMLDetailsElement>("details.view-both")!;
    expect(view.open).toBe(true); // open because frames are shared
    expect(text("details.view-both .both-summary")).toBe("2 physical frames mapped by both the process and the kernel, in 2 links.");
    const pfn = Number(/kmalloc buffer at pfn (\d+)/.exec(text("pre.dmesg"))![1]);
    // each link's lines (frame, user address, kernel address, direct map, the pair), as the page shows them one per line
    const links = [...el.querySelectorAll(".both-link")].map((e) => [...e.children].map((c) => c.textContent ?? "").join("\n"));
    expect(links).toHaveLength(2);
    const maps = text("details.user-maps pre");
    const devShare = [...maps.matchAll(/^([0-9a-f]+)-[0-9a-f]+ rw-s [0-9a-f]+ \S+ \d+\s+\/dev\/share$/gm)].map((m) => BigInt("0x" + m[1]));
    expect(devShare).toHaveLength(2);
    const userOf = (l: string) => BigInt(/^user (0x[0-9a-f]+)$/m.exec(l)![1]);
    const kernelOf = (l: string) => BigInt(/^kernel (0x[0-9a-f]+)$/m.exec(l)![1]);
    // the kmalloc buffer: the printed frame, a /dev/share page, the buffer's own address (the direct map)
    const k = links.find((l) => l.includes("kzalloc"))!;
    expect(k).toContain(`pfn ${pfn} (0x${pfn.toString(16)})`);
    expect(devShare).toContain(userOf(k));
    const kzallocRow = [...el.querySelectorAll(".both-buf")].find((e) => e.textContent!.startsWith("kzalloc"))!;
    expect(kernelOf(k)).toBe(BigInt(/0x[0-9a-f]+/.exec(kzallocRow.querySelector(".both-range")!.textContent!)![0]));
    expect(kzallocRow.previousElementSibling?.textContent).toMatch(/^direct map /);
    // vmalloc_user: the other /dev/share page, a vmalloc address, and the direct-map alias of the same frame
    const u = links.find((l) => l.includes("vmalloc_user"))!;
    expect(devShare).toContain(userOf(u));
    expect(userOf(u)).not.toBe(userOf(k));
    expect(u).toMatch(/and 0xffff888[0-9a-f]+ \(direct map\)/);
    const vmallocRegion = [...el.querySelectorAll(".both-region")].find((e) => e.textContent!.startsWith("vmalloc "))!;
    const [lo, hi] = [...vmallocRegion.textContent!.matchAll(/0x[0-9a-f]+/g)].map((m) => BigInt(m[0]));
    expect(kernelOf(u) >= lo && kernelOf(u) <= hi, `${u} in ${vmallocRegion.textContent}`).toBe(true);
    // plain vmalloc: refused, so no link
    const plain = [...el.querySelectorAll(".both-buf")].find((e) => /^vmalloc \(line/.test(e.textContent!))!;
    expect(plain.textContent).toMatch(/not mapped by the process/);
    expect(plain.querySelector(".both-chip")).toBeNull();
  });

  it("segfault: the kernel's line with error 6 in a.out's text, and status 139", async () => {
    const { text } = await page("user-space", "segfault");
    expect(text("pre.dmesg")).toMatch(/a\.out\[109\]: segfault at 0 ip 0000000000401[0-9a-f]{3} sp 00007fffffffef00 error 6 in a\.out\[401000\+1000\] likely on CPU 0 \(core 0, socket 0\)/);
    expect(text("p.user-fate")).toMatch(/killed by SIGSEGV .*status 139/);
  });
});

describe("lesson 15 (LKMPG staples), as the page shows it", () => {
  it("params-atomic: the default count 3, one more user, the fourth put reaches 0", async () => {
    const { text } = await page("lkmpg-staples", "params-atomic");
    expect(text("pre.dmesg")).toMatch(/count=3: the put that reached 0 was number 4, users now 0/);
  });

  it("completion-timer: woken after 5 jiffies (20 ms at HZ=250), the second complete() still counted, the third wait times out with 0", async () => {
    const { text } = await page("lkmpg-staples", "completion-timer");
    const d = text("pre.dmesg");
    expect(d).toMatch(/woken after 5 jiffies; another complete\(\) is still counted: 1/);
    expect(d).toMatch(/a third wait with a 10-jiffy timeout returns 0/);
  });

  it("lost-wakeup: the flag set without wake_up at jiffy 2 is not seen; the waiter wakes at jiffy 10 with flag 2", async () => {
    const { text } = await page("lkmpg-staples", "lost-wakeup");
    expect(text("pre.dmesg")).toMatch(/wait returned 0 with flag=2 after 10 jiffies/);
  });

  it("mempool-reserve: fail-nth=8 is mempool_alloc's first, no-reclaim kmalloc; both allocations succeed and nothing is printed for the failure", async () => {
    const lesson = lessons.find((l) => l.meta.id === "lkmpg-staples")!;
    const cell = lesson.cells.find((c) => c.id === "mempool-reserve")!;
    const r = await runModule(cell.source, { profile: "x86_64-6.1", failNth: cellRunSettings(cell).failNth });
    expect(r.faultInjection!.injected).toHaveLength(1);
    const site = r.faultInjection!.sites.find((s) => s.call === 8)!;
    expect(site.flags).toBe("GFP_NOWAIT|__GFP_FS|__GFP_NOWARN|__GFP_NORETRY|__GFP_NOMEMALLOC");
    expect(r.reports).toEqual([]);
    const { text } = await page("lkmpg-staples", "mempool-reserve");
    const m = /a=([0-9a-f]+) b=([0-9a-f]+): the kmalloc under a failed/.exec(text("pre.dmesg"))!;
    expect(BigInt("0x" + m[1]) > 0n && BigInt("0x" + m[2]) > 0n && m[1] !== m[2]).toBe(true);
  });

  it("dma-pool-blocks: 63 blocks of 64 bytes in a page, the busy line through dev_err, the DMA-API warning at rmmod", async () => {
    const { text } = await page("lkmpg-staples", "dma-pool-blocks");
    const d = text("pre.dmesg");
    expect(d).toMatch(/block 62 is 3968 bytes after block 0; block 63 is on another page: 1/);
    expect(d).toMatch(/pci 0000:00:04\.0: dma_pool_destroy descs, [0-9a-f]{16} busy/);
    expect(d).toMatch(/DMA-API: pci 0000:00:04\.0: device driver has pending DMA allocations while released from device \[count=1\]/);
  });
});

describe("lesson 16 (kernel threads and per-CPU memory), as the page shows it", () => {
  it("kthread-loop: pid 109, five ticks 251 jiffies apart, kthread_stop returns 5; the thread's status and its 16 KiB stack", async () => {
    const { text } = await page("kthreads-percpu", "kthread-loop");
    const d = text("pre.dmesg");
    expect(d).toMatch(/started the thread, pid 109/);
    const js = [...d.matchAll(/tick \d at jiffies (\d+)/g)].map((m) => Number(m[1]));
    expect(js).toHaveLength(5);
    for (let i = 1; i < js.length; i++) expect(js[i]! - js[i - 1]!).toBe(251);
    expect(d).toMatch(/kthread_stop returned 5/);
    const lesson = lessons.find((l) => l.meta.id === "kthreads-percpu")!;
    const cell = lesson.cells.find((c) => c.id === "kthread-loop")!;
    const s = cellRunSettings(cell);
    const r = await runModule(cell.source, { profile: s.profile, config: s.config, proc: ["109/status", "meminfo", "vmallocinfo"] });
    expect(r.proc?.["109/status"]).toMatch(/^State:\tD \(disk sleep\)$/m);
    expect(r.proc?.["109/status"]).toMatch(/^PPid:\t2$/m);
    const ks = (m: string | undefined) => Number(/^KernelStack:\s+(\d+) kB$/m.exec(m ?? "")![1]);
    expect(ks(r.proc?.["meminfo"]) - ks(r.procAfterExit?.["meminfo"])).toBe(16);
    expect(r.proc?.["vmallocinfo"]).toMatch(/ 20480 kernel_clone\+0xbf\/0x430 pages=4 vmalloc/);
  });

  it("kthread-forgotten: after bye, the instruction-fetch page-fault Oops in the thread's context, RIP a bare address, no opcode bytes", async () => {
    const { text } = await page("kthreads-percpu", "kthread-forgotten");
    const d = text("pre.dmesg");
    expect(d.indexOf("bye (the thread is still running)")).toBeLessThan(d.indexOf("#PF: supervisor instruction fetch in kernel mode"));
    expect(d).toMatch(/#PF: error_code\(0x0010\) - not-present page/);
    expect(d).toMatch(/CPU: 0 PID: 109 Comm: orphan /);
    expect(d).toMatch(/RIP: 0010:0xffffffffc[0-9a-f]{7}\n/);
    expect(d).toMatch(/Code: Unable to access opcode bytes at 0x/);
    expect(d).toMatch(/\[last unloaded: cell\(O\)\]/);
  });

  it("percpu-pages: area 1 is 4096 bytes after area 0, CPU 0's copy holds 42; Percpu 260 kB at boot, 272 after init and still after rmmod", async () => {
    const { text } = await page("kthreads-percpu", "percpu-pages");
    expect(text("pre.dmesg")).toMatch(/cpu 0's copy of area 0 at [0-9a-f]{16} holds 42; area 1 is 4096 bytes further/);
    const lesson = lessons.find((l) => l.meta.id === "kthreads-percpu")!;
    const cell = lesson.cells.find((c) => c.id === "percpu-pages")!;
    const s = cellRunSettings(cell);
    const pc = (m: string | undefined) => Number(/^Percpu:\s+(\d+) kB$/m.exec(m ?? "")![1]);
    const boot = await runModule('import { MODULE_LICENSE } from "linux";\nMODULE_LICENSE("GPL");\n', { profile: s.profile, config: s.config, proc: ["meminfo"] });
    expect(pc(boot.proc?.["meminfo"])).toBe(260);
    const r = await runModule(cell.source, { profile: s.profile, config: s.config, proc: ["meminfo"] });
    expect(pc(r.proc?.["meminfo"])).toBe(272);
    expect(pc(r.procAfterExit?.["meminfo"])).toBe(272);
  });
});
