// Models kernel/panic.c (__warn, warn_slowpath_common, print_oops_end_marker), lib/bug.c (report_bug),
// lib/dump_stack.c (dump_stack_print_info), arch/x86/kernel/dumpstack.c + process_{32,64}.c (show_regs, __die_header,
// show_trace_log_lvl), arch/arm/kernel/traps.c (dump_backtrace_entry, __die) and kernel/module/main.c
// (print_modules) of Linux 6.1, with the 2.6.32/3.4 forms (WARNING: at ...(), "Pid: N, comm: ..." lines,
// " [<addr>] sym" x86 trace entries, "[<addr>] (sym) from [<addr>] (sym)" ARM entries, random end-trace ids).
//
// Every splat goes through printk (so dmesg shows it with timestamps) and becomes one Report on k.reports: kind,
// title (the splat's headline), the full text without timestamps, the module's frames and the innermost cell line.
//
// Checked against test/fixtures/real-kernel (Debian 6.1 x86_64/i386/armhf): line order, spacing of the CPU line
// (Debian's LINUX_PACKAGE_ID " Debian 6.1.x-y" after the version token), " <TASK>"/" </TASK>" on x86_64 only, no
// "Call Trace:" header and "X from Y+0x/0x" entries on ARM, no register dump for an ARM WARN (warn_slowpath_fmt,
// no trap), the user-mode registers of the syscall entry at the bottom of an insmod trace, end trace id 0 in 6.1.
//
// Invented, and said so: every register value, the Code: bytes (except the trapping ud2 "<0f> 0b" of WARN/BUG on
// x86, and the whole line at the sites the real logs show: REAL_CODE), stack addresses, the ARM exception-stack words and the user-mode registers (taken from the real logs as a
// fixed template). Frames the real traces show as unreliable ("? foo+0x..") are not printed. Offsets of loader
// frames come from the real logs (6.1) or from kallsyms' invented sizes (other eras, rmmod). arm64 prints a
// simplified trace (no register dump). An Oops in old eras prints the 2.6.32 x86 layout without the Stack: dump.

import { SideTable } from "../snapshot.ts";
import type { Arch, Era, Report, ReportKind } from "../types.ts";
import type { Kallsyms } from "../kernel/kallsyms.ts";
import type { LogBuffer } from "../kernel/printk.ts";
import type { Taint, TaintFlag } from "../kernel/panic.ts";
import { KERN_CRIT, KERN_DEFAULT, KERN_EMERG, KERN_WARNING, type PrintkArg } from "../kernel/printk.ts";
import { nameHash } from "../kernel/kallsyms.ts";

/** A frame of the module's stack, innermost first (Kernel.captureModuleStack). */
export interface ModuleStackFrame {
  fn: string;
  module?: string;
  line?: number;
  column?: number;
}

/** What the splat helpers read of the Kernel (the Kernel class satisfies it). */
export interface SplatHost {
  profile: { arch: Arch; era: Era; release: string; versionString: string; board: string };
  opts: { seed?: number; config?: string };
  current: { pid: number; comm: string };
  log: LogBuffer;
  kallsyms: Kallsyms;
  taint: Taint;
  captureModuleStack: () => ModuleStackFrame[];
  report(r: Report): void;
  printk(fmt: string, ...args: PrintkArg[]): number;
}

// ---------------------------------------------------------------------------------------------------------------
// Per-kernel state: die counter, old-era oops id, the module list provider.

/** A loaded module as print_modules() shows it. taints: the module's taint letters ("O", "OE", "P"...). */
export interface LoadedModule {
  name: string;
  taints: string;
  state: "coming" | "live" | "going";
}
export interface ModuleList {
  modules: LoadedModule[];
  /** "memdemo(OE)" (6.1 prints the flags too), or just the name in older eras. */
  lastUnloaded?: string;
}

interface SplatState {
  dieCounter: number;
  oopsId?: bigint;
  modules?: () => ModuleList;
}
const STATE = new SideTable<object, SplatState>(); // per machine; a kernel snapshot copies it (snapshot.ts)
function state(k: object): SplatState {
  let s = STATE.get(k);
  if (!s) STATE.set(k, (s = { dieCounter: 0 }));
  return s;
}

/** The module loader installs where print_modules() reads the module list from. */
export function setModuleListProvider(k: object, provider: () => ModuleList): void {
  state(k).modules = provider;
}

// ---------------------------------------------------------------------------------------------------------------
// Small pieces.

const hex = (v: bigint | number, w: number) => v.toString(16).padStart(w, "0");
const is64 = (arch: Arch) => arch === "x86_64" || arch === "arm64";
const isX86 = (arch: Arch) => arch === "x86_64" || arch === "i386";

/** print_modules(): "Modules linked in: cell(O+) [last unloaded: ...]". */
export function modulesLinkedIn(k: SplatHost): string {
  const list = state(k).modules?.() ?? { modules: [] };
  let s = "Modules linked in:";
  for (const m of list.modules) {
    const st = m.state === "coming" ? "+" : m.state === "going" ? "-" : "";
    s += " " + m.name + (m.taints || st ? "(" + m.taints + st + ")" : "");
  }
  if (list.lastUnloaded) s += " [last unloaded: " + list.lastUnloaded + "]";
  return s;
}

export function print_modules(k: SplatHost): void {
  k.printk(KERN_DEFAULT + "%s\n", modulesLinkedIn(k));
}

/** init_utsname()->version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)" out of /proc/version. */
export function utsVersion(versionString: string): string {
  const m = / (#\d+.*)$/.exec(versionString);
  return m ? m[1] : "#1";
}

/** The CPU line of dump_stack_print_info() (6.1) / the "Pid:" line of the old x86 dump_stack(); "" if none. */
export function cpuLine(k: SplatHost): string {
  const { era, arch, release, versionString } = k.profile;
  const ver = utsVersion(versionString);
  const tok = ver.split(" ")[0];
  const comm = k.current.comm.slice(0, 15); // TASK_COMM_LEN 16
  if (era === "6.1") {
    // Debian's patch appends LINUX_PACKAGE_ID (" Debian 6.1.192-2", or "" for a kernel built outside the package)
    const deb = / Debian (\S+)/.exec(ver);
    return `CPU: 0 PID: ${k.current.pid} Comm: ${comm} ${k.taint.print_tainted()} ${release} ${tok} ${deb ? " Debian " + deb[1] : ""}`;
  }
  if (!isX86(arch)) return "";
  return `Pid: ${k.current.pid}, comm: ${comm} ${k.taint.print_tainted()} ${release} ${tok}`;
}

/** dump_stack_print_info(): CPU line and, when the board is known, "Hardware name:" (6.1). */
export function dump_stack_print_info(k: SplatHost, level = KERN_DEFAULT): void {
  const l = cpuLine(k);
  if (l) k.printk(level + "%s\n", l);
  if (k.profile.era === "6.1" && k.profile.board) k.printk(level + "Hardware name: %s\n", k.profile.board);
  // print_worker_info(): a kworker's "Workqueue: <wq> <%ps of its function>" (6.1, as sched.ts cpuLines)
  const levels = (k as { sched?: { levels?: readonly { workqueue?: string }[] } }).sched?.levels;
  if (k.profile.era === "6.1" && levels?.length === 1 && levels[0].workqueue) k.printk(level + "Workqueue: %s\n", levels[0].workqueue);
}

/** A deterministic byte stream for invented values (register contents, Code: bytes). */
function stream(k: SplatHost, salt: string): () => number {
  let x = (nameHash(salt) ^ Math.imul((k.opts.seed ?? 0) | 0, 0x9e3779b1)) >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Frames.

/** The outer frames of the current context, outermost last. */
export type TraceContext = "insmod" | "rmmod" | "none";

export function contextOf(k: SplatHost, ctx?: TraceContext): TraceContext {
  if (ctx) return ctx;
  if (k.current.comm === "insmod") return "insmod";
  if (k.current.comm === "rmmod") return "rmmod";
  return "none";
}

/** The frames under the module's for a task context (exported for KASAN's saved stacks). */
export function outerFrames(arch: Arch, era: Era, ctx: TraceContext): string[] {
  if (ctx === "none") return [];
  if (era === "6.1") {
    if (ctx === "insmod") {
      switch (arch) {
        case "x86_64":
          return [
            "do_one_initcall+0x59/0x220",
            "do_init_module+0x4a/0x1f0",
            "__do_sys_finit_module+0xac/0x120",
            "do_syscall_64+0x5d/0xb0",
            "entry_SYSCALL_64_after_hwframe+0x6e/0xd8",
          ];
        case "i386":
          return [
            "do_one_initcall+0x4b/0x1f0",
            "do_init_module+0x43/0x1d0",
            "load_module+0x1b0b/0x1d20",
            "__ia32_sys_finit_module+0xa7/0x110",
            "ia32_sys_call+0x2635/0x28a0",
            "__do_fast_syscall_32+0x67/0xb0",
            "do_fast_syscall_32+0x29/0x60",
            "do_SYSENTER_32+0x15/0x20",
            "entry_SYSENTER_32+0x98/0xfb",
          ];
        case "arm":
          return ["do_one_initcall+0x50/0x214", "do_init_module+0x4c/0x1fc", "sys_finit_module+0xcc/0x13c", "ret_fast_syscall+0x0/0x1c"];
        case "arm64":
          return [
            "do_one_initcall",
            "do_init_module",
            "load_module",
            "__do_sys_finit_module",
            "__arm64_sys_finit_module",
            "invoke_syscall",
            "el0_svc_common.constprop.0",
            "do_el0_svc",
            "el0_svc",
            "el0t_64_sync_handler",
            "el0t_64_sync",
          ];
      }
    }
    switch (arch) {
      case "x86_64":
        return ["__do_sys_delete_module.constprop.0", "do_syscall_64+0x5d/0xb0", "entry_SYSCALL_64_after_hwframe+0x6e/0xd8"];
      case "i386":
        return [
          "__ia32_sys_delete_module",
          "ia32_sys_call+0x26e0/0x28a0",
          "__do_fast_syscall_32+0x67/0xb0",
          "do_fast_syscall_32+0x29/0x60",
          "do_SYSENTER_32+0x15/0x20",
          "entry_SYSENTER_32+0x98/0xfb",
        ];
      case "arm":
        return ["sys_delete_module", "ret_fast_syscall+0x0/0x1c"];
      case "arm64":
        return ["__arm64_sys_delete_module", "invoke_syscall", "el0_svc_common.constprop.0", "do_el0_svc", "el0_svc", "el0t_64_sync_handler", "el0t_64_sync"];
    }
  }
  const entry = arch === "x86_64" ? "system_call_fastpath" : arch === "i386" ? "syscall_call" : arch === "arm" ? "ret_fast_syscall+0x0/0x30" : "el0_svc_naked";
  return ctx === "insmod" ? ["do_one_initcall", "sys_init_module", entry] : ["sys_delete_module", entry];
}

/** The module frames of the current call chain as trace entries ("fn+0x1c/0x40 [cell]"), innermost first. */
export function moduleFrames(k: SplatHost): { frames: string[]; stack: ModuleStackFrame[] } {
  const stack = k.captureModuleStack().filter((f) => f.module !== undefined);
  return { frames: stack.map((f) => k.kallsyms.moduleFrame(f.fn, f.module!, f.line)), stack };
}

// ---------------------------------------------------------------------------------------------------------------
// Registers (invented values; formats of the real logs).

/** Register values a caller may pin (e.g. the gfp mask in RBX/RDI); the rest are invented. */
export type RegOverrides = Record<string, bigint | number>;

function kernelStack(k: SplatHost): bigint {
  // VMAP stacks on x86_64 6.1 live in vmalloc space; 32-bit stacks in lowmem; one 16/8 KiB stack per pid
  const pid = BigInt(k.current.pid);
  switch (k.profile.arch) {
    case "x86_64":
      return 0xffffc90000400000n + pid * 0x4000n + 0x3bb0n;
    case "i386":
      return 0xc2d00000n + pid * 0x2000n + 0x1aa4n;
    case "arm":
      return 0xf0900000n + pid * 0x2000n + 0x1e40n;
    case "arm64":
      return 0xffff800008400000n + pid * 0x4000n + 0x3c40n;
  }
}

/** The faulting instruction's first bytes a caller may pin in regs (TRAP0/TRAP1: a page fault's mov, not ud2). */
function trapOf(regs: RegOverrides): [number, number] | undefined {
  return regs.TRAP0 !== undefined ? [Number(regs.TRAP0), Number(regs.TRAP1 ?? 0)] : undefined;
}

/**
 * show_opcodes() of the real builds at the sites their logs show (the 42 bytes before the ip, the ip's byte in <>,
 * 21 after): Debian's amd64 and 686 kernels of test/fixtures/real-kernel, and the custom debug kernel's idle loop.
 * A site the logs do not show gets deterministic invented bytes around the trapping instruction.
 */
const REAL_CODE: Partial<Record<Arch, Record<string, string>>> = {
  x86_64: {
    "__alloc_pages+0x2a9/0x330":
      "Code: 00 00 00 48 89 44 24 08 e9 5f fe ff ff 83 fd 0a 0f 86 d3 fd ff ff 80 3d 3a da 90 01 00 0f 85 5b fe ff ff c6 05 2d da 90 01 01 <0f> 0b e9 4d fe ff ff f7 c2 00 00 08 00 75 55 89 d8 24 7f f7 c2 00",
    "__vmalloc_node_range+0x806/0x880":
      "Code: 48 89 da e8 9c 94 24 00 84 c0 0f 84 cc fa ff ff 48 8b 35 f5 b8 94 01 48 8d 53 08 bf 00 20 00 00 e8 4f 3d dd ff e9 b2 fa ff ff <0f> 0b 31 c0 e9 24 fd ff ff f6 80 39 0c 00 00 01 0f 84 e1 fd ff ff",
    "native_safe_halt+0x13/0x14":
      "Code: 07 00 00 31 c0 48 8d 65 d8 5b 41 5c 41 5d 41 5e 41 5f 5d c3 cc cc cc 8b 05 1a ed 94 00 85 c0 7e 07 0f 00 2d e7 86 5c 00 fb f4 <c3> 55 48 89 e5 e8 e3 ff ff ff 5d c3 55 be 03 00 00 00 65 48 8b 3c",
  },
  i386: {
    "__alloc_pages+0x21e/0xf40":
      "Code: ff 31 db e9 65 ff ff ff 8d 74 26 00 83 7d ac 0a 0f 86 3b fe ff ff 80 3d ea d4 d4 c1 00 0f 85 b1 fe ff ff c6 05 ea d4 d4 c1 01 <0f> 0b 31 db e9 3f ff ff ff 8d b4 26 00 00 00 00 66 90 a9 00 00 08",
    "__vmalloc_node_range+0x442/0x550":
      "Code: 51 1c 81 e2 ff ff fb ff 09 fa 89 51 1c eb 97 64 a1 e8 e6 e5 c1 8b 78 1c 81 48 1c 00 00 04 00 81 e7 00 00 04 00 e9 23 ff ff ff <0f> 0b e9 53 fc ff ff 53 68 ec a4 b2 c1 6a 00 56 e8 29 5c 00 00 83",
  },
};

export function codeLine(k: SplatHost, salt: string, trap: [number, number] = [0x0f, 0x0b]): string {
  // show_opcodes() at an address with no text mapped (a return into an unloaded module): nothing to read there
  // (6.1 show_opcodes(); 2.6/3.4 show_registers() printed "Code: " and, at the first byte it could not read, " Bad EIP
  // value." / " Bad RIP value.")
  if (/^0x[0-9a-f]+$/.test(salt)) {
    if (k.profile.era !== "6.1") return `Code:  Bad ${k.profile.arch === "x86_64" ? "RIP" : "EIP"} value.`;
    return `Code: Unable to access opcode bytes at 0x${(BigInt(salt) - 42n).toString(16)}.`;
  }
  if (k.profile.era === "6.1") {
    const real = REAL_CODE[k.profile.arch]?.[k.kallsyms.frame(salt)];
    if (real) return real;
  }
  const r = stream(k, "code:" + salt);
  const b: string[] = [];
  for (let i = 0; i < 42; i++) b.push(hex(r() & 0xff, 2));
  b.push("<" + hex(trap[0], 2) + ">", hex(trap[1], 2));
  for (let i = 0; i < 20; i++) b.push(hex(r() & 0xff, 2));
  return "Code: " + b.join(" ");
}

/** __show_regs() lines of the kernel-mode registers at `ip` (a frame "fn+0x/0x" or a plain name). */
export function showRegsLines(k: SplatHost, ip: string, regs: RegOverrides = {}): string[] {
  const r = stream(k, "regs:" + ip + ":" + k.current.pid);
  const small = () => BigInt(r() & 0xfff);
  const pick = (name: string, dflt: bigint): bigint => (regs[name] !== undefined ? BigInt(regs[name]) : dflt);
  const sp = kernelStack(k);
  // "0x..." is an ip kallsyms has no symbol for (an unloaded module's text): %pS prints the address
  const ipSym = /^0x[0-9a-f]+$/.test(ip) ? ip : k.kallsyms.frame(ip);
  switch (k.profile.arch) {
    case "x86_64": {
      const v = (n: string, d: bigint) => hex(BigInt.asUintN(64, pick(n, d)), 16);
      return [
        `RIP: 0010:${ipSym}`,
        codeLine(k, ip, trapOf(regs)),
        `RSP: 0018:${v("RSP", sp)} EFLAGS: ${hex(pick("EFLAGS", 0x246n), 8)}`,
        `RAX: ${v("RAX", 0n)} RBX: ${v("RBX", small())} RCX: ${v("RCX", 0n)}`,
        `RDX: ${v("RDX", 0n)} RSI: ${v("RSI", small())} RDI: ${v("RDI", small())}`,
        `RBP: ${v("RBP", small())} R08: ${v("R08", 0n)} R09: ${v("R09", sp - 0xa8n)}`,
        `R10: ${v("R10", small())} R11: ${v("R11", 0xffffffff82ad4448n)} R12: ${v("R12", 0n)}`,
        `R13: ${v("R13", k.kallsyms.textBase() + BigInt(r() & 0xfffff))} R14: ${v("R14", 0x80000000n)} R15: ${v("R15", 0n)}`,
        `FS:  000000001b2ba3c0(0000) GS:ffff88801f400000(0000) knlGS:0000000000000000`,
        `CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033`,
        `CR2: ${v("CR2", 0x500eben)} CR3: ${v("CR3", 0x60fc000n)} CR4: 00000000000006f0`,
      ];
    }
    case "i386": {
      const v = (n: string, d: bigint) => hex(BigInt.asUintN(32, pick(n, d)), 8);
      return [
        `EIP: ${ipSym}`,
        codeLine(k, ip, trapOf(regs)),
        `EAX: ${v("EAX", small())} EBX: ${v("EBX", small())} ECX: ${v("ECX", small())} EDX: ${v("EDX", 0n)}`,
        `ESI: ${v("ESI", 0n)} EDI: ${v("EDI", small())} EBP: ${v("EBP", sp + 0xa4n)} ESP: ${v("ESP", sp)}`,
        `DS: 007b ES: 007b FS: 00d8 GS: 0033 SS: 0068 EFLAGS: ${v("EFLAGS", 0x246n)}`,
        `CR0: 80050033 CR2: ${v("CR2", 0x8145cdcn)} CR3: ${v("CR3", 0x2da0000n)} CR4: 00000690`,
      ];
    }
    case "arm": {
      const v = (n: string, d: bigint) => hex(BigInt.asUintN(32, pick(n, d)), 8);
      const pc = /^0x[0-9a-f]+$/.test(ip) ? BigInt(ip) : k.kallsyms.frameAddress(ip);
      const lr = pc - 0x40n;
      const rr = () => BigInt(r() >>> 0);
      return [
        `PC is at ${ipSym}`,
        `LR is at ${k.kallsyms.symbolize(lr)}`,
        `pc : [<${v("pc", pc)}>]    lr : [<${v("lr", lr)}>]    psr: ${v("psr", 0x60000013n)}`,
        `sp : ${v("sp", sp)}  ip : ${v("ip", sp + 0x20n)}  fp : ${v("fp", sp + 0x44n)}`,
        `r10: ${v("r10", small())}  r9 : ${v("r9", rr())}  r8 : ${v("r8", 0n)}`,
        `r7 : ${v("r7", small())}  r6 : ${v("r6", rr())}  r5 : ${v("r5", 0n)}  r4 : ${v("r4", small())}`,
        `r3 : ${v("r3", 0n)}  r2 : ${v("r2", small())}  r1 : ${v("r1", rr())}  r0 : ${v("r0", 0n)}`,
        `Flags: nZCv  IRQs on  FIQs on  Mode SVC_32  ISA ARM  Segment none`,
        `Control: 10c5387d  Table: ${v("Table", 0x4206406an)}  DAC: 00000051`,
      ];
    }
    case "arm64": {
      const pc = ipSym;
      return [`pstate: 60400005 (nZCv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)`, `pc : ${pc}`, `sp : ${hex(sp, 16)}`];
    }
  }
}

/** The user-mode registers of the syscall entry that end an x86 task trace (template from the real logs). */
function userRegsLines(arch: Arch, ctx: TraceContext): string[] {
  if (ctx === "none") return [];
  if (arch === "x86_64") {
    const orig = ctx === "insmod" ? "0000000000000139" : "00000000000000b0"; // finit_module / delete_module
    return [
      "RIP: 0033:0x47fbe9",
      "Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48",
      `RSP: 002b:00007ffff582f748 EFLAGS: 00000246 ORIG_RAX: ${orig}`,
      "RAX: ffffffffffffffda RBX: 000000001b2bc960 RCX: 000000000047fbe9",
      "RDX: 0000000000000000 RSI: 000000001b2bc960 RDI: 0000000000000003",
      "RBP: 0000000000000003 R08: 000000001b2bc960 R09: 0000000000000000",
      "R10: 0000000000000000 R11: 0000000000000246 R12: 000000001b2bbb90",
      "R13: 000000001b2bbbc0 R14: 0000000000000000 R15: 0000000000000000",
    ];
  }
  if (arch === "i386") {
    return [
      "EIP: 0xb7fd7559",
      "Code: 10 05 03 74 b8 01 10 06 03 74 b4 01 10 07 03 74 b0 01 10 08 03 74 d8 01 00 00 00 00 00 00 00 00 00 51 52 55 89 e5 0f 34 cd 80 <5d> 5a 59 c3 90 90 90 90 8d 76 00 58 b8 77 00 00 00 cd 80 90 8d 76",
      "EAX: ffffffda EBX: 00000003 ECX: 0a11ff20 EDX: 00000000",
      "ESI: 00000001 EDI: 00000000 EBP: 0805417b ESP: bf941d8c",
      "DS: 007b ES: 007b FS: 0000 GS: 0033 SS: 007b EFLAGS: 00000206",
    ];
  }
  if (arch === "arm") {
    return [
      "Exception stack(0xf0939fa8 to 0xf0939ff0)",
      "9fa0:                   d4e4af00 ffffffff 00000003 006fff78 00000000 006ff0bc",
      "9fc0: d4e4af00 ffffffff 006ff0ac 0000017b 00000000 00148d20 006ff024 006ff1d0",
      "9fe0: bea476b8 bea476a8 00049895 00012252",
    ];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------------------
// Call traces.

export interface TraceOptions {
  /** Which task's outer frames end the trace: defaults from k.current.comm (insmod, rmmod, else none). */
  context?: TraceContext;
  level?: string;
  /** Frames before the given kernel frames that the arch's dump_stack itself adds (ARM unwind_backtrace ...). */
  prefix?: string[];
  /**
   * x86 6.1 traces from a trap's registers (WARN): the "? " entries the stack scan finds as the real logs show them,
   * the module's return address (x86_64: above the trap frame, first; i386: just above the module's own frame); on
   * both, the init function's address
   * (do_one_initcall's argument, "? 0x<init layout>") between the module's frames and do_one_initcall.
   */
  unreliable?: boolean;
}

/**
 * Print a call trace in the era's and arch's form: `kernelFrames` (innermost first: "fn+0x/0x" or plain names),
 * then the module's frames, then the context's outer frames (and the syscall entry registers).
 */
export function show_trace(k: SplatHost, kernelFrames: readonly string[], opts: TraceOptions = {}): void {
  const { arch, era } = k.profile;
  const lvl = opts.level ?? KERN_DEFAULT;
  const ctx = contextOf(k, opts.context);
  const mods = moduleFrames(k).frames;
  const before: string[] = [];
  const after: string[] = [];
  let staleModule = false; // i386: the module's return address just above its own frame
  if (opts.unreliable && era === "6.1" && (arch === "x86_64" || arch === "i386") && mods.length) {
    if (arch === "x86_64") before.push("? " + mods[0]);
    else staleModule = true;
    const init = (k as { modules?: { image?: { init: bigint } } }).modules?.image?.init;
    if (ctx === "insmod" && init) after.push("? 0x" + init.toString(16));
  }
  const frames = [...(opts.prefix ?? []), ...kernelFrames, ...mods, ...outerFrames(arch, era, ctx)];
  const ks = k.kallsyms;
  const out = (s: string) => k.printk(lvl + "%s\n", s);
  if (arch === "arm") {
    for (let i = 0; i + 1 < frames.length; i++) {
      const a = ks.parseFrame(frames[i]);
      if (era === "6.1") {
        out(` ${a.name}${a.module ? " [" + a.module + "]" : ""} from ${ks.frame(frames[i + 1])}`);
      } else {
        const b = ks.parseFrame(frames[i + 1]);
        out(`[<${hex(a.addr + BigInt(a.offset), 8)}>] (${ks.frame(frames[i])}) from [<${hex(b.addr + BigInt(b.offset), 8)}>] (${ks.frame(frames[i + 1])})`);
      }
    }
    if (era === "6.1") for (const l of userRegsLines(arch, ctx)) out(l);
    return;
  }
  if (era !== "6.1") {
    out("Call Trace:");
    const w = is64(arch) ? 16 : 8;
    for (const f of frames) {
      const p = ks.parseFrame(f);
      out(` [<${hex(p.addr + BigInt(p.offset), w)}>] ${ks.frame(f)}`);
    }
    return;
  }
  out(arch === "arm64" ? "Call trace:" : "Call Trace:");
  if (arch === "x86_64") out(" <TASK>");
  for (const f of before) out(" ? " + ks.frame(f.slice(2)));
  const lastMod = frames.lastIndexOf(mods[mods.length - 1]!);
  const firstMod = mods.length ? frames.indexOf(mods[0]!) : -1;
  frames.forEach((f, i) => {
    if (staleModule && i === firstMod) out(" ? " + ks.frame(f));
    out(" " + ks.frame(f));
    if (i === lastMod) for (const a of after) out(" " + a);
  });
  for (const l of userRegsLines(arch, ctx)) out(l);
  if (arch === "x86_64") out(" </TASK>");
}

/** The frames dump_stack() itself contributes on top of its caller's, per arch and era. */
function dumpStackPrefix(arch: Arch, era: Era): string[] {
  if (era === "6.1") {
    switch (arch) {
      case "x86_64":
        return ["dump_stack_lvl+0x44/0x5c"];
      case "i386":
        return ["dump_stack_lvl+0x34/0x44", "dump_stack+0xd/0x10"];
      case "arm":
        return ["unwind_backtrace", "show_stack+0x18/0x1c", "dump_stack_lvl+0x40/0x4c"];
      case "arm64":
        return ["dump_backtrace", "show_stack", "dump_stack_lvl", "dump_stack"];
    }
  }
  return arch === "arm" ? ["unwind_backtrace+0x0/0xf0", "dump_stack"] : [];
}

export interface DumpStackOptions extends TraceOptions {
  /** Record the output as a Report of this kind (dump_stack alone records nothing otherwise). */
  report?: { kind: ReportKind; title: string; explain?: string };
}

/**
 * dump_stack(): the CPU line, "Hardware name:" and the call trace. kernelFrames are the callers of dump_stack
 * (innermost first), e.g. ["warn_alloc+0x151/0x170", "__vmalloc_node_range+0x838/0x880", "__vmalloc_node+0x4a/0x60"].
 */
export function dump_stack(k: SplatHost, kernelFrames: readonly string[], opts: DumpStackOptions = {}): void {
  const mark = k.log.mark();
  const lvl = opts.level ?? KERN_DEFAULT;
  dump_stack_print_info(k, lvl);
  show_trace(k, kernelFrames, { ...opts, prefix: [...dumpStackPrefix(k.profile.arch, k.profile.era), ...(opts.prefix ?? [])] });
  if (opts.report) recordSplat(k, opts.report.kind, mark, { title: opts.report.title, explain: opts.report.explain });
}

// ---------------------------------------------------------------------------------------------------------------
// End of trace, Oops header.

/** print_oops_end_marker(): "---[ end trace 0000000000000000 ]---" (6.1); a random id, then id+1... (2.6/3.4). */
export function end_trace(k: SplatHost): void {
  let id = 0n;
  if (k.profile.era !== "6.1") {
    const s = state(k);
    if (s.oopsId === undefined) {
      const r = stream(k, "oops_id");
      s.oopsId = (BigInt(r()) << 32n) | BigInt(r());
    } else s.oopsId = BigInt.asUintN(64, s.oopsId + 1n);
    id = s.oopsId;
  }
  k.printk(KERN_WARNING + "---[ end trace %016llx ]---\n", id);
}

/** __die_header() / ARM __die(): "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", with the die counter. */
export function oopsHeader(k: SplatHost, str: string, err: number): string {
  const s = state(k);
  const n = ++s.dieCounter;
  const { arch, era } = k.profile;
  const kasan = k.opts.config === "debug" ? " KASAN" : "";
  if (arch === "arm") {
    return `Internal error: ${str}: ${err.toString(16)} [#${n}] SMP ARM`;
  }
  if (arch === "arm64") return `Internal error: ${str}: ${hex(err, 8)} [#${n}] PREEMPT SMP`;
  if (era === "6.1") return `${str}: ${hex(err & 0xffff, 4)} [#${n}] PREEMPT SMP${kasan} NOPTI`;
  return `${str}: ${hex(err & 0xffff, 4)} [#${n}] SMP `;
}

// ---------------------------------------------------------------------------------------------------------------
// Reports.

/** Build and push the Report of everything printed since `mark`. */
export function recordSplat(k: SplatHost, kind: ReportKind, mark: number, opts: { title?: string; explain?: string; stack?: ModuleStackFrame[] } = {}): Report {
  const lines = k.log.texts(mark);
  const title = opts.title ?? lines.find((l) => !l.startsWith("------------[ cut here ]")) ?? "";
  const stack = opts.stack ?? k.captureModuleStack().filter((f) => f.module !== undefined);
  const frames = stack.map((f) => {
    const fr: { fn: string; line?: number; column?: number } = { fn: f.fn };
    if (f.line !== undefined) fr.line = f.line;
    if (f.column !== undefined) fr.column = f.column;
    return fr;
  });
  const r: Report = { kind, title, text: lines.join("\n") };
  if (frames.length) r.frames = frames;
  const line = stack.find((f) => f.line !== undefined)?.line;
  if (line !== undefined) r.line = line;
  if (opts.explain) r.explain = opts.explain;
  k.report(r);
  return r;
}

/**
 * A generic splat for other subsystems: print `title` and `lines` at `level` (default KERN_DEFAULT), optionally followed by dump_stack(kernelFrames), and record the Report.
 */
export function splat(
  k: SplatHost,
  kind: ReportKind,
  title: string,
  lines: readonly string[],
  opts: { level?: string; dumpStack?: readonly string[]; explain?: string; after?: readonly string[] } = {},
): Report {
  const mark = k.log.mark();
  const lvl = opts.level ?? KERN_DEFAULT;
  k.printk(lvl + "%s\n", title);
  for (const l of lines) k.printk(lvl + "%s\n", l);
  if (opts.dumpStack) dump_stack(k, opts.dumpStack, { level: lvl });
  for (const l of opts.after ?? []) k.printk(lvl + "%s\n", l);
  return recordSplat(k, kind, mark, { title, explain: opts.explain });
}

// ---------------------------------------------------------------------------------------------------------------
// WARN and BUG.

export interface WarnOptions {
  file: string;
  line: number;
  /** The function that warns, as RIP shows it: "__alloc_pages+0x2a9/0x330" or a plain name. */
  fn: string;
  /** Its callers in the kernel, innermost first (before the module's frames). */
  kernelFrames?: readonly string[];
  /** WARN(cond, fmt, ...) message (with or without trailing newline). */
  message?: string;
  kind?: ReportKind;
  explain?: string;
  regs?: RegOverrides;
  context?: TraceContext;
  /** The taint WARN adds (TAINT_WARN; WARN_TAINT() may pass another). */
  taint?: TaintFlag;
}

/** WARN()/WARN_ON(): the whole splat as the era and arch print it; taints W; records a Report (kind "warn"). */
export function warn(k: SplatHost, o: WarnOptions): Report {
  const { arch, era } = k.profile;
  const mark = k.log.mark();
  const stack = k.captureModuleStack().filter((f) => f.module !== undefined);
  const pr = (s: string) => k.printk(KERN_WARNING + "%s\n", s);
  const msg = o.message === undefined ? undefined : o.message.endsWith("\n") ? o.message : o.message + "\n";
  const frames = o.kernelFrames ?? [];
  const caller = k.kallsyms.frame(o.fn);
  let title: string;
  pr("------------[ cut here ]------------");
  if (era === "6.1") {
    const trap = isX86(arch) || arch === "arm64"; // __WARN_FLAGS traps: registers shown, message before WARNING
    if (msg !== undefined && trap) k.printk(KERN_WARNING + "%s", msg);
    title = `WARNING: CPU: 0 PID: ${k.current.pid} at ${o.file}:${o.line} ${caller}`;
    pr(title);
    if (msg !== undefined && !trap) k.printk(KERN_WARNING + "%s", msg);
    print_modules(k);
    if (trap) {
      dump_stack_print_info(k);
      for (const l of showRegsLines(k, o.fn, o.regs)) k.printk(KERN_DEFAULT + "%s\n", l);
      show_trace(k, frames, { context: o.context, unreliable: true });
    } else {
      // ARM: warn_slowpath_fmt -> __warn(regs = NULL) -> dump_stack()
      dump_stack_print_info(k);
      show_trace(k, frames, {
        context: o.context,
        prefix: [...dumpStackPrefix(arch, era), "__warn+0x80/0x11c", "warn_slowpath_fmt+0x18c/0x198", o.fn],
      });
    }
  } else {
    title = `WARNING: at ${o.file}:${o.line} ${caller}()`;
    pr(title);
    if (isX86(arch) && k.profile.board) pr(`Hardware name: ${k.profile.board}`);
    if (msg !== undefined) k.printk(KERN_WARNING + "%s", msg);
    print_modules(k);
    dump_stack_print_info(k);
    const slow = msg !== undefined ? "warn_slowpath_fmt" : "warn_slowpath_null";
    show_trace(k, frames, { context: o.context, prefix: [...dumpStackPrefix(arch, era), "warn_slowpath_common", slow, o.fn] });
  }
  end_trace(k);
  k.taint.add(o.taint ?? "W", true);
  return recordSplat(k, o.kind ?? "warn", mark, { title, explain: o.explain, stack });
}

export interface BugOptions {
  file: string;
  line: number;
  /** Where BUG() sits: "kfree+0x../0x.." or a plain name. */
  fn: string;
  kernelFrames?: readonly string[];
  kind?: ReportKind;
  explain?: string;
  regs?: RegOverrides;
  context?: TraceContext;
}

/** The register dump, trace and module list of die() for an Oops at `fn` (shared by BUG and page faults). */
export function dieBody(
  k: SplatHost,
  fn: string,
  frames: readonly string[],
  regs?: RegOverrides,
  context?: TraceContext,
  traceLines?: readonly string[],
): void {
  const { arch, era } = k.profile;
  const p = (s: string, lvl = KERN_DEFAULT) => k.printk(lvl + "%s\n", s);
  // the trace as the caller made it (the scheduler's context levels: <IRQ> .. </IRQ> <TASK> .. </TASK>), else show_trace's
  const show_trace_ = (opts: TraceOptions) => (traceLines ? traceLines.forEach((l) => p(l, opts.level)) : show_trace(k, frames, opts));
  if (arch === "arm" || arch === "arm64") {
    print_modules(k);
    dump_stack_print_info(k);
    for (const l of showRegsLines(k, fn, regs)) p(l);
    p(`Process ${k.current.comm} (pid: ${k.current.pid}, stack limit = 0x${hex(kernelStack(k) & ~0x1fffn, arch === "arm" ? 8 : 16)})`, KERN_EMERG);
    show_trace_({ context, prefix: arch === "arm" ? ["unwind_backtrace+0x0/0xf0", fn] : [fn], level: KERN_EMERG });
    // dump_instr(): the words around the faulting pc, the undefined instruction BUG() plants in parentheses
    // a pc no text maps (a return into an unloaded module): dump_instr cannot read it
    if (/^0x[0-9a-f]+$/.test(fn)) {
      p("Code: bad PC value", KERN_EMERG);
      return;
    }
    const r = stream(k, "armcode:" + fn);
    const words: string[] = [];
    for (let i = 0; i < 8; i++) words.push(hex(r() >>> 0, 8));
    const instr = regs?.INSTR !== undefined ? hex(BigInt(regs.INSTR), 8) : "e7f001f2"; // a data abort's ldr/str, else BUG()'s udf
    p(`Code: ${words.join(" ")} (${instr}) `, KERN_EMERG);
    return;
  }
  if (era === "6.1") {
    dump_stack_print_info(k);
    for (const l of showRegsLines(k, fn, regs)) p(l);
    show_trace_({ context });
    print_modules(k);
    return;
  }
  // 2.6.32 / 3.4 x86
  print_modules(k);
  p(`${cpuLine(k)} ${k.profile.board}`.trimEnd());
  for (const l of showRegsLines(k, fn, regs)) p(l);
  p(`Process ${k.current.comm} (pid: ${k.current.pid})`);
  show_trace_({ context });
}

/** BUG()/BUG_ON(): "kernel BUG at file:line!", the Oops, end trace; taints D; records a Report (kind "bug"). */
export function bug(k: SplatHost, o: BugOptions): Report {
  const { arch, era } = k.profile;
  const mark = k.log.mark();
  const stack = k.captureModuleStack().filter((f) => f.module !== undefined);
  k.printk(KERN_DEFAULT + "------------[ cut here ]------------\n");
  const title = `kernel BUG at ${o.file}:${o.line}!`;
  k.printk(KERN_CRIT + "%s\n", title);
  const str = arch === "arm" || arch === "arm64" ? "Oops - BUG" : "invalid opcode";
  k.printk((era === "6.1" ? KERN_DEFAULT : KERN_EMERG) + "%s\n", oopsHeader(k, str, 0));
  dieBody(k, o.fn, o.kernelFrames ?? [], o.regs, o.context);
  // oops_end(): add_taint(TAINT_DIE, LOCKDEP_NOW_UNRELIABLE) before oops_exit() prints the end marker
  k.taint.add("D");
  end_trace(k);
  if (era === "6.1" && isX86(arch)) {
    // then the executive summary of the first oops' registers
    for (const l of showRegsLines(k, o.fn, o.regs)) k.printk(KERN_DEFAULT + "%s\n", l);
  }
  return recordSplat(k, o.kind ?? "bug", mark, { title, explain: o.explain, stack });
}
