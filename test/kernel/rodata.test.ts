// Kernel text is read-only on the 6.1 kernels (CONFIG_STRICT_KERNEL_RWX, mark_rodata_ro() before /init): a module's
// write over _text is a permission fault on a present page and an Oops, in each architecture's words.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const cell = (addr: string, op = "memset(A, 0, 64)") => `import { memset, readb, writeb, printk, KERN_INFO, MODULE_LICENSE, module_init } from "linux";
MODULE_LICENSE("GPL");
module_init(() => {
  const A = ${addr}n;
  printk(KERN_INFO + "first byte %d\\n", readb(A));
  ${op};
  printk(KERN_INFO + "still here\\n");
  return 0;
});
`;
const text = (lines: string[]) => lines.map((l) => l.replace(/^\[\s*\d+\.\d+\] /, ""));

describe("read-only kernel text (6.1)", () => {
  it("x86_64: memset over _text is 'BUG: unable to handle page fault', a supervisor write, error_code(0x0003) - permissions violation, Oops: 0003, the RW-less PMD; the read before it is fine", async () => {
    const r = await runModule(cell("0xffffffff81000000"), { profile: "x86_64-6.1", config: "distro" });
    const d = text(r.dmesg);
    expect(d).toContain("first byte 0");
    const i = d.indexOf("BUG: unable to handle page fault for address: ffffffff81000000");
    expect(i).toBeGreaterThan(0);
    expect(d.slice(i + 1, i + 3)).toEqual(["#PF: supervisor write access in kernel mode", "#PF: error_code(0x0003) - permissions violation"]);
    expect(d[i + 3]).toMatch(/^PGD [0-9a-f]+ P4D [0-9a-f]+ PUD [0-9a-f]+ PMD [0-9a-f]*1e1 $/);
    expect(d[i + 4]).toMatch(/^Oops: 0003 \[#1\] PREEMPT SMP NOPTI$/);
    expect(d).not.toContain("still here");
    expect(r.reports.map((x) => x.kind)).toEqual(["oops"]);
  });

  it("i386: the same #PF lines and a read-only *pde (4 MiB page without _PAGE_RW)", async () => {
    const r = await runModule(cell("0xc1000000", "writeb(1, A + 0x10n)"), { profile: "i386-6.1", config: "distro" });
    const d = text(r.dmesg);
    const i = d.indexOf("BUG: unable to handle page fault for address: c1000010");
    expect(d.slice(i + 1, i + 4)).toEqual([
      "#PF: supervisor write access in kernel mode",
      "#PF: error_code(0x0003) - permissions violation",
      "*pde = 010001e1 ",
    ]);
    expect(d[i + 4]).toBe("Oops: 0003 [#1] PREEMPT SMP");
  });

  // ARM's section_perms start at _stext (0xc0300000, the 1 MiB section after .head.text); [_text, _stext) is not
  // reserved at boot and is ordinary memory afterwards
  it("armhf: a section permission fault at _stext, FSR 0x80d (write, fault status 0b01101)", async () => {
    const r = await runModule(cell("0xc0300000"), { profile: "arm-6.1-virt", config: "distro" });
    const d = text(r.dmesg);
    expect(d).toContain("Unable to handle kernel paging request at virtual address c0300000");
    expect(d).toContain("Internal error: Oops: 80d [#1] SMP ARM");
  });

  it("arm64: a permission fault at the leaf's level (FSC 0x0c + level, WnR)", async () => {
    const r = await runModule(cell("0xffff800008010000"), { profile: "arm64-6.1", config: "distro" });
    const d = text(r.dmesg);
    const fsc = d.find((l) => l.startsWith("  FSC = "))!;
    expect(fsc).toMatch(/^ {2}FSC = 0x0[c-f]: level [1-3] permission fault$/);
    expect(d).toContain("  CM = 0, WnR = 1");
  });

  it("the old eras' builds here keep the text writable (no STRICT_KERNEL_RWX): the write goes through", async () => {
    const r = await runModule(cell("0xc0100000"), { profile: "i386-2.6" });
    expect(text(r.dmesg)).toContain("still here");
    expect(r.reports).toEqual([]);
  });
});
