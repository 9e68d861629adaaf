import { describe, expect, it } from "vitest";
import { bug, dump_stack, setModuleListProvider, splat, warn } from "../../src/kernel/debug/splat.ts";
import { taintFlagsOf } from "../../src/kernel/kernel/panic.ts";
import { fakeKernel, type FakeKernel } from "./printk-fake.ts";
import { ARM_WARN, I386_WARN, X86_64_WARN, X86_64_WARN_ALLOC_DUMP_STACK } from "./splat-fixtures.ts";

/** Real traces mark unreliable entries "? ..."; the simulator prints only the reliable chain. */
const reliable = (lines: string[]) => lines.filter((l) => !l.startsWith(" ? "));

/**
 * What may differ from a real splat: the invented register values and Code: bytes of the kernel-mode dump (up to
 * "Call Trace:"), and the offsets of module frames (derived from cell lines). Everything else must match exactly.
 */
function normalize(lines: string[]): string[] {
  let kernelRegs = true;
  return lines.map((l) => {
    if (l.startsWith("Call Trace:")) kernelRegs = false;
    l = l.replace(/(\w+)\+0x[0-9a-f]+\/0x([0-9a-f]+) \[memdemo\]/g, "$1+OFF/0x$2 [memdemo]");
    if (kernelRegs && /^(Code:|RSP:|RAX:|RDX:|RBP:|R10:|R13:|FS:|CS:|CR2:|EAX:|ESI:|DS:|CR0:)/.test(l)) {
      if (l.startsWith("Code:")) return l.replace(/\b[0-9a-f]{2}\b(?![>])/g, "xx").replace("<0f> xx", "<0f> 0b");
      return l.replace(/\b[0-9a-f]{8,16}\b/g, (m) => "H".repeat(m.length));
    }
    return l;
  });
}

function insmodOf(k: FakeKernel, pid: number, sizes: Record<string, number>, stack: string[]): void {
  k.current = { pid, comm: "insmod" };
  k.taint.add("O");
  k.taint.add("E");
  setModuleListProvider(k, () => ({ modules: [{ name: "memdemo", taints: "OE", state: "coming" }] }));
  for (const [fn, size] of Object.entries(sizes)) k.kallsyms.addModuleSymbol(fn, "memdemo", size, 10);
  k.moduleStack = stack.map((fn, i) => ({ fn, module: "memdemo", line: 20 + i * 7 }));
}

describe("WARN on 6.1 against the real Debian splats", () => {
  it("x86_64: line by line as WARNING: CPU: 0 PID: 108 at mm/page_alloc.c:5634 __alloc_pages+0x2a9/0x330", () => {
    const k = fakeKernel("x86_64-6.1");
    insmodOf(k, 108, { memdemo_fail_kmalloc_max: 0x106, memdemo_main: 0xb7e }, ["memdemo_fail_kmalloc_max", "memdemo_main"]);
    const m = k.log.mark();
    const r = warn(k, {
      file: "mm/page_alloc.c",
      line: 5634,
      fn: "__alloc_pages+0x2a9/0x330",
      kernelFrames: ["__kmalloc_large_node+0x6e/0xe0", "__kmalloc+0xbf/0x150"],
    });
    const got = k.log.texts(m);
    // the stack scan's "? " entry for the module's return address is printed (it is the trap frame's neighbour,
    // deterministic); the stale kernel "? " entries are not, nor "? 0x<init>" (this fake kernel loads no image)
    expect(normalize(got)).toEqual(normalize(X86_64_WARN.filter((l) => !l.startsWith(" ? ") || l.endsWith(" [memdemo]"))));
    expect(got[1]).toBe(X86_64_WARN[1]);
    expect(got[5]).toBe("RIP: 0010:__alloc_pages+0x2a9/0x330");
    expect(got[6]).toMatch(/^Code: ([0-9a-f]{2} ){42}<0f> 0b( [0-9a-f]{2}){20}$/);
    expect(r.kind).toBe("warn");
    expect(r.title).toBe("WARNING: CPU: 0 PID: 108 at mm/page_alloc.c:5634 __alloc_pages+0x2a9/0x330");
    expect(r.text).toBe(got.join("\n"));
    expect(r.line).toBe(20);
    expect(r.frames?.map((f) => f.fn)).toEqual(["memdemo_fail_kmalloc_max", "memdemo_main"]);
    expect(k.taint.has("W")).toBe(true);
    expect(k.reports).toEqual([r]);
  });

  it("i386: EIP line, 32-bit register dump, no <TASK> markers, SYSENTER user registers", () => {
    const k = fakeKernel("i386-6.1");
    insmodOf(k, 108, { memdemo_fail_kmalloc_max: 0xd2, memdemo_main: 0x988, memdemo_init: 0x1000 }, [
      "memdemo_fail_kmalloc_max",
      "memdemo_main",
      "memdemo_init",
    ]);
    const m = k.log.mark();
    warn(k, {
      file: "mm/page_alloc.c",
      line: 5634,
      fn: "__alloc_pages+0x21e/0xf40",
      kernelFrames: ["__kmalloc_large_node+0x64/0xd0", "__kmalloc+0xbc/0x140"],
    });
    // the real trace also has the "? 0xf7449000" init-section entry, unreliable like the "? sym" ones
    // (this fake kernel loads no image); the module's own "? " entry above its frame is printed
    expect(normalize(k.log.texts(m))).toEqual(normalize(I386_WARN.filter((l) => !l.startsWith(" ? ") || l.endsWith(" [memdemo]"))));
  });

  it("ARM: no register dump, 'X from Y+0x/0x' entries and the exception stack", () => {
    const k = fakeKernel("arm-6.1");
    insmodOf(k, 102, { memdemo_fail_kmalloc_max: 0xf4, memdemo_main: 0xb40 }, ["memdemo_fail_kmalloc_max", "memdemo_main"]);
    const m = k.log.mark();
    warn(k, {
      file: "mm/page_alloc.c",
      line: 5634,
      fn: "__alloc_pages+0xf60/0x1094",
      kernelFrames: ["__kmalloc_large_node+0x70/0x114", "__kmalloc+0xe0/0x17c"],
    });
    expect(normalize(k.log.texts(m))).toEqual(normalize(ARM_WARN));
  });

  it("a second WARN shows the W taint in the CPU line", () => {
    const k = fakeKernel("x86_64-6.1");
    insmodOf(k, 108, {}, []);
    warn(k, { file: "a.c", line: 1, fn: "f" });
    const m = k.log.mark();
    warn(k, { file: "mm/vmalloc.c", line: 3227, fn: "__vmalloc_node_range+0x806/0x880" });
    expect(k.log.texts(m)[3]).toBe("CPU: 0 PID: 108 Comm: insmod Tainted: G        W  OE      6.1.0-56-amd64 #1  Debian 6.1.192-2");
  });

  it("WARN(cond, msg): the message precedes WARNING on x86 (trap) and follows it on ARM", () => {
    const x = fakeKernel("x86_64-6.1");
    const mx = x.log.mark();
    warn(x, { file: "f.c", line: 2, fn: "g", message: "bad thing %d" });
    expect(
      x.log
        .texts(mx)
        .slice(0, 3)
        .map((l) => l.slice(0, 12)),
    ).toEqual(["------------", "bad thing %d", "WARNING: CPU"]);
    const a = fakeKernel("arm-6.1");
    const ma = a.log.mark();
    warn(a, { file: "f.c", line: 2, fn: "g", message: "bad thing" });
    expect(
      a.log
        .texts(ma)
        .slice(1, 3)
        .map((l) => l.slice(0, 12)),
    ).toEqual(["WARNING: CPU", "bad thing"]);
  });
});

describe("dump_stack", () => {
  it("x86_64 6.1: matches warn_alloc's dump_stack for vmalloc error", () => {
    const k = fakeKernel("x86_64-6.1");
    insmodOf(k, 108, { memdemo_main: 0xb7e }, ["memdemo_main"]);
    k.taint.add("W");
    const m = k.log.mark();
    dump_stack(k, ["warn_alloc+0x151/0x170", "__vmalloc_node_range+0x838/0x880", "__vmalloc_node+0x4a/0x60"]);
    expect(normalize(k.log.texts(m))).toEqual(normalize(reliable(X86_64_WARN_ALLOC_DUMP_STACK)));
    expect(k.reports).toHaveLength(0); // dump_stack alone is part of someone else's splat
  });
  it("ARM 6.1: unwind_backtrace/show_stack/dump_stack_lvl lead the chain", () => {
    const k = fakeKernel("arm-6.1");
    k.current = { pid: 102, comm: "insmod" };
    const m = k.log.mark();
    dump_stack(k, ["warn_alloc+0x10c/0x198", "__vmalloc_node_range+0x52c/0x670", "vmalloc+0x64/0x6c"]);
    expect(k.log.texts(m).slice(2, 6)).toEqual([
      " unwind_backtrace from show_stack+0x18/0x1c",
      " show_stack from dump_stack_lvl+0x40/0x4c",
      " dump_stack_lvl from warn_alloc+0x10c/0x198",
      " warn_alloc from __vmalloc_node_range+0x52c/0x670",
    ]);
  });
  it("prints no Hardware name for a board-less kernel and keeps the trailing space of a non-Debian build", () => {
    const k = fakeKernel("x86_64-custom-6.1");
    k.current = { pid: 54, comm: "insmod" };
    k.taint.add("O");
    const m = k.log.mark();
    dump_stack(k, []);
    expect(k.log.texts(m).slice(0, 2)).toEqual(["CPU: 0 PID: 54 Comm: insmod Tainted: G           O       6.1.192 #1 ", "Call Trace:"]);
  });
  it("records a report when asked, with the cell line of the innermost module frame", () => {
    const k = fakeKernel("x86_64-6.1");
    k.current = { pid: 7, comm: "insmod" };
    k.moduleStack = [{ fn: "mem_module_init", module: "cell", line: 12 }];
    dump_stack(k, ["msleep"], { report: { kind: "scheduling-while-atomic", title: "BUG: scheduling while atomic: insmod/7/0x00000002" } });
    expect(k.reports[0]).toMatchObject({ kind: "scheduling-while-atomic", line: 12, frames: [{ fn: "mem_module_init", line: 12 }] });
    expect(k.reports[0].text).toContain(" mem_module_init+0x");
    expect(k.reports[0].text).toContain(" [cell]");
  });
});

describe("old eras", () => {
  it("2.6 x86_64 WARN: 'WARNING: at file:line fn()', Hardware name, Pid line, [<addr>] entries, random end id", () => {
    const k = fakeKernel("x86_64-2.6", { seed: 3 });
    k.current = { pid: 1234, comm: "insmod" };
    setModuleListProvider(k, () => ({ modules: [{ name: "cell", taints: "", state: "coming" }] }));
    const m = k.log.mark();
    warn(k, { file: "mm/page_alloc.c", line: 1900, fn: "__alloc_pages_nodemask", kernelFrames: ["__get_free_pages"] });
    const t = k.log.texts(m);
    expect(t[0]).toBe("------------[ cut here ]------------");
    expect(t[1]).toMatch(/^WARNING: at mm\/page_alloc\.c:1900 __alloc_pages_nodemask\+0x[0-9a-f]+\/0x[0-9a-f]+\(\)$/);
    expect(t[2]).toBe("Hardware name: Standard PC (i440FX + PIIX, 1996)");
    expect(t[3]).toBe("Modules linked in: cell(+)");
    expect(t[4]).toBe("Pid: 1234, comm: insmod Not tainted 2.6.32-5-amd64 #1");
    expect(t[5]).toBe("Call Trace:");
    expect(t[6]).toMatch(/^ \[<ffffffff81[0-9a-f]{6}>\] warn_slowpath_common\+0x[0-9a-f]+\/0x[0-9a-f]+$/);
    expect(t.some((l) => / \[<[0-9a-f]{16}>\] system_call_fastpath\+/.test(l))).toBe(true);
    const end = t[t.length - 1];
    expect(end).toMatch(/^---\[ end trace [0-9a-f]{16} \]---$/);
    expect(end).not.toBe("---[ end trace 0000000000000000 ]---");
    warn(k, { file: "x.c", line: 1, fn: "f" });
    const id = BigInt("0x" + end.slice(15, 31));
    expect(k.log.texts().at(-1)).toBe(`---[ end trace ${(id + 1n).toString(16).padStart(16, "0")} ]---`);
    expect(k.log.texts().find((l) => l.startsWith("Pid: 1234") && l.includes("Tainted"))).toBe(
      "Pid: 1234, comm: insmod Tainted: G        W  2.6.32-5-amd64 #1",
    );
  });
  it("3.4 ARM WARN: '[<addr>] (sym) from [<addr>] (sym)' entries and no Pid line", () => {
    const k = fakeKernel("arm-3.4");
    k.current = { pid: 99, comm: "insmod" };
    const m = k.log.mark();
    warn(k, { file: "mm/page_alloc.c", line: 2317, fn: "__alloc_pages_nodemask" });
    const t = k.log.texts(m);
    expect(t[2]).toBe("Modules linked in:");
    expect(t[3]).toMatch(/^\[<c0[0-9a-f]{6}>\] \(unwind_backtrace\+0x0\/0xf0\) from \[<c0[0-9a-f]{6}>\] \(dump_stack\+0x[0-9a-f]+\/0x[0-9a-f]+\)$/);
    expect(t.some((l) => l.includes("(sys_init_module+") && l.includes("(ret_fast_syscall+0x0/0x30)"))).toBe(true);
  });
});

describe("BUG", () => {
  it("x86_64 6.1: kernel BUG at, invalid opcode with die counter, modules after the trace, summary registers", () => {
    const k = fakeKernel("x86_64-6.1");
    insmodOf(k, 108, {}, ["memdemo_main"]);
    const m = k.log.mark();
    const r = bug(k, { file: "mm/slub.c", line: 379, fn: "__slab_free", kernelFrames: ["kfree"] });
    const t = k.log.texts(m);
    expect(t.slice(0, 4)).toEqual([
      "------------[ cut here ]------------",
      "kernel BUG at mm/slub.c:379!",
      "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
      "CPU: 0 PID: 108 Comm: insmod Tainted: G           OE      6.1.0-56-amd64 #1  Debian 6.1.192-2",
    ]);
    const end = t.indexOf("---[ end trace 0000000000000000 ]---");
    // oops_end() taints D (lockdep now unreliable) before printing the end marker
    expect(t[end - 1]).toBe("Disabling lock debugging due to kernel taint");
    expect(t[end - 2]).toBe("Modules linked in: memdemo(OE+)");
    expect(t[end - 3]).toBe(" </TASK>");
    expect(t[end + 1]).toMatch(/^RIP: 0010:__slab_free\+0x[0-9a-f]+\/0x[0-9a-f]+$/);
    expect(r).toMatchObject({ kind: "bug", title: "kernel BUG at mm/slub.c:379!" });
    expect(k.taint.has("D")).toBe(true);
    bug(k, { file: "mm/slub.c", line: 379, fn: "__slab_free" });
    expect(k.log.texts()).toContain("invalid opcode: 0000 [#2] PREEMPT SMP NOPTI");
  });
  it("ARM 6.1: Internal error: Oops - BUG", () => {
    const k = fakeKernel("arm-6.1");
    const m = k.log.mark();
    bug(k, { file: "mm/slub.c", line: 379, fn: "__slab_free" });
    const t = k.log.texts(m);
    expect(t[2]).toBe("Internal error: Oops - BUG: 0 [#1] SMP ARM");
    expect(t).toContain("Modules linked in:");
    expect(t.some((l) => l.startsWith("PC is at __slab_free+0x"))).toBe(true);
  });
});

describe("generic splat()", () => {
  it("prints the title and lines and records the report", () => {
    const k = fakeKernel("x86_64-6.1");
    k.moduleStack = [{ fn: "leaky", module: "cell", line: 5 }];
    const r = splat(k, "leak", "kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)", ["detail"], {
      explain: "You allocated and never freed.",
    });
    expect(k.log.texts()).toEqual(["kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)", "detail"]);
    expect(r).toEqual({
      kind: "leak",
      title: "kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
      text: "kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)\ndetail",
      frames: [{ fn: "leaky", line: 5 }],
      line: 5,
      explain: "You allocated and never freed.",
    });
  });
});

describe("print_tainted", () => {
  it("6.1: 19 columns, G for a not-proprietary kernel", () => {
    const k = fakeKernel("x86_64-6.1");
    expect(k.taint.print_tainted()).toBe("Not tainted");
    k.taint.add("O");
    k.taint.add("E");
    expect(k.taint.print_tainted()).toBe("Tainted: G           OE     ");
    k.taint.add("W");
    expect(k.taint.print_tainted()).toBe("Tainted: G        W  OE     ");
    k.taint.add("P");
    expect(k.taint.print_tainted()).toBe("Tainted: P        W  OE     ");
    expect(k.taint.value).toBe((1 << 0) | (1 << 9) | (1 << 12) | (1 << 13));
    expect(taintFlagsOf("6.1").join("")).toBe("PFSRMBUDAWCIOELKXTN");
  });
  it("older eras have shorter tables and cannot set unknown flags", () => {
    const k26 = fakeKernel("x86_64-2.6");
    expect(k26.taint.add("O")).toBe(false);
    expect(k26.taint.print_tainted()).toBe("Not tainted");
    k26.taint.add("W");
    expect(k26.taint.print_tainted()).toBe("Tainted: G        W "); // 11 columns: P..W then C
    const k34 = fakeKernel("i386-3.4");
    k34.taint.add("O");
    expect(k34.taint.print_tainted()).toBe("Tainted: G           O");
  });
  it("prints 'Disabling lock debugging due to kernel taint' once, for taints that make lockdep unreliable", () => {
    const k = fakeKernel("x86_64-6.1");
    k.taint.add("W");
    k.taint.add("O");
    expect(k.log.texts()).toEqual([]);
    k.taint.add("B");
    k.taint.add("D");
    expect(k.log.texts()).toEqual(["Disabling lock debugging due to kernel taint"]);
    expect(k.log.records[0].level).toBe(4);
  });
});
