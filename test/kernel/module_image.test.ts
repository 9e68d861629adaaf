// insmod loads a module image (kernel/module.ts loadImage): the .ko copy, the core and init layouts from
// module_alloc() in the architecture's modules area, with the era's vmallocinfo caller, VmallocUsed accounting and
// kallsyms pointing the module's functions into the core. Compared with the real Debian 6.1 boots in
// test/fixtures/real-kernel (their "diff vmallocinfo before/after insmod" sections).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import { runModule } from "../../sandbox/run.ts";
import { realSection } from "./real-kernel.ts";

const MiB = 2 ** 20;
const real = (name: string) => readFileSync(new URL(`../fixtures/real-kernel/${name}`, import.meta.url), "utf8");
/** The load_module line the real insmod added to /proc/vmallocinfo. */
const realLoadLine = (log: string) => /^\+(0x[0-9a-f]+)-(0x[0-9a-f]+)\s+\d+ (load_module\+0x[0-9a-f]+\/0x[0-9a-f]+) pages=\d+ vmalloc/m.exec(log)!;
const areaLines = (vmallocinfo: string) =>
  vmallocinfo
    .split("\n")
    .filter((l) => l)
    .map((l) => {
      const m = /^(0x[0-9a-f]+)-(0x[0-9a-f]+)\s+(\d+) (\S+)/.exec(l)!;
      return { start: BigInt(m[1]), end: BigInt(m[2]), size: Number(m[3]), caller: m[4], line: l };
    });
const vmallocUsed = (meminfo: string) => Number(/VmallocUsed:\s+(\d+) kB/.exec(meminfo)![1]);

const CELL = `import { vmalloc, vfree, printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let v = 0n;
module_init(() => {
  v = vmalloc(1000000);
  printk(KERN_INFO + "v=%px\\n", v);
  return 0;
});
module_exit(() => vfree(v));
`;
/**
 * The cell as long as the real module's source (memdemo.c), so that its .ko copy and core are the real insmod's size
 * (kernel/module.ts: per source byte): its vmalloc(1000000) then lands where memdemo's did, above the copy's lazily
 * freed range (x86_64: the copy in the 711-page range below n_tty_open).
 */
const MEMDEMO_BYTES = readFileSync(new URL("../fixtures/real-kernel/memdemo.c", import.meta.url)).length;
const SIZED = CELL + "//" + "x".repeat(MEMDEMO_BYTES - CELL.length - 3) + "\n";
/** memdemo's "vmalloc(1000000): %px=..." of a real log. */
const realVmalloc = (log: string) => /vmalloc\(1000000\):\s+%px=([0-9a-f]+)/.exec(log)![1];

describe("insmod's module image in the modules area", () => {
  const cases = [
    { profile: "x86_64-6.1", mem: 512 * MiB, log: "x86_64-512M-nokaslr.log", cmdline: "console=ttyS0 loglevel=8 nokaslr" },
    { profile: "i386-6.1", mem: 1024 * MiB, log: "i386-1G.log", cmdline: undefined },
    { profile: "arm-6.1-virt", mem: 1024 * MiB, log: "armhf-virt-1G.log", cmdline: undefined },
  ] as const;
  for (const c of cases) {
    it(`${c.profile}: one load_module area with the real caller text, where the real one is, counted in VmallocUsed and gone after rmmod`, async () => {
      expect(SIZED.length).toBe(MEMDEMO_BYTES);
      const r = await runModule(SIZED, { profile: c.profile, mem: c.mem, cmdline: c.cmdline, config: "distro", proc: ["vmallocinfo", "meminfo"] });
      expect(r.reports).toEqual([]);
      // the module's vmalloc(1000000) where memdemo's was (was 0x56000 low on x86_64 and 0x3000 high on armhf before
      // the per-architecture .ko size and x86's 711-page range)
      const v = r.dmesg.map((l) => (typeof l === "string" ? l : (l as { text: string }).text)).find((l) => l.includes("v="))!;
      expect(/v=([0-9a-f]+)/.exec(v)![1]).toBe(realVmalloc(real(c.log)));
      const k = boot(c.profile, { mem: c.mem, cmdline: c.cmdline, config: "distro" });
      const before = areaLines(k.proc("vmallocinfo"));
      const loaded = areaLines(r.proc.vmallocinfo!);
      const after = areaLines(r.procAfterExit.vmallocinfo!);
      const mine = loaded.filter((a) => a.caller.startsWith("load_module+"));
      expect(mine).toHaveLength(1);
      const want = realLoadLine(real(c.log));
      expect(mine[0].caller).toBe(want[3]);
      // where the real module went: x86_64 right after bpf_prog_pack, ARM at MODULES_VADDR, i386 in the vmalloc area
      // above the boot's ACPI/HPET ioremaps (the lowest hole the .ko copy leaves)
      const L = k.layout;
      if (c.profile === "x86_64-6.1") {
        const pack = before.find((a) => a.caller.startsWith("bpf_prog_pack_alloc"))!;
        expect(mine[0].start).toBe(pack.end);
        expect(mine[0].start).toBe(BigInt(want[1]));
      } else if (c.profile === "arm-6.1-virt") {
        expect(mine[0].start).toBe(L.modulesVaddr);
        expect(mine[0].start).toBe(BigInt(want[1]));
      } else {
        expect(mine[0].start >= L.vmallocStart && mine[0].end <= L.vmallocEnd).toBe(true);
        for (const a of before.filter((b) => /ioremap/.test(b.line))) expect(mine[0].start >= a.end || mine[0].end <= a.start, a.line).toBe(true);
      }
      // nothing the boot had moved, nothing lazily freed is left once init's layout is gone (vm_reset_perms purges)
      for (const a of before.filter((b) => b.caller !== "unpurged")) expect(loaded.map((b) => b.line)).toContain(a.line);
      // (the real armhf insmod purged its boot's four unpurged ranges: the diff of its vmallocinfo removes them)
      expect(loaded.some((a) => a.caller === "unpurged")).toBe(false);
      // VmallocUsed: the boot's, plus the core's pages and the cell's 245 (the real insmod added 7 + 245 on x86_64)
      const used0 = vmallocUsed(k.proc("meminfo"));
      expect(vmallocUsed(r.proc.meminfo!) - used0).toBe(((mine[0].size - 4096) / 4096 + 245) * 4);
      expect(after.some((a) => a.caller.startsWith("load_module+"))).toBe(false);
      expect(vmallocUsed(r.procAfterExit.meminfo!)).toBe(used0);
      // kernel_read_file() of the .ko activates its tmpfs pages, left referenced on the inactive list by the unpack's
      // write: the LRU's active part grows by the file's pages (the .ko copy's, as large as the real memdemo.ko), the
      // inactive part shrinks as much. The real insmods moved a few more, the pages the applets run between the two
      // reads (insmod, lsmod, diff, head) touched for the first time (x86_64 91, i386 69, armhf 63 pages).
      const lru = (mi: string) => [Number(/^Active:\s+(\d+)/m.exec(mi)![1]) / 4, Number(/^Inactive:\s+(\d+)/m.exec(mi)![1]) / 4];
      const [a0, i0] = lru(k.proc("meminfo"));
      const [a1, i1] = lru(r.proc.meminfo!);
      const [ra0] = lru(realSection(c.log, "/proc/meminfo").join("\n"));
      const [ra1] = lru(realSection(c.log, "/proc/meminfo (after insmod)").join("\n"));
      const copyPages = Math.ceil((MEMDEMO_BYTES * { "x86_64-6.1": 22.9, "i386-6.1": 14, "arm-6.1-virt": 13.3 }[c.profile]) / 4096);
      expect([a1 - a0, i0 - i1]).toEqual([copyPages, copyPages]);
      expect(ra1 - ra0 - (a1 - a0)).toBeGreaterThanOrEqual(0);
      expect(ra1 - ra0 - (a1 - a0)).toBeLessThanOrEqual(14);
    });
  }

  it("module functions and statics live inside the core layout (kallsyms), not in bpf_prog_pack's area", () => {
    const k = boot("x86_64-6.1", { cmdline: "nokaslr" });
    k.modules.loadImage(CELL.length);
    const core = k.modules.image!.core;
    const vm = k.vmalloc.find_vm_area(core)!;
    expect(vm.caller).toBe("load_module+0xbb7/0x21a0");
    const fn = k.kallsyms.addModuleSymbol("mem_module_init", "cell", 0x140);
    expect(fn >= core && fn < core + BigInt(vm.size)).toBe(true);
    expect(k.kallsyms.symbolize(fn + 0x10n)).toBe("mem_module_init+0x10/0x140 [cell]");
    const stat = k.modules.allocStatic(40);
    expect(stat >= core && stat < core + BigInt(vm.size)).toBe(true);
    const pack = k.vmalloc.areas().find((a) => a.caller.startsWith("bpf_prog_pack_alloc"))!;
    expect(fn >= pack.end || fn < pack.start).toBe(true);
  });

  it("x86_64 KASLR: with a seed the modules sit at MODULES_VADDR + (1..1024) pages, the same for a seed, another for another seed; nokaslr keeps 0", () => {
    const base = (seed: number | undefined, cmdline?: string) => {
      const k = boot("x86_64-6.1", { seed, cmdline });
      return k.vmalloc.areas().find((a) => a.caller.startsWith("bpf_prog_pack_alloc"))!.start - k.layout.modulesVaddr;
    };
    // the profile's default command line is the reference boot's, with nokaslr: KASLR needs one without it
    const offs = [1, 2, 3, 4].map((s) => base(s, "console=ttyS0"));
    for (const o of offs) {
      expect(o % 4096n).toBe(0n);
      expect(o >= 4096n && o <= 1024n * 4096n).toBe(true);
    }
    expect(new Set(offs.map(String)).size).toBeGreaterThan(1);
    expect(base(1, "console=ttyS0")).toBe(offs[0]);
    expect(base(1, "console=ttyS0 nokaslr")).toBe(0n);
    expect(base(undefined, "console=ttyS0")).toBe(0n);
  });
});
