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
import { KERN_ERR, KERN_WARNING } from "../kernel/printk.ts";

const PAGE = 4096;

/** Is any byte of [phys, phys+size) RAM the kernel manages (memblock.memory)? */
function isRam(v: Vmalloc, phys: number, size: number): boolean {
  return v.k.layout.memory.some((r) => phys < r.end && phys + size > r.start);
}

/**
 * The CPU's physical address width: x86_64 is QEMU's default phys-bits (40, the profiles' boards are QEMU), arm64
 * CONFIG_ARM64_PA_BITS=48 (PHYS_MASK); 32-bit kernels here have a 32-bit phys_addr_t (no PAE/LPAE), which the
 * bridge's 32-bit address check already enforces.
 */
function physBits(v: Vmalloc): number {
  const arch = v.k.profile.arch;
  // boot_cpu_data.x86_phys_bits: QEMU's default CPUs report 40 (x86_64) and 36 with PAE (qemu32).
  return arch === "x86_64" ? 40 : arch === "arm64" ? 48 : v.k.profile.pae ? 36 : 32;
}

/** Kernels that already printed __ioremap_caller's WARN_ON_ONCE for an invalid physical address. */
const warnedInvalidPhys = new WeakSet<object>();

/**
 * ioremap(phys, size) / ioremap_caller: returns the virtual address or 0n. `phys` may be a bigint (a module's
 * argument, exact to 64 bits): a "physical" address beyond the CPU's physical address width (a virtual address
 * passed by mistake, typically) is refused as the kernel refuses it: x86 __ioremap_caller() prints
 * "ioremap: invalid physical address %llx" and WARN_ON_ONCE(1)s (phys_addr_valid()); arm64 ioremap_prot()
 * returns NULL silently when the range leaves PHYS_MASK. Simplification: on x86 a valid start whose range
 * crosses the width (the kernel checks only the start) is refused silently too.
 */
export function ioremap(v: Vmalloc, physArg: number | bigint, size: number, opts?: VmallocOpts): bigint {
  const k = v.k;
  if (typeof physArg === "bigint") {
    const last = physArg + BigInt(Math.max(size, 1)) - 1n;
    if (size && physArg >> BigInt(physBits(v)) !== 0n && (k.profile.arch === "x86_64" || k.profile.arch === "i386")) {
      k.printk(KERN_WARNING + "ioremap: invalid physical address %llx\n", physArg);
      if (!warnedInvalidPhys.has(k)) {
        warnedInvalidPhys.add(k);
        warn(k, {
          file: "arch/x86/mm/ioremap.c",
          line: 206,
          fn: "__ioremap_caller",
          kernelFrames: ["ioremap"],
          explain: "ioremap() takes a physical address (of a device's registers), not a kernel virtual address.",
        });
      }
      return 0n;
    }
    if (last >> BigInt(physBits(v)) !== 0n) return 0n;
  }
  const phys = Number(physArg);
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
      warn(k, {
        file: "arch/arm/mm/ioremap.c",
        line: k.profile.era === "6.1" ? 301 : 248,
        fn: "__arm_ioremap_pfn_caller",
        kernelFrames: ["__arm_ioremap_caller"],
      });
    }
    return 0n;
  }
  const area = v.get_vm_area(len, VM_IOREMAP, opts);
  if (!area) return 0n;
  area.phys_addr = base;
  const vpn = Number(area.addr >> 12n);
  area.mapped = { kind: "phys", pfn: base / PAGE, count: len / PAGE };
  try {
    // The soft-lockup watchdog looks in at every page table: an ioremap of gigabytes is one long kernel call. If it
    // stops the run, the area is released (its PTEs are already cleared) so the kernel stays consistent.
    v.pt.mapPages(vpn, len / PAGE, base / PAGE, "io", () => k.watchdog());
  } catch (e) {
    v.remove_vm_area(area.addr);
    throw e;
  }
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
