// The side-by-side view of the process's and the kernel's address spaces (src/notebook/views/both.ts): which frames
// it links, the addresses each side uses for them, and that it stays small for a process and buffers of any size.
import { beforeAll, describe, expect, it } from "vitest";
import { JSDOM } from "jsdom";
import type { RunResult } from "../../sandbox/result.ts";
import type { UserOutcome } from "../../sandbox/user.ts";
import type { CellBuffer } from "../../src/notebook/protocol.ts";
import { buildBothModel, LINK_ROWS, parseMaps, VMA_ROWS } from "../../src/notebook/views/both.ts";

let renderBoth: typeof import("../../src/notebook/views/both.ts").renderBoth;
let win: JSDOM["window"];

beforeAll(async () => {
  win = new JSDOM("").window;
  Object.assign(globalThis, { document: win.document, Node: win.Node });
  ({ renderBoth } = await import("../../src/notebook/views/both.ts"));
});

const layout = {
  regions: [
    { name: "user", kind: "user", start: "0x0", end: "0x800000000000" },
    { name: "direct map", kind: "linear", start: "0xffff888000000000", end: "0xffffc88000000000" },
    { name: "vmalloc", kind: "vmalloc", start: "0xffffc90000000000", end: "0xffffe90000000000" },
  ],
};

const mapsLine = (start: bigint, end: bigint, perms: string, name: string) =>
  `${start.toString(16).padStart(8, "0")}-${end.toString(16).padStart(8, "0")} ${perms} 00000000 00:00 0`.padEnd(73) + name;

function run(user: Partial<UserOutcome>, cellMemory: CellBuffer[]): Pick<RunResult, "kernel"> & { user: UserOutcome } {
  return {
    kernel: { layout, cellMemory } as never,
    user: {
      pid: 110,
      comm: "a.out",
      status: 0,
      stdout: "",
      stderr: "",
      maps: "",
      status_file: "",
      minFlt: 0,
      faults: [],
      faultsTotal: 0,
      pages: [],
      pagesTotal: 0,
      mallocCalls: [],
      allocations: [],
      meminfo: { anonPagesKb: 0, committedKb: 0 },
      ...user,
    },
  };
}

describe("both address spaces", () => {
  it("parses /proc/PID/maps lines, anonymous ones with an empty name", () => {
    const v = parseMaps(
      "00400000-00401000 r--p 00000000 00:01 131                                /a.out\n7ffff7ff8000-7ffff7ff9000 rw-s 00000000 00:05 1127                       /dev/share\n7ffff7fe0000-7ffff7ff0000 rw-p 00000000 00:00 0 \n",
    );
    expect(v.map((x) => [x.start, x.end, x.perms, x.name])).toEqual([
      [0x400000n, 0x401000n, "r--p", "/a.out"],
      [0x7ffff7ff8000n, 0x7ffff7ff9000n, "rw-s", "/dev/share"],
      [0x7ffff7fe0000n, 0x7ffff7ff0000n, "rw-p", ""],
    ]);
  });

  it("links a frame both map: the user page's address, the buffer's page at its index, the direct-map alias of a vmalloc page", () => {
    const r = run(
      {
        maps: [mapsLine(0x7f0000000000n, 0x7f0000004000n, "rw-s", "/dev/ring"), mapsLine(0x7ffffffde000n, 0x7ffffffff000n, "rw-p", "[stack]")].join("\n"),
        // the device maps the buffer's pages 2 and 3 (pgoff 2) at the VMA's first two pages; the stack page is the process's own
        pages: [
          { addr: "0x7f0000000000", pfn: 900, kind: "pfnmap" },
          { addr: "0x7f0000001000", pfn: 455, kind: "pfnmap" },
          { addr: "0x7fffffffe000", pfn: 77, kind: "anon" },
        ],
        pagesTotal: 3,
      },
      [
        { fn: "kmalloc", addr: "0xffff888000100000", size: 8192, kind: "kmalloc", pfnRuns: [[256, 2]], frames: 2 },
        {
          fn: "vmalloc_user",
          addr: "0xffffc90000010000",
          size: 16384,
          kind: "vmalloc",
          pfnRuns: [
            [123, 1],
            [700, 1],
            [900, 1],
            [455, 1],
          ],
          frames: 4,
        },
      ],
    );
    const m = buildBothModel(r)!;
    expect(m.vmas.map((v) => [v.name, v.present])).toEqual([
      ["/dev/ring", 2],
      ["[stack]", 1],
    ]);
    expect(m.sharedFrames).toBe(2);
    expect(m.links).toHaveLength(1); // one VMA, one buffer: one link of two frames
    const l = m.links[0];
    expect([l.vma, l.buffer, l.frames, l.pfn, l.userAddr, l.kernelAddr, l.directMap]).toEqual([
      0,
      1,
      2,
      900,
      0x7f0000000000n,
      0xffffc90000010000n + 2n * 4096n,
      0xffff888000000000n + 900n * 4096n,
    ]);
    expect(m.buffers.map((b) => b.region)).toEqual(["direct map", "vmalloc"]);
    const el = renderBoth(m);
    expect(el.querySelector(".both-summary")!.textContent).toBe("2 physical frames mapped by both the process and the kernel, in 1 link.");
    const linkText = [...el.querySelector(".both-link")!.children].map((c) => c.textContent);
    expect(linkText).toEqual([
      "⇄1 pfn 900 (0x384) and 1 more frame",
      "user 0x00007f0000000000",
      "kernel 0xffffc90000012000",
      "and 0xffff888000384000 (direct map)",
      "/dev/ring ⇄ vmalloc_user",
    ]);
    // the kmalloc buffer shares nothing; both columns list the highest addresses first
    expect([...el.querySelectorAll(".both-buf")].map((b) => b.querySelector(".both-pages")!.textContent)).toEqual([
      "4 frames, mapped page by page",
      "2 frames, physically contiguous: not mapped by the process",
    ]);
    expect([...el.querySelectorAll(".both-vma .both-name")].map((n) => n.firstChild!.textContent)).toEqual(["[stack]", "/dev/ring"]);
  });

  it("pointing at a link highlights its VMA, its row and its buffer, and nothing else", () => {
    const r = run(
      {
        maps: [mapsLine(0x10000n, 0x11000n, "rw-s", "/dev/a"), mapsLine(0x20000n, 0x21000n, "rw-s", "/dev/b")].join("\n"),
        pages: [
          { addr: "0x10000", pfn: 5, kind: "pfnmap" },
          { addr: "0x20000", pfn: 9, kind: "pfnmap" },
        ],
        pagesTotal: 2,
      },
      [
        { fn: "kzalloc", addr: "0xffff888000005000", size: 4096, kind: "kmalloc", pfnRuns: [[5, 1]], frames: 1 },
        { fn: "__get_free_page", addr: "0xffff888000009000", size: 4096, kind: "pages", pfnRuns: [[9, 1]], frames: 1 },
      ],
    );
    const el = renderBoth(buildBothModel(r)!);
    win.document.body.append(el);
    const row = [...el.querySelectorAll<HTMLElement>(".both-link")].find((x) => x.textContent!.includes("/dev/b"))!;
    row.dispatchEvent(new win.Event("pointerover", { bubbles: true }));
    const lit = [...el.querySelectorAll(".both-hl")];
    expect(lit.map((x) => /both-(vma|chip|link|buf)\b/.exec(x.className)![1])).toEqual(["vma", "chip", "link", "buf", "chip"]);
    expect(lit.every((x) => x.textContent!.includes("2") || x.textContent!.includes("/dev/b") || x.textContent!.includes("__get_free_page"))).toBe(true);
    el.dispatchEvent(new win.Event("pointerleave"));
    expect(el.querySelectorAll(".both-hl")).toHaveLength(0);
  });

  it("stays small: 20,000 VMAs, 4,096 kept pages of a 1 GiB program and a scattered 262,144-frame buffer render in a bounded number of elements", () => {
    const vmas: string[] = [];
    for (let i = 0; i < 20000; i++) vmas.push(mapsLine(0x10000000n + BigInt(i) * 0x2000n, 0x10000000n + BigInt(i) * 0x2000n + 0x1000n, "rw-s", "/dev/big"));
    // the first 4,096 pages: one per VMA, each the buffer's frame number 2i (frames scattered in reverse order)
    const pages = Array.from({ length: 4096 }, (_, i) => ({ addr: "0x" + (0x10000000 + i * 0x2000).toString(16), pfn: 1_000_000 - 2 * i, kind: "pfnmap" }));
    const runs: [number, number][] = Array.from({ length: 262144 }, (_, i) => [1_000_000 - i, 1]);
    const m = buildBothModel(
      run({ maps: vmas.join("\n"), pages, pagesTotal: 262144 }, [
        { fn: "vmalloc_user", addr: "0xffffc90000000000", size: 2 ** 30, kind: "vmalloc", pfnRuns: runs, frames: 262144 },
      ]),
    )!;
    expect(m.sharedFrames).toBe(4096);
    expect(m.links).toHaveLength(4096); // one per VMA
    expect(m.links[1]).toMatchObject({ pfn: 1_000_000 - 2, kernelAddr: 0xffffc90000000000n + 2n * 4096n });
    const el = renderBoth(m);
    expect(el.querySelectorAll(".both-link")).toHaveLength(LINK_ROWS);
    // the listed links' VMAs, then the highest others, up to VMA_ROWS; the rest are counted
    expect(el.querySelectorAll(".both-vma")).toHaveLength(VMA_ROWS);
    expect(el.textContent).toContain(`… and ${(20000 - VMA_ROWS).toLocaleString("en-US")} more VMAs (all of them in /proc/110/maps above)`);
    expect(el.querySelectorAll("*").length).toBeLessThan(600);
    expect(el.textContent).toContain(`… and ${(4096 - LINK_ROWS).toLocaleString("en-US")} more links`);
    expect(el.textContent).toContain("Of the 262,144 present pages, the first 4,096 are counted.");
  });

  it("is absent without a user program", () => {
    expect(buildBothModel({ kernel: { layout } as never })).toBeNull();
  });
});
