// Models how a driver maps kernel memory into a process (Linux 6.1 / 3.4 / 2.6.26): mm/memory.c remap_pfn_range()
// and vm_insert_page(), mm/vmalloc.c remap_vmalloc_range(). The classic lesson: a kmalloc or __get_free_pages
// buffer is physically contiguous, so one remap_pfn_range() of its first PFN maps it all; a vmalloc buffer is not,
// so it is mapped page by page (remap_vmalloc_range walks it with vmalloc_to_page), and only when it was made for
// user space (vmalloc_user: VM_USERMAP), else -EINVAL.
//
// Rules modelled: remap_pfn_range marks the VMA VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP, needs a
// page-aligned address and a range inside the VMA (the real kernel BUG()s on addr >= end and maps past a VMA that
// is too small; here the latter is -EINVAL), and a private (COW) mapping must be mapped whole (-EINVAL); its pages
// are not counted in RSS. vm_insert_page: an address outside the VMA is -EFAULT, a free page (page_count 0) is
// -EINVAL, on 6.1 a slab or anonymous page is -EINVAL too (validate_page_before_insert, 5.8+: so a kmalloc'ed
// buffer cannot be vm_insert_page'd there), a present PTE is -EBUSY; it sets VM_MIXEDMAP and counts the page in
// the process's RssFile. remap_vmalloc_range(vma, addr, pgoff): -EINVAL unless addr is the start of a vmalloc area
// with VM_USERMAP and the VMA fits in it from pgoff; then vm_insert_page per page, VM_DONTEXPAND | VM_DONTDUMP.

import type { Kernel } from "../kernel.ts";
import { VM_DONTDUMP, VM_DONTEXPAND, VM_IO, VM_MAYWRITE, VM_MIXEDMAP, VM_PFNMAP, VM_SHARED, type Mm, type Vma } from "./mmap.ts";
import { PageOwner } from "./page_flags.ts";
import { VM_USERMAP } from "./vmalloc.ts";

const PAGE = 4096n;
const EINVAL = -22;
const EFAULT = -14;

const isCow = (v: Vma) => (v.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;

export function remapPfnRange(mm: Mm, vma: Vma, addr: bigint, pfn: number, size: number): number {
  const len = (BigInt(size) + PAGE - 1n) & ~(PAGE - 1n);
  if (addr & (PAGE - 1n) || len === 0n) return EINVAL;
  const end = addr + len;
  if (addr < vma.start || end > vma.end) return EINVAL;
  if (isCow(vma)) {
    if (addr !== vma.start || end !== vma.end) return EINVAL;
    vma.pgoff = pfn;
  }
  vma.flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
  for (let a = addr, p = pfn; a < end; a += PAGE, p++) {
    const r = mm.insertPfn(vma, a, p, "pfnmap");
    if (r < 0) return r;
  }
  return 0;
}

export function vmInsertPage(k: Kernel, mm: Mm, vma: Vma, addr: bigint, pfn: number): number {
  if (addr < vma.start || addr >= vma.end) return EFAULT;
  if (!k.pages.pfn_valid(pfn)) return EINVAL;
  const owner = k.pages.ownerOf(pfn);
  if (owner === PageOwner.Free) return EINVAL; // page_count() == 0
  if (k.profile.era === "6.1" && (owner === PageOwner.Slab || owner === PageOwner.Anon)) return EINVAL;
  if (!(vma.flags & VM_MIXEDMAP)) {
    if (vma.flags & VM_PFNMAP) throw new Error("kernel BUG: vm_insert_page on a VM_PFNMAP vma");
    vma.flags |= VM_MIXEDMAP;
  }
  return mm.insertPfn(vma, addr & ~(PAGE - 1n), pfn, "file");
}

export function remapVmallocRange(k: Kernel, mm: Mm, vma: Vma, kaddr: bigint, pgoff: number): number {
  const area = k.vmalloc.find_vm_area(kaddr);
  if (!area || area.addr !== kaddr) return EINVAL;
  if (!(area.flags & VM_USERMAP)) return EINVAL;
  const size = vma.end - vma.start;
  const start = kaddr + BigInt(pgoff) * PAGE;
  const areaSize = BigInt(area.noGuard ? area.size : area.size - 4096);
  if (start + size > area.addr + areaSize) return EINVAL;
  for (let off = 0n; off < size; off += PAGE) {
    const pfn = k.vmalloc.vmalloc_to_pfn(start + off);
    if (pfn < 0) return EINVAL;
    const r = vmInsertPage(k, mm, vma, vma.start + off, pfn);
    if (r < 0) return r;
  }
  vma.flags |= VM_DONTEXPAND | VM_DONTDUMP;
  return 0;
}
