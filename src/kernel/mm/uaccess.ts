// Models the two ways user memory is reached, in Linux 6.1 / 3.4 / 2.6.26: the process's own loads and stores
// (the MMU with the process's page tables, the same dTLB model as the kernel's, and the page-fault handler:
// arch/x86/mm/fault.c do_user_addr_fault -> handle_mm_fault, or a fatal signal), and the kernel's accesses on
// the process's behalf: copy_to_user / copy_from_user / clear_user (include/linux/uaccess.h, lib/usercopy.c,
// arch/x86/lib/copy_user_64.S with its exception-table fixup).
//
// copy_*_user semantics modelled: access_ok() first (the whole range below TASK_SIZE, no wrap) or nothing is
// copied; then page by page, each page faulted in as a user access would be (handle_mm_fault from kernel mode);
// at the first page that cannot be faulted in the copy stops and the function returns the number of bytes NOT
// copied (the bytes before that page are copied: x86's copy_user_handle_tail retries up to the faulting byte).
// copy_from_user zeroes the kernel buffer's tail that was not copied (since 4.13's _copy_from_user; 2.6 and 3.4
// x86 did the same in copy_from_user's fixup).
//
// Simplifications (stated): no SMAP/PAN (a kernel load from a user address outside copy_*_user takes the kernel's
// own path: mm/memory.ts, which Oopses on an address the kernel page tables do not map), no uaccess from
// interrupt context checks beyond the kernel's own might_fault on debug kernels.

import type { Kernel } from "../kernel.ts";
import type { Mm } from "./mmap.ts";
import { showSignal, type SignalInfo } from "./user_fault.ts";
import { bug, moduleFrames, warn } from "../debug/splat.ts";
import { KernelOops } from "../kernel/module.ts";
import { KERN_EMERG } from "../kernel/printk.ts";
import { SideTable } from "../snapshot.ts";

const PAGE = 4096;

/** The task dies of a signal: thrown through the user program (uncatchable, as KernelOops is for a module). */
export class UserSignal extends Error {
  readonly killTask = true;
  constructor(readonly info: SignalInfo) {
    super(`${info.sig} at 0x${info.addr.toString(16)}`);
    this.name = "UserSignal";
  }
}

/** What uaccess needs of the running process. */
export interface UserContext {
  pid: number;
  comm: string;
  mm: Mm;
  /** The model's ip for a fault now (mm/user_fault.ts). */
  ip(): bigint;
  /** Set when the task got a fatal signal. */
  signal?: SignalInfo;
}

/** Physical address for one user page access through the dTLB (the process's tables on a miss), or -1 on a fault. */
function translate(k: Kernel, mm: Mm, addr: bigint, write: boolean): number {
  const vpn = Number(addr >> 12n);
  const off = Number(addr & 0xfffn);
  if (!mm.present(vpn, write)) return -1;
  const tlb = k.mem.tlb;
  let pa = tlb.lookup(vpn, off);
  if (pa >= 0) return pa;
  pa = mm.pgtable.translateVpn(vpn, off);
  if (pa >= 0) tlb.insert(vpn, PAGE, pa - off);
  return pa;
}

/**
 * Walk [addr, addr+len) page by page: fn(pa, done, n) for each piece. mode "user": a fault the mm cannot handle is
 * the task's fatal signal (printed, thrown as UserSignal). mode "kernel": it ends the walk. Returns bytes done.
 */
export function walkUser(
  k: Kernel,
  u: UserContext,
  addr: bigint,
  len: number,
  write: boolean,
  mode: "user" | "kernel",
  fn: (pa: number, done: number, n: number) => void,
): number {
  const mm = u.mm;
  let done = 0;
  let pages = 0;
  while (done < len) {
    if ((++pages & 255) === 0) k.watchdog();
    const cur = addr + BigInt(done);
    const n = Math.min(len - done, PAGE - Number(cur & 0xfffn));
    let pa = cur < mm.L.taskSize ? translate(k, mm, cur, write) : -1;
    if (pa < 0) {
      const r = cur < mm.L.taskSize ? mm.handleFault(cur, write) : ({ ok: false, sig: "SIGSEGV", code: "SEGV_MAPERR", level: 0 } as const);
      if (r.ok) pa = translate(k, mm, cur, write);
      if (pa < 0) {
        if (mode === "kernel") return done;
        const fail = r.ok ? ({ ok: false, sig: "SIGSEGV", code: "SEGV_ACCERR", present: true } as const) : r;
        u.signal = showSignal(k, u.comm, u.pid, mm, fail, cur, write, u.ip(), mm.startStack);
        throw new UserSignal(u.signal);
      }
    }
    fn(pa, done, n);
    done += n;
  }
  return done;
}

/** access_ok(addr, n): the range lies below TASK_SIZE and does not wrap. */
export function accessOk(mm: Mm | undefined, addr: bigint, n: number): boolean {
  if (!mm) return false;
  const end = addr + BigInt(n);
  return addr >= 0n && end >= addr && end <= mm.L.taskSize;
}

// ---- check_copy_size() (6.1) --------------------------------------------------------------------------------------
//
// copy_to_user()/copy_from_user() are inline: before the copy, check_copy_size(kaddr, n) (include/linux/thread_info.h)
// refuses a length past INT_MAX with WARN_ON_ONCE(bytes > INT_MAX) (once per call site: the inline's static flag) and
// the call returns n, nothing copied and, for copy_from_user, nothing zeroed. Then check_object_size(): with
// CONFIG_HARDENED_USERCOPY (the Debian builds; not set in the debug kernel, whose KASAN reports an overflow instead)
// mm/usercopy.c __check_object_size() requires the kernel range to lie in what it points into, else
// usercopy_abort() prints "usercopy: Kernel memory exposure|overwrite attempt detected ..." and BUG()s:
// - a wrapped range, or a NULL/ZERO_SIZE_PTR pointer;
// - vmalloc: in one vmap area (its guard page included: va_end);
// - a slab object: inside its cache's usercopy region (__check_heap_object in mm/slub.c): a kmalloc cache's is the
//   whole object (useroffset 0, usersize = object size), a kmem_cache_create() cache has none (usersize 0: any copy
//   BUGs; kmem_cache_create_usercopy() would name one), and slab_unmergeable() keeps caches with a region apart;
// - a large kmalloc block (a compound page): inside the folio.
// Simplifications (stated): stack objects and kernel text are not checked (a cell has neither), alloc_pages()
// blocks are not (only __GFP_COMP folios are, and the model does not record the flag), slub_debug's left red zone is
// not subtracted, and kernel caches other than kmalloc's are taken to have no usercopy region.

const INT_MAX = 0x7fffffff;
/** mm/usercopy.c line of usercopy_abort()'s BUG() (6.1 reports show :102). */
const USERCOPY_BUG_LINE = 102;
/** include/linux/thread_info.h line of check_copy_size()'s WARN_ON_ONCE(bytes > INT_MAX) (5.17 reports show :230). */
const CHECK_COPY_SIZE_WARN_LINE = 230;
const KMALLOC_CACHE = /^(?:dma-)?kmalloc(?:-cg|-rcl)?-/;
/** Call sites whose WARN_ON_ONCE(bytes > INT_MAX) fired, per kernel; a kernel snapshot copies it (snapshot.ts). */
const warnedSites = new SideTable<object, Set<string>>();

function usercopyAbort(k: Kernel, name: string, detail: string | null, toUser: boolean, offset: bigint | number, len: bigint | number): never {
  const d = detail === null ? "" : ` '${detail}'`;
  k.printk(
    KERN_EMERG + "usercopy: Kernel memory %s attempt detected %s %s%s (offset %lu, size %lu)!\n",
    toUser ? "exposure" : "overwrite",
    toUser ? "from" : "to",
    name,
    d,
    BigInt(offset),
    BigInt(len),
  );
  const r = bug(k, {
    file: "mm/usercopy.c",
    line: USERCOPY_BUG_LINE,
    fn: "usercopy_abort",
    kernelFrames: name === "SLUB object" ? ["__check_heap_object", "__check_object_size"] : ["__check_object_size"],
    explain: toUser
      ? `copy_to_user() was asked to copy ${len} bytes from kernel memory that does not hold them all (${name}${d}, offset ${offset}): hardened usercopy (CONFIG_HARDENED_USERCOPY) stops the copy before it shows user space other kernel memory.`
      : `copy_from_user() was asked to write ${len} bytes into kernel memory that does not hold them all (${name}${d}, offset ${offset}): hardened usercopy (CONFIG_HARDENED_USERCOPY) stops the copy before it overwrites other kernel memory.`,
  });
  throw new KernelOops(r.title, r);
}

/** __check_object_size(ptr, n, to_user) with CONFIG_HARDENED_USERCOPY (see above); BUGs, or returns. */
function checkObjectSize(k: Kernel, ptr: bigint, n: number, toUser: boolean): void {
  if (n === 0) return;
  // check_bogus_address()
  const end = BigInt.asUintN(k.layout.bits, ptr + BigInt(n - 1));
  if (end < ptr) usercopyAbort(k, "wrapped address", null, toUser, 0, BigInt.asUintN(k.layout.bits, ptr + BigInt(n)));
  if (ptr <= 16n) usercopyAbort(k, "null address", null, toUser, ptr, n);
  if (k.vmalloc.is_vmalloc_addr(ptr)) {
    const vm = k.vmalloc.find_vm_area(ptr);
    if (!vm) usercopyAbort(k, "vmalloc", "no area", toUser, 0, n);
    if (BigInt(n) > vm.addr + BigInt(vm.size) - ptr) usercopyAbort(k, "vmalloc", null, toUser, ptr - vm.addr, n);
    return;
  }
  const o = k.slab.objectAt(ptr);
  if (!o) return; // not a heap object (virt_addr_valid() false, or a page that is not a slab or a folio)
  if (o.via === "page") {
    if (n > o.slot - o.offset) usercopyAbort(k, "page alloc", null, toUser, o.offset, n);
    return;
  }
  const usersize = KMALLOC_CACHE.test(o.cache) ? o.objectSize : 0;
  if (o.offset <= usersize && n <= usersize - o.offset) return;
  usercopyAbort(k, "SLUB object", o.cache, toUser, o.offset, n);
}

/**
 * check_copy_size(kaddr, n) of a copy_to_user (toUser) or copy_from_user made at `site` (a kernel function that
 * inlines it, or undefined: the module's own call): false when the copy is refused (the caller returns n).
 */
export function checkCopySize(k: Kernel, kaddr: bigint, n: number, toUser: boolean, site?: string): boolean {
  if (k.profile.era !== "6.1") return true;
  if (n > INT_MAX) {
    const fn = site ?? moduleFrames(k).frames[0] ?? (toUser ? "copy_to_user" : "copy_from_user");
    let sites = warnedSites.get(k);
    if (!sites) warnedSites.set(k, (sites = new Set()));
    if (!sites.has(fn)) {
      sites.add(fn);
      warn(k, {
        file: "include/linux/thread_info.h",
        line: CHECK_COPY_SIZE_WARN_LINE,
        fn,
        explain: `${toUser ? "copy_to_user" : "copy_from_user"}() was asked for ${n} bytes, more than INT_MAX (2147483647): the kernel refuses such a length as a sign of a miscalculated size, copies nothing and returns it whole.`,
      });
    }
    return false;
  }
  if (!k.debug) checkObjectSize(k, kaddr, n, toUser);
  return true;
}

/** copy_to_user(to, from, n): bytes NOT copied (0 on success). from is a kernel address (read by the kernel's path). */
export function copyToUser(k: Kernel, u: UserContext | undefined, to: bigint, from: bigint, n: number): number {
  if (n === 0) return 0;
  if (!u || !accessOk(u.mm, to, n)) return n;
  const pm = k.physmem;
  // Page by page: the kernel side is read where each piece goes (a bad kernel pointer is the kernel's own Oops).
  const done = walkUser(k, u, to, n, true, "kernel", (pa, d, len) => pm.writeBytes(pa, k.mem.readBytes(from + BigInt(d), len)));
  return n - done;
}

/** copy_from_user(to, from, n): bytes NOT copied; the kernel buffer's uncopied tail is zeroed. */
export function copyFromUser(k: Kernel, u: UserContext | undefined, to: bigint, from: bigint, n: number): number {
  if (n === 0) return 0;
  let done = 0;
  if (u && accessOk(u.mm, from, n)) {
    const pm = k.physmem;
    done = walkUser(k, u, from, n, false, "kernel", (pa, d, len) => k.mem.writeBytes(to + BigInt(d), pm.readBytes(pa, len)));
  }
  if (done < n) k.mem.memset(to + BigInt(done), 0, n - done); // memset(to + (n - res), 0, res)
  return n - done;
}

/** clear_user(to, n): bytes NOT cleared. */
export function clearUser(k: Kernel, u: UserContext | undefined, to: bigint, n: number): number {
  if (n === 0) return 0;
  if (!u || !accessOk(u.mm, to, n)) return n;
  const pm = k.physmem;
  return n - walkUser(k, u, to, n, true, "kernel", (pa, _d, len) => pm.fill(pa, len, 0));
}
