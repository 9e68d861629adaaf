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
