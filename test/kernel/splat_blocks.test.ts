// The register blocks and traces of the real logs (test/fixtures/real-kernel): a kmalloc above KMALLOC_MAX_SIZE
// warns in __alloc_pages with the __kmalloc_large_node/__kmalloc frames and the real build's Code: bytes, on x86_64
// (RIP/RSP/RAX.. lines) and i386 (EIP/EAX/DS lines).
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";
import { realLog } from "./real-kernel.ts";

const CELL = `import { kmalloc, vmalloc, GFP_KERNEL, printk, KERN_INFO, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
function too_big(): number {
  const p = kmalloc(4194305, GFP_KERNEL);
  printk(KERN_INFO + "got %px\\n", p);
  printk(KERN_INFO + "vmalloc(0) = %px\\n", vmalloc(0));
  return 0;
}
module_init(too_big);
module_exit(() => {});
`;

const strip = (l: string) => l.replace(/^\[\s*\d+\.\d+\] /, "");
const real = (file: string) => realLog(file).map(strip);
const dmesg = (r: Awaited<ReturnType<typeof runModule>>) => r.dmesg.map((l) => strip(typeof l === "string" ? l : (l as { text: string }).text));
/** The real block from the WARNING line through "Call Trace:". */
function block(lines: string[], warning: string): string[] {
  const i = lines.findIndex((l) => l.startsWith(warning));
  return lines.slice(i, lines.indexOf("Call Trace:", i) + 1);
}
const shape = (l: string) => l.replace(/[0-9a-f]{8,16}/g, "H").replace(/CPU: 0 PID: \d+/, "CPU: 0 PID: N");

describe("the kmalloc WARNING's register block and trace (6.1 distro, as the real Debian boots)", () => {
  for (const [profile, log, frames] of [
    ["x86_64-6.1", "x86_64-512M-nokaslr.log", [" __kmalloc_large_node+0x6e/0xe0", " __kmalloc+0xbf/0x150"]],
    ["i386-6.1", "i386-1G.log", [" __kmalloc_large_node+0x64/0xd0", " __kmalloc+0xbc/0x140"]],
  ] as const) {
    it(`${profile}: the WARNING line, RIP/EIP, the real Code: bytes, the register lines and the kmalloc frames`, async () => {
      const r = await runModule(CELL, { profile, config: "distro", proc: ["vmallocinfo"] });
      const d = dmesg(r);
      const want = block(real(log), "WARNING: CPU: 0 PID: 108 at mm/page_alloc.c:5634");
      const got = block(d, "WARNING: CPU: 0 PID:");
      expect(got.length).toBe(want.length);
      expect(got[0]).toBe(want[0]);
      const ipLine = want.findIndex((l) => /^(RIP|EIP): /.test(l));
      expect(got[ipLine]).toBe(want[ipLine]);
      expect(got[ipLine + 1]).toBe(want[ipLine + 1]); // Code: the build's own bytes, <0f> 0b the ud2 of WARN
      for (let i = ipLine + 2; i < want.length; i++) expect(shape(got[i]!)).toBe(shape(want[i]!));
      // the registers the build keeps at the WARN (the same in both logs' figures): the mask (0x40cc0, GFP_KERNEL with
      // kmalloc_large's __GFP_COMP), the order (get_order(4 MiB + 1) = 11), and on x86_64 R13 = the module's call site
      const reg = (lines: readonly string[], name: string) => new RegExp(`\\b${name}: ([0-9a-f]+)`).exec(lines.join(" "))![1];
      const pinned = profile === "x86_64-6.1" ? ["RBX", "RDI", "RBP", "RSI"] : ["EBX", "ECX", "EDI", "EDX", "ESI"];
      for (const name of pinned) expect(reg(got, name), name).toBe(reg(want, name));
      // the trace: the kmalloc path right above the module's frame
      const at = d.findIndex((l) => l.startsWith(" too_big+"));
      expect(d.slice(at - (profile === "x86_64-6.1" ? 2 : 3), at - (profile === "x86_64-6.1" ? 0 : 1))).toEqual([...frames]);
      // the stack scan's "? " entries: x86_64 the module's return address first; both, the init layout's address
      // (do_one_initcall's argument) between the module's frames and do_one_initcall, as "? 0xffffffffc0209000"
      const ct = d.indexOf("Call Trace:");
      if (profile === "x86_64-6.1") expect(d.slice(ct + 1, ct + 3)).toEqual([" <TASK>", " ? " + d[at]!.trim()]);
      else expect(d[at - 1]).toBe(" ? " + d[at]!.trim());
      expect(d[at + 1]).toMatch(profile === "x86_64-6.1" ? /^ \? 0xffffffffc[0-9a-f]{4}000$/ : /^ \? 0xf[0-9a-f]{4}000$/);
      expect(d[at + 2]).toMatch(/^ do_one_initcall\+/);
      // vmalloc(0)'s WARN_ON_ONCE(!size), the first test of __vmalloc_node_range: its arguments in the calling
      // convention's registers (amd64: size, align 1, VMALLOC_START/END, the mask, PAGE_KERNEL, NUMA_NO_NODE; 686:
      // size, align, VMALLOC_START and the mask)
      const vwant = block(real(log), "WARNING: CPU: 0 PID: 108 at mm/vmalloc.c:");
      const vgot = block(d, "WARNING: CPU: 0 PID: 108 at mm/vmalloc.c:");
      expect(vgot[0]).toBe(vwant[0]);
      const vpinned = profile === "x86_64-6.1" ? ["RAX", "RCX", "RDX", "RSI", "RDI", "RBP", "R08", "R09", "R10", "R15"] : ["EAX", "ECX", "EDX", "ESI"];
      for (const name of vpinned) expect(reg(vgot, name), `vmalloc(0) ${name}`).toBe(reg(vwant, name));
      if (profile === "x86_64-6.1") {
        // R13: __kmalloc's _RET_IP_, the address the trace's module frame names (the real ffffffffc0201379 is
        // memdemo_fail_kmalloc_max+0x2f, its frame's): in the module's core, the frame's offset past its function
        const [, off] = /\+0x([0-9a-f]+)\//.exec(d[at]!)!;
        const core = /^0x([0-9a-f]+)-0x([0-9a-f]+) .* load_module\+/m.exec(r.proc.vmallocinfo!)!;
        const r13 = BigInt("0x" + reg(got, "R13"));
        expect(r13 - BigInt("0x" + off!) >= BigInt("0x" + core[1]!) && r13 < BigInt("0x" + core[2]!)).toBe(true);
      }
    });
  }
});
