// The page-table walk view's data (src/kernel/mm/ptdump.ts walkJson) against known addresses, per architecture,
// on real booted kernels; and the worker's KernelSession (kept kernels, the pre-booted spare).
import { beforeAll, describe, expect, it } from "vitest";
import { loadKernelDeps, runModule, type KernelDeps } from "../../sandbox/run.ts";
import { walkJson, type WalkJson } from "../../src/kernel/mm/ptdump.ts";
import { KernelSession, KEEP_KERNELS } from "../../src/notebook/session.ts";
import type { Kernel } from "../../src/kernel/kernel.ts";

let deps: KernelDeps;
beforeAll(async () => {
  deps = await loadKernelDeps();
});

const MiB = 1 << 20;

/** Every present step's entry is the bytes in the simulated frame at entryPhys, and its index is the address's bits. */
function checkAgainstMemory(k: Kernel, w: WalkJson) {
  const a = BigInt(w.addr);
  for (const s of w.steps) {
    const lo = k.physmem.read32(Number(s.entryPhys));
    expect(BigInt(s.entry) & 0xffffffffn).toBe(BigInt(lo));
    if (s.bits) {
      const [hi, low] = s.bits;
      expect(s.index).toBe(Number((a >> BigInt(low)) & ((1n << BigInt(hi - low + 1)) - 1n)));
    }
  }
}

interface Case {
  profile: string;
  levels: string[];
  /** The leaf level and size of a linear-map translation. */
  linearLeaf: [string, number];
  /** bits of the top level */
  topBits: [number, number];
  user: bigint;
  userStepsEmpty: boolean;
}

const CASES: Case[] = [
  {
    profile: "x86_64-6.1",
    levels: ["PGD", "P4D", "PUD", "PMD", "PTE"],
    linearLeaf: ["PMD", 2 * MiB],
    topBits: [47, 39],
    user: 0x400000n,
    userStepsEmpty: false,
  },
  { profile: "arm64-6.1", levels: ["PGD", "P4D", "PUD", "PMD", "PTE"], linearLeaf: ["PMD", 2 * MiB], topBits: [47, 39], user: 0x400000n, userStepsEmpty: true },
  { profile: "i386-2.6", levels: ["PGD", "PTE"], linearLeaf: ["PGD", 4 * MiB], topBits: [31, 22], user: 0x08048000n, userStepsEmpty: false },
  { profile: "arm-6.1-virt", levels: ["PGD", "PTE"], linearLeaf: ["PGD", 1 * MiB], topBits: [31, 20], user: 0x00010000n, userStepsEmpty: false },
];

describe("page-table walk data per architecture (the kernel's own tables)", () => {
  for (const c of CASES) {
    describe(c.profile, () => {
      let k: Kernel;
      let vm: bigint;
      beforeAll(() => {
        k = deps.boot(c.profile, {});
        vm = k.vmalloc.vmalloc(3 * 4096);
      });

      it("a direct-map (lowmem) address translates through a large leaf to PAGE_OFFSET's physical offset", () => {
        const off = 16 * MiB + 0x1234;
        const w = walkJson(k, k.layout.pageOffset + BigInt(off));
        expect(w.translated).toBe(true);
        expect(Number(BigInt(w.pa!))).toBe(k.layout.physOffset + off);
        expect(w.pfn).toBe(Math.floor((k.layout.physOffset + off) / 4096));
        const leaf = w.steps.find((s) => s.leaf && !s.folded)!;
        expect([leaf.level, w.pageSize, leaf.mapsBytes]).toEqual([c.linearLeaf[0], c.linearLeaf[1], c.linearLeaf[1]]);
        expect(w.region?.kind).toBe("linear");
        expect(w.steps[0].bits).toEqual(c.topBits);
        expect(w.note).toMatch(/translates to physical/);
        checkAgainstMemory(k, w);
      });

      it("a vmalloc page translates through every level down to the PTE, to the frame vmalloc put there", () => {
        const w = walkJson(k, vm + 4096n + 0x10n);
        const area = k.vmalloc.areas().find((a) => a.start === vm)!;
        expect(w.steps.map((s) => s.level)).toEqual(c.levels);
        expect(w.steps.at(-1)!.leaf).toBe(true);
        expect(w.pageSize).toBe(4096);
        expect(w.pfn).toBe(area.pages[1]);
        expect(BigInt(w.pa!)).toBe(BigInt(area.pages[1]!) * 4096n + 0x10n);
        expect(w.area?.guard).toBe(false);
        expect(w.frame?.owner).toBe("Vmalloc");
        expect(w.region?.kind).toBe("vmalloc");
        checkAgainstMemory(k, w);
      });

      it("the page after a 3-page vmalloc buffer is its guard page: the walk stops at an empty PTE", () => {
        const w = walkJson(k, vm + 3n * 4096n);
        expect(w.translated).toBe(false);
        expect(w.stoppedAt).toBe("PTE");
        expect(w.steps.at(-1)!.present).toBe(false);
        expect(w.area?.guard).toBe(true);
        expect(w.note).toMatch(/guard page/);
        checkAgainstMemory(k, w);
      });

      it("a user-space address is not in the kernel's table", () => {
        const w = walkJson(k, c.user);
        expect(w.translated).toBe(false);
        if (c.userStepsEmpty) expect(w.steps).toEqual([]);
        else {
          expect(w.stoppedAt).toBe("PGD");
          expect(w.steps[0].present).toBe(false);
          expect(w.note).toMatch(/user-space address/);
        }
      });
    });
  }

  it("x86_64: a non-canonical address stops before any table; entry flags are the _PAGE_ bits", () => {
    const k = deps.boot("x86_64-6.1", {});
    const w = walkJson(k, 0x0000900000000000n);
    expect(w.steps).toEqual([]);
    expect(w.note).toMatch(/not canonical/);
    const lin = walkJson(k, k.layout.pageOffset + 64n * BigInt(MiB));
    const pmd = lin.steps.find((s) => s.level === "PMD")!;
    expect(pmd.flags).toEqual(expect.arrayContaining(["_PAGE_PRESENT", "_PAGE_RW", "_PAGE_PSE", "_PAGE_GLOBAL", "_PAGE_NX"]));
    expect(lin.steps.find((s) => s.level === "P4D")!.folded).toBe(true);
    expect(lin.steps.find((s) => s.level === "P4D")!.bits).toBeNull();
  });

  it("arm64 block and arm section flags are named from the descriptor bits", () => {
    const a64 = walkJson(deps.boot("arm64-6.1", {}), 0xffff000000000000n + 32n * BigInt(MiB));
    expect(a64.steps.find((s) => s.leaf)!.flags).toEqual(expect.arrayContaining(["PTE_VALID", "BLOCK", "PTE_AF", "PTE_PXN", "PTE_UXN"]));
    const karm = deps.boot("arm-6.1-virt", {});
    const arm = walkJson(karm, karm.layout.pageOffset + 8n * BigInt(MiB));
    expect(arm.steps[0].flags).toContain("PMD_TYPE_SECT");
    expect(arm.steps[0].linuxEntry).toMatch(/^0x[0-9a-f]{8}$/);
  });
});

describe("KernelSession (the run worker's kernels)", () => {
  const cell =
    'import { vmalloc, kmalloc, GFP_KERNEL, printk, KERN_INFO, module_init } from "linux";\n' +
    'let v = 0n;\nfunction init(): number { v = vmalloc(8192); printk(KERN_INFO + "v=%px k=%px\\n", v, kmalloc(64, GFP_KERNEL)); return 0; }\nmodule_init(init);\n';

  it("a run on the pre-booted kernel gives the same result as a run that boots, and the spare is used once", async () => {
    const s = new KernelSession(deps);
    s.preboot("x86_64-6.1", {});
    expect(s.hasSpare("x86_64-6.1", {})).toBe(true);
    const a = await runModule(cell, { profile: "x86_64-6.1", proc: ["vmallocinfo"] }, s.deps());
    s.keep(1);
    expect(s.preboots.used).toBe(1);
    expect(s.hasSpare("x86_64-6.1", {})).toBe(false);
    const b = await runModule(cell, { profile: "x86_64-6.1", proc: ["vmallocinfo"] });
    expect(a.dmesg).toEqual(b.dmesg);
    expect(a.proc).toEqual(b.proc);
    expect(a.kernel.frames).toEqual(b.kernel.frames);
  });

  it("a spare booted for other options is not used", async () => {
    const s = new KernelSession(deps);
    s.preboot("x86_64-6.1", { mem: 256 * MiB });
    await runModule(cell, { profile: "x86_64-6.1" }, s.deps());
    expect(s.preboots.used).toBe(0);
  });

  it("walks an address in a kept run's kernel; forgets the oldest run past KEEP_KERNELS", async () => {
    const s = new KernelSession(deps);
    const r = await runModule(cell, { profile: "x86_64-6.1" }, s.deps());
    s.keep(7);
    const v = BigInt("0x" + /v=([0-9a-f]+)/.exec(r.dmesg.join("\n"))![1]);
    const w = s.walk(7, v);
    expect(w.translated).toBe(true);
    expect(w.steps.at(-1)!.level).toBe("PTE");
    expect(s.walk(7, v + 8192n).area?.guard).toBe(true);
    expect(() => s.walk(8, v)).toThrow(/no longer kept/);
    for (let i = 0; i < KEEP_KERNELS; i++) {
      await runModule(cell, { profile: "i386-2.6" }, s.deps());
      s.keep(100 + i);
    }
    expect(s.has(7)).toBe(false);
    expect(s.has(100)).toBe(true);
  });

  it("lists the frames behind each of the cell's buffers, vmalloc pages as they were before module_exit freed them", async () => {
    const s = new KernelSession(deps);
    const memdemo =
      'import { __get_free_page, free_page, kmalloc, kfree, vmalloc, vfree, GFP_KERNEL, module_init, module_exit } from "linux";\n' +
      "let p = 0n, k = 0n, v = 0n;\n" +
      "function init(): number { p = __get_free_page(GFP_KERNEL); k = kmalloc(100, GFP_KERNEL); v = vmalloc(1000000); return 0; }\n" +
      "function exit(): void { free_page(p); kfree(k); vfree(v); }\nmodule_init(init);\nmodule_exit(exit);\n";
    const r = await runModule(memdemo, { profile: "x86_64-6.1" }, s.deps());
    const bufs = s.keep(3, r.kernel.calls);
    expect(bufs.map((b) => [b.fn, b.kind, b.frames])).toEqual([
      ["__get_free_page", "pages", 1],
      ["kmalloc", "kmalloc", 1],
      ["vmalloc", "vmalloc", 245],
    ]);
    // the page's frame is the direct-map subtraction
    const page = bufs[0];
    expect(page.pfnRuns[0][0]).toBe(Number((BigInt(page.addr) - 0xffff888000000000n) >> 12n));
    // after vfree the buffer's PTEs are cleared (the area may stay as a lazy one): the walk "while loaded" reads the
    // tables as they were before module_exit
    const v = BigInt(bufs[2].addr);
    const loaded = s.walk(3, v + 4096n);
    // the buffer's second page, in the buffer's order (vmalloc's pages come off the per-CPU list, in descending runs)
    const pfns = bufs[2].pfnRuns.flatMap(([first, n]) => Array.from({ length: n }, (_, i) => first + i));
    expect([loaded.when, loaded.translated, loaded.pfn, loaded.steps.at(-1)!.level]).toEqual(["loaded", true, pfns[1], "PTE"]);
    expect(s.walk(3, v + 245n * 4096n).area?.guard).toBe(true);
    const end = s.walk(3, v + 4096n, "end");
    expect([end.when, end.translated, end.stoppedAt]).toEqual(["end", false, "PTE"]);
    expect(bufs[2].pfnRuns.reduce((n, [, c]) => n + c, 0)).toBe(245);
  });
});
