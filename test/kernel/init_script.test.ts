// The early user space of the 6.1 boots as processes (src/kernel/init/init_script.ts, init/boot_tasks.ts
// run_init_script()), against the real initramfs script and transcripts in test/fixtures/real-kernel:
// - which processes /init forks: one per external command (cat included), which the real PIDs confirm;
// - what the churn does to the allocator: each command's fork, exec and exit take and give back the same pages
//   through the per-CPU lists (LIFO), so the figures the real logs show do not move with it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { boot } from "../../src/kernel/kernel.ts";
import { INIT_SCRIPT_BEFORE_INSMOD } from "../../src/kernel/init/init_script.ts";
import { bootProcessTablePfns } from "../../src/kernel/init/boot_tasks.ts";
import { PageAllocator } from "../../src/kernel/mm/page_alloc.ts";
import { PageOwner } from "../../src/kernel/mm/page_flags.ts";
import { realLog, realSection } from "./real-kernel.ts";

const MiB = 2 ** 20;
const script = readFileSync(new URL("../fixtures/real-kernel/init", import.meta.url), "utf8");

/** The shell's own commands (ash builtins and the script's function): they fork nothing. */
const BUILTINS = new Set(["echo", "mark", "export", "[", "if", "then", "fi", "for", "do", "done", "}", "mark()"]);

/**
 * The processes a stretch of the script forks, in order: every simple command whose first word is not a builtin or
 * an assignment, every $(...) substitution (one process: its subshell execs the command), and a `for ... in` loop's
 * body once per item. Enough of sh for this script (no nested quotes with ; or | in them outside substitutions).
 */
function forks(lines: string[]): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line || line.startsWith("mark()")) continue;
    const loop = /^for \w+ in ([^;]*); do (.*); done$/.exec(line);
    const times = loop ? loop[1]!.trim().split(/\s+/).length : 1;
    const body = loop ? loop[2]! : line;
    for (let t = 0; t < times; t++) {
      for (const m of body.matchAll(/\$\(([^)]*)\)/g)) out.push(m[1]!.trim().split(/\s+/)[0]!);
      const plain = body
        .replace(/\$\([^)]*\)/g, "X")
        .replace(/'[^']*'/g, "Q")
        .replace(/"[^"]*"/g, "Q");
      for (const cmd of plain.split(/;|\|\||&&|\|/)) {
        const word = cmd.trim().split(/\s+/)[0] ?? "";
        if (!word || BUILTINS.has(word) || /^\w+=/.test(word)) continue;
        out.push(word === "/bin/busybox" ? "busybox" : word);
      }
    }
  }
  return out;
}

const lines = script.split("\n");
const insmods = lines.map((l, i) => (/^insmod /.test(l) ? i : -1)).filter((i) => i >= 0);

describe("/init's processes (the real initramfs script)", () => {
  it("between the two insmods the script forks 16 processes, cat included: the real insmod PIDs differ by 17 (x86_64 108 -> 125, i386 alike, the custom build 54 -> 71)", () => {
    const between = forks(lines.slice(insmods[0]! + 1, insmods[1]!));
    expect(between).toHaveLength(16);
    expect(between.filter((c) => c === "cat").length).toBeGreaterThan(0);
    for (const log of ["x86_64-512M-nokaslr.log", "i386-1G.log", "x86_64-custom-debugatomic-512M-nokaslr.log"]) {
      const text = realLog(log).join("\n");
      const first = Number(/WARNING: CPU: 0 PID: (\d+) at/.exec(text)![1]);
      const second = Number(/scheduling while atomic: insmod\/(\d+)\//.exec(text)![1]);
      expect(second - first, log).toBe(between.length + 1);
    }
  });

  it("the simulator's list is what the script forks before the first insmod, in order", () => {
    expect(INIT_SCRIPT_BEFORE_INSMOD.map((c) => c.comm)).toEqual(forks(lines.slice(0, insmods[0]!)));
    // the one pipeline: dmesg | grep
    expect(INIT_SCRIPT_BEFORE_INSMOD.filter((c) => c.pipeNext).map((c) => c.comm)).toEqual(["dmesg"]);
  });
});

describe("the script's churn through the allocator (6.1 distro)", () => {
  /** Page-table pages and PGDs taken and freed during a boot, counted by the allocator's own calls. */
  /** Page-table pages (NR_PAGETABLE's) taken and freed during a boot, counted by the allocator's own calls. */
  function churn(profile: string, mib: number, userspace: boolean) {
    let taken = 0;
    let freed = 0;
    const alloc = PageAllocator.prototype.alloc_pages;
    const free = PageAllocator.prototype.__free_pages;
    PageAllocator.prototype.alloc_pages = function (this: PageAllocator, g: number, o: number, owner?: number, c?: string) {
      const pfn = alloc.call(this, g, o, owner, c);
      if (pfn >= 0 && owner === PageOwner.PageTable) taken++;
      return pfn;
    };
    PageAllocator.prototype.__free_pages = function (this: PageAllocator, pfn: number, o: number) {
      if (this.ownerOf(pfn) === PageOwner.PageTable) freed++;
      return free.call(this, pfn, o);
    };
    try {
      const k = boot(profile, { mem: mib * MiB, config: "distro", userspace });
      return { k, taken, freed, live: bootProcessTablePfns(k).length };
    } finally {
      PageAllocator.prototype.alloc_pages = alloc;
      PageAllocator.prototype.__free_pages = free;
    }
  }

  for (const [profile, mib, perProc] of [
    ["x86_64-6.1", 512, 5],
    ["i386-6.1", 1024, 4],
    ["arm-6.1-virt", 1024, 3],
  ] as const) {
    it(`${profile} ${mib}M: each of the ${INIT_SCRIPT_BEFORE_INSMOD.length} commands forks a copy of the shell's tables and execs (a new set), freeing both by its exit; insmod's fork copy goes at its exec; the shell and insmod keep theirs (${perProc} counted pages each)`, () => {
      const us = churn(profile, mib, true);
      const bare = churn(profile, mib, false);
      const n = INIT_SCRIPT_BEFORE_INSMOD.length;
      expect(us.freed - bare.freed).toBe(n * 2 * perProc + perProc);
      expect(us.taken - bare.taken - (us.freed - bare.freed)).toBe(2 * perProc);
      expect(us.live - bare.live).toBe(2 * perProc);
      expect(us.k.checkInvariants()).toEqual([]);
    });
  }

  it("after the script the live processes (the shell and insmod) hold the real boots' AnonPages, and every page-table frame held is claimed", () => {
    for (const [profile, mib, log] of [
      ["x86_64-6.1", 512, "x86_64-512M-nokaslr.log"],
      ["i386-6.1", 1024, "i386-1G.log"],
      ["arm-6.1-virt", 1024, "armhf-virt-1G.log"],
    ] as const) {
      const k = boot(profile, { mem: mib * MiB, config: "distro" });
      const real = realSection(log, "/proc/meminfo").join("\n");
      const anon = (t: string) => Number(/^AnonPages:\s+(\d+)/m.exec(t)![1]);
      expect(anon(k.proc("meminfo")), profile).toBe(anon(real));
      const pt = new Set(k.pages.allocations(PageOwner.PageTable).map((a) => a.pfn));
      for (const pfn of bootProcessTablePfns(k)) expect(pt.has(pfn), profile).toBe(true);
    }
  });
});
