import { describe, expect, it } from "vitest";
import { Kallsyms } from "../../src/kernel/kernel/kallsyms.ts";

const host = (arch: "x86_64" | "i386" | "arm" | "arm64", era: "2.6" | "3.4" | "6.1" = "6.1") =>
  ({ profile: { arch, era } }) as {
    profile: { arch: typeof arch; era: typeof era };
    layout?: { image?: { name: string; start: bigint }[]; modulesVaddr?: bigint };
  };

describe("kallsyms", () => {
  it("uses the sizes and call-site offsets of the real 6.1 logs per arch", () => {
    expect(new Kallsyms(host("x86_64")).frame("__alloc_pages")).toBe("__alloc_pages+0x2a9/0x330");
    expect(new Kallsyms(host("i386")).frame("__kmalloc")).toBe("__kmalloc+0xbc/0x140");
    expect(new Kallsyms(host("arm")).frame("warn_slowpath_fmt")).toBe("warn_slowpath_fmt+0x18c/0x198");
    expect(new Kallsyms(host("x86_64")).frame("__alloc_pages", 0x14a)).toBe("__alloc_pages+0x14a/0x330");
  });
  it("invents stable sizes for other symbols, and keeps explicit frames as given", () => {
    const a = new Kallsyms(host("x86_64", "2.6"));
    const b = new Kallsyms(host("x86_64", "2.6"));
    expect(a.frame("__alloc_pages_nodemask")).toBe(b.frame("__alloc_pages_nodemask"));
    expect(a.frame("__alloc_pages_nodemask")).toMatch(/^__alloc_pages_nodemask\+0x[0-9a-f]+\/0x[0-9a-f]{2,3}$/);
    expect(a.frame("foo+0x10/0x20")).toBe("foo+0x10/0x20");
    expect(a.symbolize(a.addKernelSymbol("foo") + 3n)).toBe("foo+0x3/0x20");
    expect(a.symbolize(a.frameAddress("foo+0x10/0x20"))).toBe("foo+0x10/0x20");
  });
  it("places kernel text at the arch link address, or at the layout's .text once known", () => {
    const h = host("x86_64");
    const k = new Kallsyms(h);
    const addr = k.addKernelSymbol("msleep");
    expect(addr >= 0xffffffff81000000n && addr < 0xffffffff82000000n).toBe(true);
    expect(k.lookup(addr + 4n)).toMatchObject({ name: "msleep", offset: 4, size: 0x40 });
    h.layout = { image: [{ name: ".text", start: 0xffffffff9a000000n }] };
    expect(k.addKernelSymbol("msleep") - addr).toBe(0xffffffff9a000000n - 0xffffffff81000000n);
    expect(new Kallsyms(host("i386")).addKernelSymbol("x") >> 24n).toBe(0xc1n);
  });
  it("puts modules in the modules area, one 64 KiB slot each, unless the loader pins the base", () => {
    const k = new Kallsyms(host("x86_64"));
    const init = k.addModuleSymbol("mem_module_init", "cell", 0x40);
    const exit = k.addModuleSymbol("mem_module_exit", "cell", 0x30);
    expect(init).toBe(0xffffffffc0000000n);
    expect(exit).toBe(0xffffffffc0000040n);
    expect(k.addModuleSymbol("other_init", "other", 0x10)).toBe(0xffffffffc0010000n);
    expect(k.symbolize(exit + 0x2fn)).toBe("mem_module_exit+0x2f/0x30 [cell]");
    expect(k.symbolize(exit + 0x30n)).toBe("0xffffffffc0000070");
    expect(k.symbolName(init)).toBe("mem_module_init [cell]");
    k.setModuleBase("cell", 0xffffffffc0201000n);
    expect(k.lookup(0xffffffffc0201041n)).toMatchObject({ name: "mem_module_exit", offset: 1, module: "cell" });
    k.removeModule("cell");
    expect(k.lookup(0xffffffffc0201041n)).toBeUndefined();
    expect(new Kallsyms(host("arm")).addModuleSymbol("f", "cell", 0x10)).toBe(0xbf000000n);
  });
  it("derives a module frame's offset from the cell line", () => {
    const k = new Kallsyms(host("x86_64"));
    k.addModuleSymbol("mem_module_init", "cell", 0x100, 10);
    expect(k.moduleFrame("mem_module_init", "cell", 10)).toBe("mem_module_init+0x10/0x100 [cell]");
    expect(k.moduleFrame("mem_module_init", "cell", 13)).toBe("mem_module_init+0x70/0x100 [cell]");
    expect(k.moduleFrame("mem_module_init", "cell", 99)).toBe("mem_module_init+0xff/0x100 [cell]");
    // an unregistered function gets a stable invented size
    expect(k.moduleFrame("helper", "cell", 4)).toBe(new Kallsyms(host("x86_64")).moduleFrame("helper", "cell", 4));
  });
});
