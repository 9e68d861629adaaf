// Models what Linux 6.1 (and 2.6.32 / 3.4) does when a kernel thread wakes up in the text of a module that was
// unloaded under it (module_exit did not kthread_stop it): the thread returns from msleep()'s schedule_timeout()
// into the freed module area, whose pages free_module() unmapped, and the CPU faults on the instruction fetch. The
// page-fault Oops (mm/fault.ts kernelFault: on x86_64 "#PF: supervisor instruction fetch in kernel mode",
// error_code 0x0010, RIP the bare address because kallsyms no longer knows it, "Code: Unable to access opcode bytes
// at ...") is printed in the thread's own context (CPU: 0 PID: <thread> Comm: <name>, the trace kthread /
// ret_from_fork), and the thread dies (make_task_dead). ARM: a prefetch abort, "Internal error: Oops: 80000007" (the
// IFSR with FSR_LNX_PF), "Code: bad PC value"; arm64: an instruction abort, "EC = 0x21: IABT (current EL)", ESR
// 0x86000000 + the FSC, no "Data abort info" block. Simplifications: the Oops's registers are invented (splat.ts); on
// non-PAE i386 (no NX bit: no instruction-fetch bit in the error code) it is the read fault of that address; the
// 2.6/3.4 x86 forms print their own "unable to handle kernel paging request" lines.

import type { Kernel } from "../kernel.ts";
import type { Kthread } from "./kthread.ts";
import { kernelFault } from "../mm/fault.ts";

export function kthreadOops(k: Kernel, t: Kthread): void {
  const addr = t.resumeAddr ?? 0n;
  // runs as the thread (Kthreads.afterUnload): CPU: 0 PID: <thread> Comm: <its name>
  kernelFault(
    k,
    { addr, write: false, size: 1, op: "load", fetch: true, ip: "0x" + addr.toString(16), callers: ["kthread", "ret_from_fork"] },
    k.pgtable.walk(addr),
  );
}
