// Models what the kernel prints when a user access faults and the task gets a fatal signal: arch/x86/mm/fault.c
// show_signal_msg() (2.6.26, 3.4, 6.1), arch/arm64/kernel/traps.c arm64_show_signal() (6.1) and 32-bit ARM's
// __do_user_fault() (which prints only with user_debug=, off by default: nothing), with mm/memory.c
// print_vma_addr(). The shell's "Segmentation fault" is user space's line, not the kernel's: it is in the run's
// result (the process's exit status 139 = 128 + SIGSEGV), not in dmesg.
//
// x86, 6.1: "<6>a.out[109]: segfault at 0 ip 0000000000401010 sp 00007fffffffef00 error 4 in a.out[401000+1000]
// likely on CPU 0 (core 0, socket 0)" (the CPU part since 6.1-rc1), then show_opcodes()'s "Code: " line. 2.6.26 and
// 3.4: the same up to print_vma_addr, %p printing the raw pointer zero-padded to its width.
// The error code: 4 (user) | 2 (write) | 1 (protection: the page was present).
// arm64, 6.1: "a.out[109]: unhandled exception: DABT (lower EL), ESR 0x0000000092000006, level 2 translation
// fault in a.out[400000+1000]", then __show_regs().
//
// Simplifications (stated): the program is JavaScript, so its "ip" is a model: the address in the program's text
// at 16 bytes per cell line of the faulting access (the kallsyms model of module code does the same), and "sp" is
// the initial stack pointer. Hence x86's "Code: " line (the instruction bytes at ip) and arm64's register dump are
// not printed: there are no machine instructions or registers to show.

import type { Kernel } from "../kernel.ts";
import type { FaultResult, Mm } from "./mmap.ts";

export interface SignalInfo {
  sig: "SIGSEGV" | "SIGBUS" | "SIGKILL";
  code: string;
  addr: bigint;
  write: boolean;
  ip: bigint;
  sp: bigint;
  /** The kernel's line, when it printed one. */
  line?: string;
}

const SIGNO = { SIGSEGV: 11, SIGBUS: 7, SIGKILL: 9 } as const;
export function signo(sig: SignalInfo["sig"]): number {
  return SIGNO[sig];
}

/** print_vma_addr(): " in a.out[400000+1000]" when ip lies in a file mapping, else "". */
function vmaAddr(mm: Mm, ip: bigint): string {
  const v = mm.findVma(ip);
  if (!v || v.start > ip || !v.file) return "";
  const base = v.file.path.slice(v.file.path.lastIndexOf("/") + 1);
  return ` in ${base}[${v.start.toString(16)}+${(v.end - v.start).toString(16)}]`;
}

/** Print the arch's message for a fatal user fault (if the era prints one) and return the signal's record. */
export function showSignal(
  k: Kernel,
  comm: string,
  pid: number,
  mm: Mm,
  r: Extract<FaultResult, { ok: false }>,
  addr: bigint,
  write: boolean,
  ip: bigint,
  sp: bigint,
): SignalInfo {
  const info: SignalInfo = { sig: r.sig, code: r.code, addr, write, ip, sp };
  if (r.sig !== "SIGSEGV") return info;
  const arch = k.profile.arch;
  const era = k.profile.era;
  const level = pid > 1 ? "KERN_INFO" : "KERN_EMERG";
  const n = level === "KERN_INFO" ? 6 : 0;
  const prefix = k.profile.printkLevelStyle === "soh" ? `\u0001${n}` : `<${n}>`;
  if (arch === "x86_64" || arch === "i386") {
    const width = arch === "x86_64" ? 16 : 8;
    const ptr = (v: bigint) => v.toString(16).padStart(width, "0");
    const error = 4 | (write ? 2 : 0) | (r.present ? 1 : 0); // X86_PF_USER | X86_PF_WRITE | X86_PF_PROT
    let line = `${comm}[${pid}]: segfault at ${addr.toString(16)} ip ${ptr(ip)} sp ${ptr(sp)} error ${error.toString(16)}${vmaAddr(mm, ip)}`;
    if (era === "6.1") line += " likely on CPU 0 (core 0, socket 0)";
    k.printk(prefix + "%s\n", line);
    info.line = line;
  } else if (arch === "arm64" && era === "6.1") {
    const dfsc = r.code === "SEGV_ACCERR" && r.present ? 0x0c + 3 : 0x04 + (r.level ?? 3);
    const esr = 0x92000000 + (write ? 0x40 : 0) + dfsc;
    const what = r.code === "SEGV_ACCERR" && r.present ? "level 3 permission fault" : `level ${r.level ?? 3} translation fault`;
    const line = `${comm}[${pid}]: unhandled exception: DABT (lower EL), ESR 0x${esr.toString(16).padStart(16, "0")}, ${what}${vmaAddr(mm, ip)}`;
    k.printk(prefix + "%s\n", line);
    info.line = line;
  }
  // 32-bit ARM: __do_user_fault() prints only when booted with user_debug= (CONFIG_DEBUG_USER): silent here.
  return info;
}
