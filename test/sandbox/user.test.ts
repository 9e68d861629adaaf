// The cell's user program (issue 19, part 1): a process with its own mm beside the module — the era's and the
// architecture's address-space layout, glibc's malloc (brk below M_MMAP_THRESHOLD, mmap above), demand paging
// counted as minor faults, /proc/PID/maps and status byte for byte, meminfo's AnonPages and Committed_AS, and
// the kernel's segfault line.

import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import type { RunResult } from "../../sandbox/result.ts";

const HEAD = `import { module_init, module_exit, MODULE_LICENSE } from "linux";
import { user_main, malloc, calloc, free, mmap, munmap, sbrk, open, read, close, store8, load8, fill, load_string, puts, errno,
  PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FAILED } from "user";
MODULE_LICENSE("GPL");
function init(): number { return 0; }
function exit(): void {}
module_init(init);
module_exit(exit);
`;

async function user(body: string, profile = "x86_64-6.1", cpuMs?: number): Promise<RunResult & { user: NonNullable<RunResult["user"]> }> {
  const r = await runModule(`${HEAD}user_main(function main(): number {\n${body}\n});\n`, {
    profile,
    proc: ["meminfo"],
    ...(cpuMs ? { limits: { cpuMs } } : {}),
  });
  const bad = r.reports.filter((x) => x.kind !== "leak");
  expect(bad.map((x) => x.title)).toEqual([]);
  expect(r.user).toBeDefined();
  return r as RunResult & { user: NonNullable<RunResult["user"]> };
}

const PAGE = 4096;
const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text)![1]);

describe("a user program beside the module", () => {
  it("runs as a.out with the pid after insmod's, and rmmod gets the next one", async () => {
    const r = await user(`puts("pid " + getpidText()); return 3;\nfunction getpidText() { return "x"; }`);
    expect(r.user.comm).toBe("a.out");
    expect(r.user.pid).toBe(109);
    expect(r.user.exitCode).toBe(3);
    expect(r.user.status).toBe(3);
    expect(r.user.stdout).toBe("pid x\n");
    expect(r.module).toMatchObject({ loaded: true, unloaded: true });
  });

  it("a main that returns no exit status (an async main's promise, a string, 1.5) is a TypeError naming user_main, status 1 (it was exit status 0)", async () => {
    for (const [main, got] of [
      [`async function main() { puts("out"); return 0; }`, "an object"],
      [`function main() { return "0"; }`, "a string"],
      [`function main() { return 1.5; }`, "1.5, not an integer"],
    ]) {
      const r = await runModule(`${HEAD}user_main(${main} as any);\n`, {});
      expect(r.reports.map((x) => x.title)).toEqual(["BUG: kernel exception in main [cell]"]);
      expect(r.dmesg.some((l) => l.endsWith(`TypeError: user_main: main returned ${got}; main returns its exit status, an integer (0 for success)`))).toBe(
        true,
      );
      expect([r.user?.exitCode, r.user?.status]).toEqual([1, 1]);
    }
  });

  it("user-space functions called from module code are a clear error", async () => {
    const r = await runModule(`import { module_init } from "linux";\nimport { malloc } from "user";\nmodule_init(() => { malloc(10); return 0; });\n`, {});
    expect(r.reports.some((x) => /malloc: user-space functions run only inside the program given to user_main/.test(x.text))).toBe(true);
  });
});

describe("the address space: /proc/PID/maps byte for byte", () => {
  it("x86_64 6.1: a.out's four segments, a 132 KiB [heap], [vvar]/[vdso] under mmap_base, [stack] at 0x7ffffffff000, [vsyscall]", async () => {
    const r = await user(`malloc(100); return 0;`);
    const lines = r.user.maps.split("\n");
    expect(lines[0]).toBe("00400000-00401000 r--p 00000000 00:01 131                                /a.out");
    expect(lines).toContain("00404000-00425000 rw-p 00000000 00:00 0                                  [heap]");
    // mmap_base = TASK_SIZE - 128 MiB (the 8 MiB stack limit + 1 MiB guard gap is under the 128 MiB minimum)
    const top = 0x7ffffffff000n - (128n << 20n);
    const vdsoEnd = BigInt(
      "0x" +
        lines
          .find((l) => l.endsWith("[vdso]"))!
          .split("-")[1]!
          .split(" ")[0],
    );
    expect(vdsoEnd).toBe(top);
    expect(lines).toContain("7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]");
    expect(lines).toContain("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]");
    // Names start at column 25 + 6 * sizeof(void *) = 73 on 64-bit.
    for (const l of lines.filter((x) => /\[|\//.test(x))) expect(l.search(/[[/]/)).toBeGreaterThanOrEqual(73);
    for (const l of lines.filter((x) => x.length && !/\[|\//.test(x))) expect(l.endsWith(" ")).toBe(true);
  });

  it("i386 2.6: the 3G split, the classic bffeb000-c0000000 [stack], anonymous offsets are their start addresses, column 49", async () => {
    const r = await user(`malloc(100); return 0;`, "i386-2.6");
    const lines = r.user.maps.split("\n");
    expect(lines).toContain("bffeb000-c0000000 rw-p bffeb000 00:00 0          [stack]");
    expect(lines).toContain("0804a000-0806b000 rw-p 0804a000 00:00 0          [heap]");
    expect(lines).toContain("b7fff000-b8000000 r-xp 00000000 00:00 0          [vdso]");
    for (const l of lines.filter((x) => x.includes("["))) expect(l.indexOf("[")).toBe(49);
  });

  it("the maps a program reads from /proc/self/maps, in 100-byte chunks, are the same text", async () => {
    const r = await user(`
      const buf = malloc(100);
      let text = "";
      const fd = open("/proc/self/maps", 0);
      for (;;) { const n = read(fd, buf, 100); if (n <= 0) break; text += load_string(buf, n); }
      close(fd);
      puts(text);
      return 0;`);
    expect(r.user.stdout).toBe(r.user.maps + "\n");
  });
});

describe("glibc's malloc", () => {
  it("below M_MMAP_THRESHOLD from the heap (after tcache's 0x290 bytes), at 200 KiB its own mmap under mmap_base", async () => {
    const r = await user(`
      const a = malloc(100);
      const b = malloc(200 * 1024);
      puts(a.toString(16) + " " + b.toString(16));
      return 0;`);
    expect(r.user.stdout).toBe("4042a0 7ffff7fc6010\n");
    // 200 KiB + the 8-byte size field, rounded to pages: 0x33000, placed right under the vdso.
    expect(r.user.mallocCalls).toEqual([
      { call: "brk", addr: "0x404000", len: "0x21000" },
      { call: "mmap", addr: "0x7ffff7fc6000", len: "0x33000" },
    ]);
  });

  it("the first heap is ALIGN_UP(nb + top_pad + MINSIZE, page) whatever the first request", async () => {
    for (const n of [1, 5000, 100000]) {
      const r = await user(`malloc(${n}); return 0;`);
      const nb = Math.max(32, (0x280 + 8 + 15) & ~15);
      const first = Math.ceil((nb + 0x20000 + 32) / PAGE) * PAGE;
      expect(r.user.mallocCalls[0]).toEqual({ call: "brk", addr: "0x404000", len: "0x" + first.toString(16) });
      // the second request then fits in the top chunk, or grows the heap by what it lacks
      const nb2 = Math.max(32, (n + 8 + 15) & ~15);
      const top = first - nb;
      if (nb2 + 32 <= top) expect(r.user.mallocCalls).toHaveLength(1);
      else
        expect(r.user.mallocCalls[1]).toEqual({
          call: "brk",
          addr: "0x" + (0x404000 + first).toString(16),
          len: "0x" + (Math.ceil((nb2 + 0x20000 + 32 - top) / PAGE) * PAGE).toString(16),
        });
    }
  });

  it("freeing an mmapped chunk raises the threshold to its size: the same request then comes from the heap", async () => {
    const r = await user(`
      const a = malloc(200 * 1024);
      free(a);
      const b = malloc(200 * 1024);
      puts(a.toString(16) + " " + b.toString(16));
      return 0;`);
    const [a, b] = r.user.stdout
      .trim()
      .split(" ")
      .map((h) => BigInt("0x" + h));
    expect(a! > 0x7f0000000000n).toBe(true);
    expect(b! < 0x1000000n).toBe(true);
    expect(r.user.mallocCalls.map((c) => c.call)).toEqual(["brk", "mmap", "munmap", "brk"]);
  });

  it("a pointer malloc never returned aborts with glibc's message (status 134)", async () => {
    const r = await user(`const p = malloc(10); free(p + 16n); return 0;`);
    expect(r.user.stderr).toBe("free(): invalid pointer\n");
    expect(r.user.status).toBe(134);
  });
});

describe("demand paging", () => {
  it("an mmap has no pages until touched: one minor fault and one AnonPages page per page written", async () => {
    for (const pages of [1, 7, 33]) {
      const r = await user(`
        const p = mmap(0n, ${pages} * 4096 + 100, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (let i = 0; i < ${pages}; i++) store8(p + BigInt(i * 4096 + 5), 1);
        puts(p.toString(16));
        return 0;`);
      const p = BigInt("0x" + r.user.stdout.trim());
      const mmapFaults = r.user.faults.filter((f) => BigInt(f.addr) >= p && BigInt(f.addr) < p + BigInt((pages + 1) * PAGE));
      expect(mmapFaults).toHaveLength(pages);
      expect(mmapFaults.every((f) => f.kind === "anon" && f.write)).toBe(true);
      expect(r.user.minFlt).toBe(pages + r.user.faults.length - mmapFaults.length);
    }
  });

  it("a read maps the shared zero page (no memory) on 6.1 and 3.4; the first write then copies it: two faults", async () => {
    const r = await user(`
      const p = mmap(0n, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      load8(p); load8(p + 4096n);
      store8(p, 1);
      return 0;`);
    expect(r.user.faults.map((f) => f.kind)).toEqual(["zero", "zero", "cow"]);
    expect(r.user.pages.filter((pg) => pg.kind === "zero")).toHaveLength(1);
  });

  it("2.6.26 has no zero page for anonymous reads: a read takes a page", async () => {
    const r = await user(
      `
      const p = mmap(0n, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      load8(p); store8(p, 1);
      return 0;`,
      "i386-2.6",
    );
    expect(r.user.faults.map((f) => f.kind)).toEqual(["anon"]);
  });

  it("meminfo while the process runs: AnonPages counts the touched pages, Committed_AS the private writable mappings", async () => {
    const base = await user(`return 0;`);
    const r = await user(`
      const p = mmap(0n, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      fill(p, 1, 10 * 4096);
      return 0;`);
    expect(r.user.meminfo.anonPagesKb - base.user.meminfo.anonPagesKb).toBe(40);
    expect(r.user.meminfo.committedKb - base.user.meminfo.committedKb).toBe(1024);
    // after exit everything is given back: Committed_AS is the boot's own again (init/boot_tasks.ts: the initramfs's
    // tmpfs pages and the shell's mappings)
    expect(kb(r.procAfterExit.meminfo ?? r.proc.meminfo!, "Committed_AS")).toBe(kb(base.procAfterExit.meminfo ?? base.proc.meminfo!, "Committed_AS"));
    expect(kb(base.procAfterExit.meminfo ?? base.proc.meminfo!, "Committed_AS")).toBeGreaterThan(0);
  });

  it("status: VmRSS/RssAnon and VmData follow the touches and the mappings", async () => {
    const r = await user(`
      const p = mmap(0n, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      fill(p, 1, 16 * 4096);
      return 0;`);
    const s = r.user.status_file;
    expect(s).toMatch(/^Name:\ta\.out\n/);
    const rss = kb(s, "VmRSS");
    expect(kb(s, "RssAnon")).toBe(rss);
    // 16 pages written + the stack's argument page
    expect(rss).toBe(17 * 4);
    // a.out's data page + the 64-page mapping (no heap: malloc never ran)
    expect(kb(s, "VmData")).toBe(4 + 64 * 4);
    expect(kb(s, "VmStk")).toBe(132);
  });
});

describe("segmentation faults", () => {
  it("x86_64 6.1: the kernel's line with error 6 (user write, not present) and the process's status 139", async () => {
    const r = await user(`store8(0x1234n, 1); return 0;`);
    expect(r.user.status).toBe(139);
    const line = r.dmesg.find((l) => l.includes("segfault"))!;
    expect(line).toMatch(
      /^\[ *\d+\.\d{6}\] a\.out\[109\]: segfault at 1234 ip 0000000000401[0-9a-f]{3} sp 00007fffffffef00 error 6 in a\.out\[401000\+1000\] likely on CPU 0 \(core 0, socket 0\)$/,
    );
  });

  it("a write to a PROT_READ page already read is error 7 (protection); a read of unmapped memory is error 4", async () => {
    const w = await user(`const p = mmap(0n, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); load8(p); store8(p, 1); return 0;`);
    expect(w.user.signal).toMatchObject({ sig: "SIGSEGV", code: "SEGV_ACCERR" });
    expect(w.dmesg.some((l) => / error 7 in a\.out/.test(l))).toBe(true);
    const rd = await user(`load8(0x10n); return 0;`, "i386-2.6");
    expect(rd.dmesg.some((l) => /\] a\.out\[109\]: segfault at 10 ip 0804[89a-f][0-9a-f]{3} sp bfffff00 error 4 in a\.out\[8048000\+1000\]$/.test(l))).toBe(
      true,
    );
  });

  it("32-bit ARM prints nothing by default (user_debug=0); the process still dies of SIGSEGV", async () => {
    const r = await user(`store8(0x1234n, 1); return 0;`, "arm-6.1-virt");
    expect(r.user.status).toBe(139);
    expect(r.dmesg.some((l) => /segfault|unhandled/.test(l))).toBe(false);
  });

  it("munmap'd memory faults again", async () => {
    const r = await user(`
      const p = mmap(0n, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      store8(p, 1);
      munmap(p, 8192);
      // neither MAP_ANONYMOUS nor a file: the kernel looks the descriptor up first (ksys_mmap_pgoff): EBADF
      puts("ok " + (mmap(0n, 1, 0, 0, -1, 0) === MAP_FAILED) + " " + errno);
      store8(p, 2);
      return 0;`);
    expect(r.user.stdout).toBe("ok true 9\n");
    expect(r.user.signal).toMatchObject({ sig: "SIGSEGV", code: "SEGV_MAPERR" });
  });
});

describe("kmodlab run's text output", () => {
  it("prints the program's standard output, then how it ended as a shell would, with its minor faults", async () => {
    const { renderRun } = await import("../../src/cli/run.ts");
    const r = await user(`puts("hi from a.out"); store8(0n, 1); return 0;`);
    const { out } = renderRun("cell.ts", r, false);
    expect(out).toContain(`==> a.out (pid 109) <==\nhi from a.out\nSegmentation fault (status 139); ${r.user.minFlt} minor faults\n`);
  });
});

describe("a program that touches a lot", () => {
  it("24 MiB filled: 6144 minor faults counted, the RunResult keeps the first 4096 faults and pages with the totals", async () => {
    // ~1.5 s of a quiet machine's 2 s CPU limit (a wall-clock deadline): 20 s, so a loaded test machine counts the faults too
    const r = await user(
      `const p = mmap(0n, 24 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); fill(p, 1, 24 << 20); return 0;`,
      "x86_64-6.1",
      20_000,
    );
    expect(r.user.minFlt).toBe(6144);
    expect(r.user.faultsTotal).toBe(6144);
    expect(r.user.faults).toHaveLength(4096);
    expect(r.user.pagesTotal).toBe(6144 + 1); // and the stack's argument page
    expect(r.user.pages).toHaveLength(4096);
    expect(r.user.meminfo.anonPagesKb).toBeGreaterThanOrEqual(24 * 1024);
  });

  it("a program that never ends is stopped by the run's CPU limit, reported as a.out's", async () => {
    const r = await runModule(`${HEAD}user_main(function main(): number { for (;;) {} });\n`, { limits: { cpuMs: 300 } });
    expect(r.reports.map((x) => x.title)).toEqual(["watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [a.out:109]"]);
    expect(r.reports[0]!.limit).toBe("cpu");
  });
});
