// Models /proc/vmallocinfo: mm/vmalloc.c s_show() + show_numa_info() + show_purge_info() of Linux 6.1, and the
// vmlist-based s_show() of 3.4 / 2.6.26.
//
// One line per area with a vm_struct, in address order:
//   6.1:  "0x%pK-0x%pK %7ld" [" %pS" caller] [" pages=%d"] [" phys=%pa"] [" ioremap"] [" vmalloc"] [" vmap"] [" user"]
//         [" dma-coherent"] [" vpages" when the page array was vmalloc'ed] [" N%u=%u" per node on NUMA kernels], then
//         "0x%pK-0x%pK %7ld unpurged vm_area" for each lazily freed range.
//   3.4, 2.6.26: "0x%p-0x%p %7ld" ... " phys=%llx" (no 0x, no padding) ... [" vpages" for VM_VPAGES], no NUMA counts
//         on these non-NUMA boards, no lazily freed ranges (vmlist only holds live vm_structs).
// Addresses are printed as a reader with CAP_SYSLOG sees them under kptr_restrict=1 (the real transcripts were read
// that way): the raw value, zero-padded to the pointer width. %pa pads to sizeof(phys_addr_t): 8 bytes on x86_64 and
// arm64, 4 on the non-PAE i386 and non-LPAE ARM kernels.
// NUMA: CONFIG_NUMA is set in Debian's amd64 and arm64 kernels (one node, N0=), not in 686/armmp or the old boards.

import type { Kernel } from "../kernel.ts";
import { registerProc } from "./proc.ts";
import { VM_ALLOC, VM_DMA_COHERENT, VM_IOREMAP, VM_MAP, VM_USERMAP, VM_VPAGES, type Vmalloc } from "../mm/vmalloc.ts";

function numa(k: Kernel): boolean {
  return k.profile.era === "6.1" && (k.profile.arch === "x86_64" || k.profile.arch === "arm64");
}

export function vmallocinfo(k: Kernel): string {
  const v = (k as unknown as { vmalloc?: Vmalloc }).vmalloc;
  if (!v) return "";
  const width = k.layout.bits === 64 ? 16 : 8;
  const ptr = (a: bigint) => "0x" + a.toString(16).padStart(width, "0");
  const physWidth = k.profile.arch === "x86_64" || k.profile.arch === "arm64" ? 16 : 8;
  const era = k.profile.era;
  const out: string[] = [];
  for (const n of v.busy.inorder()) {
    const vm = n.data?.vm;
    const start = BigInt(n.start) << 12n;
    const end = BigInt(n.end) << 12n;
    if (!vm) {
      if (era === "6.1") out.push(`${ptr(start)}-${ptr(end)} ${String(Number(end - start)).padStart(7)} vm_map_ram\n`);
      continue;
    }
    let s = `${ptr(vm.addr)}-${ptr(vm.addr + BigInt(vm.size))} ${String(vm.size).padStart(7)}`;
    if (vm.caller) s += " " + vm.caller;
    if (vm.nr_pages) s += ` pages=${vm.nr_pages}`;
    if (vm.phys_addr) s += era === "6.1" ? ` phys=0x${vm.phys_addr.toString(16).padStart(physWidth, "0")}` : ` phys=${vm.phys_addr.toString(16)}`;
    if (vm.flags & VM_IOREMAP) s += " ioremap";
    if (vm.flags & VM_ALLOC) s += " vmalloc";
    if (vm.flags & VM_MAP) s += " vmap";
    if (vm.flags & VM_USERMAP) s += " user";
    if (era === "6.1") {
      if (vm.flags & VM_DMA_COHERENT) s += " dma-coherent";
      if (vm.pagesArrayAddr && v.is_vmalloc_addr(vm.pagesArrayAddr)) s += " vpages";
      if (numa(k) && vm.nr_pages) s += ` N0=${vm.nr_pages}`;
    } else if (vm.flags & VM_VPAGES) s += " vpages";
    out.push(s + "\n");
  }
  if (era === "6.1") {
    for (const n of v.lazy.inorder()) {
      const start = BigInt(n.start) << 12n;
      const end = BigInt(n.end) << 12n;
      out.push(`${ptr(start)}-${ptr(end)} ${String(Number(end - start)).padStart(7)} unpurged vm_area\n`);
    }
  }
  return out.join("");
}

registerProc("vmallocinfo", vmallocinfo);
