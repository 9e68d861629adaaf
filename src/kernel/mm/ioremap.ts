// Models arch/x86/mm/ioremap.c (__ioremap_caller, iounmap), arch/arm/mm/ioremap.c (__arm_ioremap_pfn_caller) and
// mm/ioremap.c / mm/vmalloc.c (ioremap_page_range) of Linux 6.1, with 3.4 / 2.6.26 where they differ.
//
// ioremap(phys, size): round the physical range out to whole pages, reserve a VM_IOREMAP area (aligned by size up to
// IOREMAP_MAX_ORDER, plus the guard page), record phys_addr, map the frames uncached and return the address plus the
// offset of `phys` inside its page. Mapping RAM is refused as the kernel refuses it (x86: WARN "ioremap on RAM at
// %pa - %pa"; ARM: WARN_ON(pfn_valid(pfn))).
// Simplifications: no memtype (PAT) tracking, no ARM section mappings for 1 MiB-aligned ioremaps, no early_ioremap;
// the caller text is what /proc/vmallocinfo prints.

import type { Vmalloc, VmallocOpts } from "./vmalloc.ts";
import { VM_IOREMAP } from "./vmalloc.ts";
import { warn } from "../debug/splat.ts";
import { KERN_ERR } from "../kernel/printk.ts";

const PAGE = 4096;

/** Is any byte of [phys, phys+size) RAM the kernel manages (memblock.memory)? */
function isRam(v: Vmalloc, phys: number, size: number): boolean {
  return v.k.layout.memory.some((r) => phys < r.end && phys + size > r.start);
}

/** ioremap(phys, size) / ioremap_caller: returns the virtual address or 0n. */
export function ioremap(v: Vmalloc, phys: number, size: number, opts?: VmallocOpts): bigint {
  const k = v.k;
  if (!size || phys + size - 1 < phys) return 0n;
  const offset = phys % PAGE;
  const base = phys - offset;
  const len = Math.ceil((offset + size) / PAGE) * PAGE;
  if (isRam(v, base, len)) {
    if (k.profile.arch === "x86_64" || k.profile.arch === "i386") {
      const end = base + len - 1;
      const w = k.layout.bits === 64 ? 16 : 8;
      warn(k, {
        file: "arch/x86/mm/ioremap.c",
        line: k.profile.era === "6.1" ? 216 : 160,
        fn: "__ioremap_caller",
        message: `ioremap on RAM at 0x${base.toString(16).padStart(w, "0")} - 0x${end.toString(16).padStart(w, "0")}`,
        kernelFrames: ["ioremap"],
      });
    } else {
      warn(k, { file: "arch/arm/mm/ioremap.c", line: k.profile.era === "6.1" ? 301 : 248, fn: "__arm_ioremap_pfn_caller", kernelFrames: ["__arm_ioremap_caller"] });
    }
    return 0n;
  }
  const area = v.get_vm_area(len, VM_IOREMAP, opts);
  if (!area) return 0n;
  area.phys_addr = base;
  const vpn = Number(area.addr >> 12n);
  area.mapped = { kind: "phys", pfn: base / PAGE, count: len / PAGE };
  v.pt.mapPages(vpn, len / PAGE, base / PAGE, "io");
  v.stats.allocs++;
  for (const f of v.onAlloc) f(area);
  return area.addr + BigInt(offset);
}

/** iounmap(addr): x86 ignores addresses below high_memory and complains about unknown ones. */
export function iounmap(v: Vmalloc, addr: bigint): void {
  const k = v.k;
  if (addr <= k.layout.highMemory && k.layout.bits === 64) return;
  const base = addr & ~0xfffn;
  const vm = v.find_vm_area(base);
  if (!vm || vm.addr !== base) {
    k.printk(KERN_ERR + "iounmap: bad address %p\n", addr);
    return;
  }
  const removed = v.remove_vm_area(base);
  if (removed) v.leakPages(removed, "iounmap"); // iounmap of a vmalloc() area: its pages are never freed
  v.stats.frees++;
}
