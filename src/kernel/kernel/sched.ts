// Models include/linux/preempt.h, kernel/sched/core.c (__might_resched, __schedule_bug) and kernel/time/timer.c (msleep, schedule_timeout) of Linux 6.1; 2.6.32 and 3.4 (___might_sleep/__might_sleep) where they differ.
//
// The CPU's execution context: the current task, preempt_count with its PREEMPT/SOFTIRQ/HARDIRQ/NMI fields laid out as
// 6.1 does (kernel-facts §6.1), irqs_disabled, the in_*() predicates, and the sleep checks:
//   - might_sleep()/might_alloc() print "BUG: sleeping function called from invalid context" only with
//     CONFIG_DEBUG_ATOMIC_SLEEP (the "debug" config); the Debian "distro" configs lack it and print nothing, exactly as
//     the real Debian 6.1 logs show;
//   - actually sleeping (msleep, schedule_timeout, a contended mutex, wait_event) in atomic context calls
//     __schedule_bug: "BUG: scheduling while atomic: insmod/108/0x00000002", in every config (schedule_debug() is not
//     a debug option), and then, as the real kernel does, preempt_count is reset to PREEMPT_DISABLED: the real log shows
//     preempt_count=0x0 after msleep() under a spinlock.
// CONFIG_PREEMPT_COUNT: on in the debug config (DEBUG_ATOMIC_SLEEP selects it) and on the x86 Debian 6.1 kernels
// (PREEMPT_DYNAMIC); off on armmp 6.1 and, in the simulator, on the 2.6/3.4 distro kernels (PREEMPT_NONE/VOLUNTARY
// without PREEMPT_COUNT): there spin_lock() leaves preempt_count at 0, so msleep under a spinlock prints nothing (the
// real armhf log shows this). Hardirq and softirq counts are kept in every config.
//
// The "debug" config is the custom 6.1.192 kernel of the real log (DEBUG_ATOMIC_SLEEP, no Hardware name line) plus
// PROVE_LOCKING and DEBUG_PREEMPT: the splat then lists held locks (lockdep), the irq event stamps when interrupts are
// off, and "Preemption disabled at:" with the ip that first raised preempt_count ([<0000000000000000>] 0x0 when the
// kernel itself did, as in real reports).
// Era differences: 2.6/3.4 print "in_atomic(): %d, irqs_disabled(): %d, pid: %d, name: %s" and no
// preempt_count/RCU lines (added ~5.16), no "Preemption disabled at:" (added ~3.16) and add no taint W (the taint came
// with 3.15-era ___might_sleep); the file:line is whatever the calling allocator passes (slab: mm/slab.c for 2.6.32
// SLAB, mm/slub.c for 3.4 SLUB; the allocators document their line numbers).
//
// Simplifications: one CPU; a task "sleeps" by letting simulated time pass while the event loop runs what is due
// (timers, tasklets, interrupts, work) in the idle task's or a kworker's context; sleeping in atomic context prints
// the BUG and still lets the time pass but runs no deferred work (the real machine would likely deadlock or crash
// there); wait_event() takes the condition as a callback and always has a timeout (wait_event without one gives up
// after WAIT_EVENT_LIMIT_MS of simulated time and reports "timeout", instead of hanging the run forever).

import type { Kernel, StackFrame, Task } from "../kernel.ts";
import type { ReportKind } from "../types.ts";
import { kernLevels } from "./printk.ts";
import { codeLine, cpuLine, modulesLinkedIn, recordSplat } from "../debug/splat.ts";
import { EventLoop, type RunLimits, type DrainResult } from "./events.ts";
import { rebindable, stateless } from "../snapshot.ts";
import { threadSize } from "./kthread.ts";

/** runPendingHardirqs before irq.ts registers its hook. */
export const nothingPending = stateless((): void => {});

// include/linux/preempt.h (6.1)
export const PREEMPT_BITS = 8;
export const SOFTIRQ_BITS = 8;
export const HARDIRQ_BITS = 4;
export const NMI_BITS = 4;
export const PREEMPT_OFFSET = 0x1;
export const PREEMPT_MASK = 0x000000ff;
export const SOFTIRQ_OFFSET = 0x100;
export const SOFTIRQ_MASK = 0x0000ff00;
export const SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET;
export const HARDIRQ_OFFSET = 0x10000;
export const HARDIRQ_MASK = 0x000f0000;
export const NMI_OFFSET = 0x100000;
export const NMI_MASK = 0x00f00000;

/** wait_event() without a timeout gives up after this much simulated time (documented simplification). */
export const WAIT_EVENT_LIMIT_MS = 60_000;
/** Sleeping contexts that may run events inside one another (see Sched.cannotIdle). */
export const MAX_SLEEP_NESTING = 16;

/** Where a context came from: the kernel frames below the module's callback, innermost first. */
export interface ContextLevel {
  kind: "task" | "softirq" | "hardirq";
  task: Task;
  /** Kernel frames between the module callback and the bottom of this stack section, innermost first. */
  entry: string[];
  /** Module stack depth (captureModuleStack().length) when this level was entered: frames below belong to older levels. */
  moduleBase: number;
  /** For a kworker: "events my_work_fn" (the "Workqueue:" line). */
  workqueue?: string;
  /** For an interrupt level: the entry frame that opens the interrupted task's section (asm_common_interrupt). */
  interrupted?: string[];
}

/** A fact the grader can read whether or not the kernel printed it (distro configs print nothing for might_sleep). */
export interface ContextViolation {
  kind: "sleep-in-atomic" | "scheduling-while-atomic";
  /** "include/linux/sched/mm.h:274" for might_sleep; "msleep" etc. for a real sleep. */
  where: string;
  preemptCount: number;
  irqsDisabled: boolean;
  task: Task;
  context: "task" | "softirq" | "hardirq";
  /** Printed (false when the config has no check or the rate limit swallowed it). */
  printed: boolean;
  frames: StackFrame[];
  atNs: number;
}

/** A splat's pieces: header lines (printed at KERN_ERR) then the stack; the sandbox attaches the cell line. */
export interface SplatSpec {
  kind: ReportKind;
  title: string;
  lines: string[];
  /** Kernel frames above the module's innermost frame (innermost first): dump_stack_lvl ... __kmalloc. */
  top: string[];
  explain?: string;
  /** Print "Modules linked in:" after `modulesAfter` header lines (scheduling while atomic), or never. */
  modulesAt?: number;
  /** Print no stack (a report that is only text). */
  noStack?: boolean;
}

// The custom 6.1.192 debug kernel's frames (real log, x86_64): exact offsets where the log shows them.
const DEBUG_X86_64: Record<string, string> = {
  dump_stack_lvl: "dump_stack_lvl+0x3a/0x4c",
  dump_stack: "dump_stack+0x10/0x12",
  __might_resched: "__might_resched+0x156/0x168",
  __might_sleep: "__might_sleep+0x5c/0x61",
  "slab_pre_alloc_hook.constprop.0": "slab_pre_alloc_hook.constprop.0+0x2a/0x4d",
  __kmem_cache_alloc_node: "__kmem_cache_alloc_node+0x29/0xf1",
  __kmalloc: "__kmalloc+0x3b/0x3d",
  do_one_initcall: "do_one_initcall+0x7a/0x16a",
  do_init_module: "do_init_module+0x4a/0x1b2",
  load_module: "load_module+0x1723/0x1894",
  __do_sys_finit_module: "__do_sys_finit_module+0xa4/0xb4",
  __x64_sys_finit_module: "__x64_sys_finit_module+0x13/0x15",
  x64_sys_call: "x64_sys_call+0xbc2/0xd6e",
  do_syscall_64: "do_syscall_64+0x3d/0x4c",
  entry_SYSCALL_64_after_hwframe: "entry_SYSCALL_64_after_hwframe+0x4b/0xb5",
  "call_timer_fn.constprop.0": "call_timer_fn.constprop.0+0x13/0x71",
  __run_timers: "__run_timers+0x18c/0x1ae",
  run_timer_softirq: "run_timer_softirq+0x18/0x2e",
  handle_softirqs: "handle_softirqs+0xb5/0x1a9",
  __do_softirq: "__do_softirq+0xb/0xd",
  __irq_exit_rcu: "__irq_exit_rcu+0x53/0x91",
  irq_exit_rcu: "irq_exit_rcu+0x9/0xb",
  sysvec_apic_timer_interrupt: "sysvec_apic_timer_interrupt+0x62/0x7b",
  asm_sysvec_apic_timer_interrupt: "asm_sysvec_apic_timer_interrupt+0x1b/0x20",
  __schedule_bug: "__schedule_bug+0x4b/0x5a",
  __schedule: "__schedule+0x9c/0x424",
  schedule: "schedule+0x6e/0x9e",
  schedule_timeout: "schedule_timeout+0xb2/0xd6",
  schedule_timeout_uninterruptible: "schedule_timeout_uninterruptible+0x27/0x29",
  msleep: "msleep+0x17/0x1e",
  native_safe_halt: "native_safe_halt+0x13/0x14",
  amd_e400_idle: "amd_e400_idle+0x14/0x30",
  arch_cpu_idle: "arch_cpu_idle+0xa/0xc",
  default_idle_call: "default_idle_call+0x17/0x20",
  do_idle: "do_idle+0xd1/0x199",
  cpu_startup_entry: "cpu_startup_entry+0x27/0x29",
  rest_init: "rest_init+0xb9/0xb9",
  arch_call_rest_init: "arch_call_rest_init+0x9/0xa",
  start_kernel: "start_kernel+0x575/0x587",
  x86_64_start_reservations: "x86_64_start_reservations+0x24/0x26",
  x86_64_start_kernel: "x86_64_start_kernel+0x87/0x8c",
  secondary_startup_64_no_verify: "secondary_startup_64_no_verify+0xdf/0xeb",
};

/** The kernel frames below a module's module_init (insmod's finit_module path), innermost first, per arch. */
export function insmodEntry(k: Kernel): string[] {
  switch (k.profile.arch) {
    case "x86_64":
      return k.debug
        ? [
            "do_one_initcall",
            "do_init_module",
            "load_module",
            "__do_sys_finit_module",
            "__x64_sys_finit_module",
            "x64_sys_call",
            "do_syscall_64",
            "entry_SYSCALL_64_after_hwframe",
          ]
        : ["do_one_initcall", "do_init_module", "__do_sys_finit_module", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"];
    case "i386":
      return [
        "do_one_initcall",
        "do_init_module",
        "load_module",
        "__ia32_sys_finit_module",
        "ia32_sys_call",
        "__do_fast_syscall_32",
        "do_fast_syscall_32",
        "do_SYSENTER_32",
        "entry_SYSENTER_32",
      ];
    case "arm":
      return ["do_one_initcall", "do_init_module", "load_module", "sys_finit_module", "ret_fast_syscall"];
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

/** rmmod's delete_module path below module_exit. */
export function rmmodEntry(k: Kernel): string[] {
  switch (k.profile.arch) {
    case "x86_64":
      return ["__do_sys_delete_module", "__x64_sys_delete_module", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"];
    case "i386":
      return ["__ia32_sys_delete_module", "__do_fast_syscall_32", "do_fast_syscall_32", "do_SYSENTER_32", "entry_SYSENTER_32"];
    case "arm":
      return ["sys_delete_module", "ret_fast_syscall"];
    case "arm64":
      return ["__arm64_sys_delete_module", "invoke_syscall", "el0_svc_common.constprop.0", "do_el0_svc", "el0_svc", "el0t_64_sync_handler", "el0t_64_sync"];
  }
}

/** The idle task's stack under an interrupt that arrived while the CPU idled (real log, x86_64). */
export function idleEntry(k: Kernel): string[] {
  switch (k.profile.arch) {
    case "x86_64":
      return [
        "arch_cpu_idle",
        "default_idle_call",
        "do_idle",
        "cpu_startup_entry",
        "rest_init",
        "arch_call_rest_init",
        "start_kernel",
        "x86_64_start_reservations",
        "x86_64_start_kernel",
        "secondary_startup_64_no_verify",
      ];
    case "i386":
      return [
        "arch_cpu_idle",
        "default_idle_call",
        "do_idle",
        "cpu_startup_entry",
        "rest_init",
        "arch_call_rest_init",
        "start_kernel",
        "i386_start_kernel",
        "startup_32_smp",
      ];
    case "arm":
      return ["arch_cpu_idle", "default_idle_call", "do_idle", "cpu_startup_entry", "rest_init", "arch_post_acpi_subsys_init", "start_kernel"];
    case "arm64":
      return ["arch_cpu_idle", "default_idle_call", "do_idle", "cpu_startup_entry", "rest_init", "arch_call_rest_init", "start_kernel", "__primary_switched"];
  }
}

export class Sched {
  private readonly k: Kernel;
  readonly loop: EventLoop;
  /** preempt_count() (without x86's inverted PREEMPT_NEED_RESCHED bit). */
  count = 0;
  private irqsOff = false;
  readonly rcuDepth = 0;
  /** CONFIG_PREEMPT_COUNT: spinlocks and preempt_disable() are visible in preempt_count. */
  readonly preemptCountConfig: boolean;
  /** CONFIG_DEBUG_ATOMIC_SLEEP. */
  readonly atomicSleepCheck: boolean;
  /** CONFIG_DEBUG_PREEMPT (debug config, 3.16+ format only). */
  readonly debugPreempt: boolean;
  /** __might_resched's static prev_jiffy (rate limit: one report per HZ). */
  private prevJiffy = 0;
  /** preempt_disable_ip: the frame that raised preempt_count from 0 ("" when the kernel did). */
  preemptDisableIp = "";
  /** irq tracing for lockdep's "irq event stamp" lines. */
  irqTrace = { events: 0, hardOn: 0, hardOnIp: "", hardOff: 0, hardOffIp: "", softOn: 0, softOnIp: "", softOff: 0, softOffIp: "" };
  readonly idle: Task = { pid: 0, comm: "swapper/0" };
  readonly kworker: Task;
  /** The stack of contexts: [0] is the task level (insmod, rmmod, kworker, or the idle task). */
  readonly levels: ContextLevel[];
  readonly violations: ContextViolation[] = [];
  /** Set while a task sleeps in atomic context: deferred work does not run meanwhile. */
  private atomicSleep = false;

  constructor(k: Kernel) {
    this.k = k;
    this.loop = new EventLoop(k);
    this.atomicSleepCheck = k.debug;
    this.debugPreempt = k.debug && k.profile.era === "6.1";
    // Debian 6.1 x86 kernels: PREEMPT_DYNAMIC selects PREEMPT_COUNT; armmp 6.1 and the old distro kernels do not.
    this.preemptCountConfig = k.debug || (k.profile.era === "6.1" && (k.profile.arch === "x86_64" || k.profile.arch === "i386"));
    this.kworker = { pid: 20, comm: "kworker/0:1" };
    this.levels = [{ kind: "task", task: k.current, entry: [], moduleBase: 0 }];
  }

  // ---- preempt_count and the predicates (include/linux/preempt.h) -----------------------------------------

  preempt_count(): number {
    return this.count;
  }
  irqs_disabled(): boolean {
    return this.irqsOff;
  }
  in_nmi(): number {
    return this.count & NMI_MASK;
  }
  in_hardirq(): number {
    return this.count & HARDIRQ_MASK;
  }
  in_irq(): number {
    return this.in_hardirq();
  }
  in_softirq(): number {
    return this.count & SOFTIRQ_MASK;
  }
  in_serving_softirq(): number {
    return this.count & SOFTIRQ_OFFSET;
  }
  in_interrupt(): number {
    return this.count & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK);
  }
  in_task(): boolean {
    return !(this.count & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET));
  }
  in_atomic(): boolean {
    return this.count !== 0;
  }

  /** The module's innermost frame, formatted, for preempt_disable_ip and irq tracing ("" if none). */
  private callerIp(): string {
    const f = this.k.captureModuleStack()[0];
    if (!f) return "";
    return this.k.kallsyms.moduleFrame(f.fn, f.module ?? this.moduleName(), f.line);
  }

  moduleName(): string {
    return (this.k as unknown as { modules?: { name?: string } }).modules?.name ?? "cell";
  }

  /** preempt_count_add(): record the ip that raised the count from 0 (DEBUG_PREEMPT's preempt_latency_start). */
  private countAdd(val: number, ip: string | undefined): void {
    if (this.count === 0 && this.debugPreempt) this.preemptDisableIp = ip ?? this.callerIp();
    this.count += val;
  }
  private countSub(val: number): void {
    this.count -= val;
  }

  preempt_disable(ip?: string): void {
    if (this.preemptCountConfig) this.countAdd(PREEMPT_OFFSET, ip);
  }
  preempt_enable(): void {
    if (this.preemptCountConfig && this.count & PREEMPT_MASK) this.countSub(PREEMPT_OFFSET);
  }

  private traceIrq(on: boolean, ip?: string): void {
    const t = this.irqTrace;
    t.events++;
    if (on) {
      t.hardOn = t.events;
      t.hardOnIp = ip ?? this.callerIp();
    } else {
      t.hardOff = t.events;
      t.hardOffIp = ip ?? this.callerIp();
    }
  }

  local_irq_disable(ip?: string): void {
    if (!this.irqsOff) this.traceIrq(false, ip);
    this.irqsOff = true;
  }
  local_irq_enable(ip?: string): void {
    if (this.irqsOff) this.traceIrq(true, ip);
    this.irqsOff = false;
    this.runPendingHardirqs();
  }
  /** local_irq_save(flags): returns flags (x86 EFLAGS.IF 0x200 when interrupts were on, 0 when off). */
  local_irq_save(ip?: string): number {
    const flags = this.irqsOff ? 0 : 0x200;
    this.local_irq_disable(ip);
    return flags;
  }
  local_irq_restore(flags: number, ip?: string): void {
    if (flags & 0x200) this.local_irq_enable(ip);
    else this.local_irq_disable(ip);
  }

  local_bh_disable(ip?: string): void {
    const t = this.irqTrace;
    if (!(this.count & SOFTIRQ_MASK)) {
      t.events++;
      t.softOff = t.events;
      t.softOffIp = ip ?? this.callerIp();
    }
    this.countAdd(SOFTIRQ_DISABLE_OFFSET, ip);
  }
  local_bh_enable(ip?: string): void {
    if ((this.count & SOFTIRQ_MASK) >= SOFTIRQ_DISABLE_OFFSET) this.countSub(SOFTIRQ_DISABLE_OFFSET);
    if (!(this.count & SOFTIRQ_MASK)) {
      const t = this.irqTrace;
      t.events++;
      t.softOn = t.events;
      t.softOnIp = ip ?? this.callerIp();
    }
  }

  /** Interrupts raised while they were off wait for local_irq_enable (irq.ts registers the hook). */
  runPendingHardirqs: () => void = nothingPending;

  // ---- contexts --------------------------------------------------------------------------------------------

  get current(): Task {
    return this.k.current;
  }

  /** The level the CPU runs now. */
  top(): ContextLevel {
    this.sync();
    return this.levels[this.levels.length - 1];
  }

  /** The kernel frames below a task's module code, from its comm (insmod, rmmod, the idle task, a kworker). */
  entryFor(task: Task): string[] {
    if (task.comm === "insmod") return insmodEntry(this.k);
    if (task.comm === "rmmod") return rmmodEntry(this.k);
    if (task.pid === 0) return idleEntry(this.k);
    return [];
  }

  /** The sandbox sets k.current (insmod, rmmod) itself: keep the task level in step with it. */
  sync(): void {
    const b = this.levels[0];
    const cur = this.k.current;
    if (this.levels.length === 1 && (b.task.pid !== cur.pid || b.task.comm !== cur.comm)) {
      if (cur.comm === "insmod") this.k.kmemleak?.noteLoad(cur);
      this.levels[0] = { kind: "task", task: cur, entry: this.entryFor(cur), moduleBase: 0 };
    }
  }

  /** Module stack depth now; only asked when entering a context from inside module code (a nested drain). */
  private moduleDepth(): number {
    return this.levels.length > 1 || this.loop.depth > 0 || this.inModuleCall || this.k.current.pid !== 0 ? this.k.captureModuleStack().length : 0;
  }

  /** Set by module.ts while module_init/module_exit (or any module call from the sandbox) runs. */
  inModuleCall = false;

  /**
   * Run fn as the given task in process context (insmod's module_init, rmmod's module_exit, a kworker's work
   * function). The context is restored in a finally block; exceptions propagate.
   */
  runAsTask<T>(task: Task, entry: string[], fn: () => T, workqueue?: string): T {
    const savedCurrent = this.k.current;
    const savedLevels = this.levels.splice(0);
    const savedCount = this.count;
    const savedIrq = this.irqsOff;
    this.k.current = task;
    this.levels.push({ kind: "task", task, entry, moduleBase: this.k.captureModuleStack === undefined ? 0 : this.moduleDepth(), workqueue });
    this.count = 0;
    this.irqsOff = false;
    try {
      return fn();
    } finally {
      this.levels.splice(0, this.levels.length, ...savedLevels);
      this.k.current = savedCurrent;
      this.count = savedCount;
      this.irqsOff = savedIrq;
    }
  }

  /** Enter softirq context (serving a softirq: count += SOFTIRQ_OFFSET) on top of whatever runs, run fn, leave. */
  runSoftirq<T>(entry: string[], fn: () => T, interrupted: string[] = ["asm_sysvec_apic_timer_interrupt"]): T {
    return this.runIrqLevel("softirq", SOFTIRQ_OFFSET, entry, fn, interrupted);
  }

  /** Enter hardirq context (count += HARDIRQ_OFFSET, interrupts off), run fn, leave. */
  runHardirq<T>(entry: string[], fn: () => T, interrupted: string[] = ["asm_common_interrupt"]): T {
    return this.runIrqLevel("hardirq", HARDIRQ_OFFSET, entry, fn, interrupted);
  }

  private runIrqLevel<T>(kind: "softirq" | "hardirq", offset: number, entry: string[], fn: () => T, interrupted: string[]): T {
    const savedCount = this.count;
    const savedIrq = this.irqsOff;
    const savedIp = this.preemptDisableIp;
    const savedCurrent = this.k.current;
    this.sync();
    const base = this.moduleDepth();
    this.levels.push({ kind, task: this.k.current, entry, moduleBase: base, interrupted });
    if (this.count === 0 && this.debugPreempt) this.preemptDisableIp = "";
    this.count += offset;
    if (kind === "hardirq") {
      // the CPU disables interrupts on entry: lockdep's irq tracing sees it at the entry stub
      if (!this.irqsOff) this.traceIrq(false, this.kframe(interrupted[0] ?? "common_interrupt"));
      this.irqsOff = true;
    }
    try {
      return fn();
    } finally {
      this.levels.pop();
      this.count = savedCount;
      this.irqsOff = savedIrq;
      this.preemptDisableIp = savedIp;
      this.k.current = savedCurrent;
    }
  }

  /** True while the current task sleeps and the CPU idles (events then interrupt the idle task). */
  sleeping = false;

  // ---- the event loop (events.ts) --------------------------------------------------------------------------

  /** Drain deferred work after module_init, up to a bound (the sandbox calls k.runDeferred). */
  runDeferred(limits: RunLimits = {}): DrainResult {
    const saved = this.k.current;
    this.k.current = this.idle;
    const savedLevels = this.levels.splice(0, this.levels.length, { kind: "task", task: this.idle, entry: idleEntry(this.k), moduleBase: 0 });
    const savedSleeping = this.sleeping;
    const restore = this.enterIdle();
    this.sleeping = true;
    try {
      return this.loop.drain(limits);
    } finally {
      this.sleeping = savedSleeping;
      restore();
      this.levels.splice(0, this.levels.length, ...savedLevels);
      this.k.current = saved;
    }
  }

  /**
   * The idle task runs with preemption disabled (init_idle: PREEMPT_DISABLED), so an interrupt of the idle loop
   * sees preempt_count 0x10001 and its softirq 0x101, as the real x86 logs show (0x10000 / 0x100 on armmp, which
   * has no PREEMPT_COUNT). Returns the function that restores the sleeping task's state.
   */
  private enterIdle(): () => void {
    const c = this.count;
    const irq = this.irqsOff;
    const ip = this.preemptDisableIp;
    this.count = this.preemptCountConfig ? PREEMPT_OFFSET : 0;
    this.irqsOff = false;
    this.preemptDisableIp = "";
    return () => {
      this.count = c;
      this.irqsOff = irq;
      this.preemptDisableIp = ip;
    };
  }

  /** Let ms of simulated time pass with the CPU idle, running whatever falls due ("sim.advance(ms)"). */
  advance(ms: number): void {
    this.idleUntil(this.k.clock.now() + ms * 1e6);
  }

  /**
   * A sleep here lets nothing run (atomic context, an interrupt level, interrupts off): time passes, that is all.
   * Simplification: what falls due while a task sleeps runs on the sleeper's own (host) stack, so work items that
   * sleep while more of them are queued would nest one inside the other without bound, where the real kernel runs
   * them on other kworkers, each with its own stack. Past MAX_SLEEP_NESTING nested sleeps the innermost sleeper's
   * time just passes, and the events wait for an outer sleeper (or the drain after init) to run them.
   */
  private cannotIdle(): boolean {
    return this.atomicSleep || this.levels.length > 1 || this.count !== 0 || this.irqsOff || this.loop.depth >= MAX_SLEEP_NESTING;
  }

  /**
   * The current task sleeps until `until` (ns): the CPU idles (current = swapper/0) and runs the events due
   * meanwhile; then the task runs again. In atomic context (a BUG was printed) time passes but nothing runs.
   */
  idleUntil(until: number): void {
    this.sync();
    if (this.cannotIdle()) {
      this.k.clock.setAtLeast(until);
      return;
    }
    const saved = this.k.current;
    const base = this.inModuleCall || this.loop.depth > 0 || saved.pid !== 0 ? this.k.captureModuleStack().length : 0;
    const savedLevels = this.levels.splice(0, this.levels.length, { kind: "task", task: this.idle, entry: idleEntry(this.k), moduleBase: base });
    const savedSleeping = this.sleeping;
    this.k.current = this.idle;
    const restore = this.enterIdle();
    this.sleeping = true;
    try {
      this.loop.runUntil(until);
    } finally {
      this.sleeping = savedSleeping;
      restore();
      this.levels.splice(0, this.levels.length, ...savedLevels);
      this.k.current = saved;
    }
  }

  // ---- might_sleep (kernel/sched/core.c __might_resched / ___might_sleep) -----------------------------------

  /** gfpflags_allow_blocking(): __GFP_DIRECT_RECLAIM (0x400) in 6.1, __GFP_WAIT (0x10) before 4.4. */
  gfpAllowsBlocking(gfp: number): boolean {
    return this.k.profile.era === "6.1" ? (gfp & 0x400) !== 0 : (gfp & 0x10) !== 0;
  }

  /** might_alloc(gfp) from slab_pre_alloc_hook / prepare_alloc_pages: might_sleep_if(gfpflags_allow_blocking(gfp)). */
  might_alloc(gfp: number, file: string, line: number, top?: string[]): void {
    if (this.gfpAllowsBlocking(gfp)) this.might_sleep(file, line, top ?? this.allocTop(file));
  }

  /** The kernel frames above the module for an allocator's might_sleep (as the real custom log shows for kmalloc). */
  private allocTop(file: string): string[] {
    if (this.k.profile.era !== "6.1") {
      if (file.startsWith("mm/vmalloc.c")) return ["__get_vm_area_node", "__vmalloc_node", "vmalloc"];
      if (file.startsWith("mm/page_alloc.c")) return ["__alloc_pages_nodemask", "__get_free_pages"];
      return file.startsWith("mm/slab.c") ? ["cache_alloc_debugcheck_before", "__kmalloc"] : ["__kmalloc"];
    }
    if (file.startsWith("mm/vmalloc.c")) return ["alloc_vmap_area", "__get_vm_area_node", "__vmalloc_node_range", "__vmalloc_node", "vmalloc"];
    if (file.startsWith("mm/page_alloc.c") || file.includes("gfp.h")) return ["prepare_alloc_pages.constprop.0", "__alloc_pages", "__get_free_pages"];
    return ["slab_pre_alloc_hook.constprop.0", "__kmem_cache_alloc_node", "__kmalloc"];
  }

  /** might_sleep(): report a call that may sleep from a context that must not (CONFIG_DEBUG_ATOMIC_SLEEP). */
  might_sleep(file = "kernel/sched/core.c", line = 0, top: string[] = []): void {
    this.checkMightSleep(file, line, 0, top);
  }

  /** The check of __might_resched(file, line, offsets): silent when preempt_count matches and irqs are on. */
  checkMightSleep(file: string, line: number, expectedPreempt: number, top: string[]): void {
    const k = this.k;
    this.sync();
    const idle = this.k.current.pid === 0;
    // With !PREEMPT_COUNT, preempt_count_equals() compares against PREEMPT_DISABLE_OFFSET 0 as well.
    if (this.count === expectedPreempt && !this.irqsOff && !idle) return;
    const violation: ContextViolation = {
      kind: "sleep-in-atomic",
      where: `${file}:${line}`,
      preemptCount: this.count,
      irqsDisabled: this.irqsOff,
      task: { ...k.current },
      context: this.top().kind,
      printed: false,
      frames: k.captureModuleStack(),
      atNs: k.clock.now(),
    };
    this.violations.push(violation);
    if (!this.atomicSleepCheck) return;
    if ((k as unknown as { oopsInProgress?: boolean }).oopsInProgress) return;
    const jiffies = k.clock.jiffies;
    if (this.prevJiffy && jiffies - (this.prevJiffy + k.clock.hz) < 0) return; // time_before(jiffies, prev_jiffy + HZ)
    this.prevJiffy = jiffies;
    violation.printed = true;

    const cur = k.current;
    const lines: string[] = [`BUG: sleeping function called from invalid context at ${file}:${line}`];
    if (k.profile.era === "6.1") {
      lines.push(`in_atomic(): ${this.in_atomic() ? 1 : 0}, irqs_disabled(): ${this.irqsOff ? 1 : 0}, non_block: 0, pid: ${cur.pid}, name: ${cur.comm}`);
      lines.push(`preempt_count: ${this.count.toString(16)}, expected: ${expectedPreempt.toString(16)}`);
      lines.push(`RCU nest depth: ${this.rcuDepth}, expected: 0`);
    } else {
      lines.push(`in_atomic(): ${this.in_atomic() ? 1 : 0}, irqs_disabled(): ${this.irqsOff ? 1 : 0}, pid: ${cur.pid}, name: ${cur.comm}`);
    }
    lines.push(...this.heldLocksLines());
    if (this.irqsOff) lines.push(...this.irqTraceLines());
    if (this.debugPreempt && this.count !== expectedPreempt) lines.push(...this.preemptDisabledAtLines());
    const traceTop = ["__might_resched", "__might_sleep", ...top];
    this.emit({ kind: "sleep-in-atomic", title: lines[0], lines, top: k.profile.era === "6.1" ? traceTop : ["__might_sleep", ...top] });
    if (k.profile.era === "6.1") k.taint.add("W");
  }

  /** lockdep's held-locks lines (lockdep.ts fills them in; nothing without lockdep). */
  heldLocksLines(task: Task = this.k.current): string[] {
    const ld = (this.k as unknown as { lockdep?: { heldLocksLines(t: Task): string[] } }).lockdep;
    return ld ? ld.heldLocksLines(task) : [];
  }

  /** print_irqtrace_events() (TRACE_IRQFLAGS, with lockdep in the debug config). */
  irqTraceLines(): string[] {
    const ld = (this.k as unknown as { lockdep?: { enabled: boolean } }).lockdep;
    if (!ld?.enabled) return [];
    const t = this.irqTrace;
    const ip = (s: string) => this.ipSym(s);
    return [
      `irq event stamp: ${t.events}`,
      `hardirqs last  enabled at (${t.hardOn}): ${ip(t.hardOnIp)}`,
      `hardirqs last disabled at (${t.hardOff}): ${ip(t.hardOffIp)}`,
      `softirqs last  enabled at (${t.softOn}): ${ip(t.softOnIp)}`,
      `softirqs last disabled at (${t.softOff}): ${ip(t.softOffIp)}`,
    ];
  }

  /** print_ip_sym(): "[<%px>] %pS" of a formatted frame, or "[<0000000000000000>] 0x0". */
  ipSym(frame: string): string {
    const w = this.k.layout?.bits === 32 || this.k.profile.arch === "i386" || this.k.profile.arch === "arm" ? 8 : 16;
    if (!frame) return `[<${"0".repeat(w)}>] 0x0`;
    const addr = this.k.kallsyms.frameAddress(frame);
    return `[<${addr.toString(16).padStart(w, "0")}>] ${frame}`;
  }

  private preemptDisabledAtLines(): string[] {
    return ["Preemption disabled at:", this.ipSym(this.preemptDisableIp)];
  }

  // ---- schedule (kernel/sched/core.c schedule_debug / __schedule_bug) ---------------------------------------

  /**
   * schedule(): the current task gives up the CPU. In atomic context (in_atomic_preempt_off(): preempt_count other
   * than the 1 __schedule itself adds) it prints "BUG: scheduling while atomic" and resets preempt_count to
   * PREEMPT_DISABLED, as the kernel does. `top`: the kernel frames between schedule and the module (msleep ...).
   */
  schedule(top: string[] = [], untilNs?: number): void {
    const k = this.k;
    this.sync();
    // __schedule runs with preempt_count + 1 (preempt_disable in schedule()).
    const pc = this.count + (this.preemptCountConfig ? PREEMPT_OFFSET : 0);
    const expected = this.preemptCountConfig ? PREEMPT_OFFSET : 0;
    const atomic = pc !== expected || (this.irqsOff && false);
    if (atomic) {
      const cur = k.current;
      const lines = [`BUG: scheduling while atomic: ${cur.comm}/${cur.pid}/0x${(pc >>> 0).toString(16).padStart(8, "0")}`];
      this.violations.push({
        kind: "scheduling-while-atomic",
        where: top[top.length - 1] ?? "schedule",
        preemptCount: this.count,
        irqsDisabled: this.irqsOff,
        task: { ...cur },
        context: this.top().kind,
        printed: true,
        frames: k.captureModuleStack(),
        atNs: k.clock.now(),
      });
      lines.push(...this.heldLocksLines());
      const modulesAt = lines.length;
      if (this.irqsOff) lines.push(...this.irqTraceLines());
      if (this.debugPreempt) lines.push(...this.preemptDisabledAtLines());
      const traceTop =
        k.profile.era === "2.6"
          ? ["__schedule_bug", "schedule", ...top]
          : k.profile.era === "3.4"
            ? ["__schedule_bug", "__schedule", "schedule", ...top]
            : k.debug && k.profile.arch === "x86_64"
              ? ["__schedule_bug", "__schedule", "schedule", ...top]
              : ["__schedule_bug.cold", "__schedule", "schedule", ...top];
      this.emit({ kind: "scheduling-while-atomic", title: lines[0], lines, top: traceTop, modulesAt });
      if (k.profile.era === "6.1") k.taint.add("W");
      // schedule_debug(): preempt_count_set(PREEMPT_DISABLED); after __schedule returns, preempt_enable -> 0.
      // Only the PREEMPT field is reset in the simulator; an interrupt handler's HARDIRQ/SOFTIRQ count is not.
      this.count &= ~PREEMPT_MASK;
      this.atomicSleep = true;
      try {
        if (untilNs !== undefined) this.idleUntil(untilNs);
      } finally {
        this.atomicSleep = false;
      }
      return;
    }
    if (untilNs !== undefined) this.idleUntil(untilNs);
  }

  /** schedule_timeout(timeout jiffies): sleep; returns the jiffies left (0: the full timeout passed). */
  schedule_timeout(timeout: number, top: string[] = []): number {
    const ns = Math.max(0, timeout) * this.k.clock.tickNsec;
    this.schedule(["schedule_timeout", ...top], this.k.clock.now() + ns);
    return 0;
  }

  /** msleep(ms): sleeps at least msecs_to_jiffies(ms)+1 jiffies (kernel/time/timer.c). */
  msleep(ms: number): void {
    const j = this.k.clock.msecs_to_jiffies(ms) + 1;
    const top = this.k.debug && this.k.profile.arch === "x86_64" ? ["schedule_timeout_uninterruptible", "msleep"] : ["msleep"];
    this.schedule_timeout(j, top);
  }

  /** ssleep(s) = msleep(s * 1000). */
  ssleep(s: number): void {
    this.msleep(s * 1000);
  }

  /** msleep_interruptible(ms): no signals in the simulator, so it sleeps the full time and returns 0. */
  msleep_interruptible(ms: number): number {
    const j = this.k.clock.msecs_to_jiffies(ms) + 1;
    this.schedule_timeout(j, ["schedule_timeout_interruptible", "msleep_interruptible"]);
    return 0;
  }

  /** usleep_range(min, max): an hrtimer sleep of max us in the simulator (the kernel may wake anywhere in range). */
  usleep_range(min: number, max: number): void {
    const ns = Math.max(min, max) * 1000;
    this.schedule(["schedule_hrtimeout_range_clock", "usleep_range_state"], this.k.clock.now() + ns);
  }

  /** udelay/mdelay: busy-wait, never sleeps (allowed anywhere). */
  udelay(us: number): void {
    this.k.clock.advance(Math.max(0, us) * 1000);
  }

  /**
   * wait_event_timeout(cond, timeout jiffies): might_sleep, then sleep one jiffy at a time until cond() is true or
   * the timeout passes. Returns the jiffies left (at least 1) when cond became true, 0 on timeout, as the kernel does.
   * The waker's wake_up() is not modelled: a jiffy in which some event ran (a timer, a tasklet, work, an IRQ: the
   * only things that could have called wake_up) counts as a wake-up, and the condition is checked again after it,
   * as the kernel checks it after each wake-up; after a quiet jiffy it is not. When nothing can wake the task any
   * more (no event pending, or the task sleeps in atomic context where nothing runs and the BUG was printed once),
   * the rest of the timeout passes at once: the kernel would sleep it through the same way.
   */
  wait_event_timeout(cond: () => unknown, timeout: number, name = "wait_event_timeout"): number {
    this.might_sleep("kernel/sched/wait.c", 0, []);
    if (cond()) return Math.max(1, timeout);
    let left = timeout;
    const tick = this.k.clock.tickNsec;
    while (left > 0) {
      const ran = this.loop.eventsRun;
      this.schedule(["schedule_timeout", name], this.k.clock.now() + tick);
      left--;
      const woken = this.loop.eventsRun !== ran;
      if (woken && cond()) return Math.max(1, left);
      if (!woken && (this.cannotIdle() || this.loop.pending() === 0)) {
        this.k.clock.setAtLeast(this.k.clock.now() + left * tick);
        return 0;
      }
    }
    return 0;
  }

  /** wait_event(cond): no timeout in the kernel; gives up after WAIT_EVENT_LIMIT_MS here with a "timeout" report. */
  wait_event(cond: () => unknown): boolean {
    const j = this.k.clock.msecs_to_jiffies(WAIT_EVENT_LIMIT_MS);
    const left = this.wait_event_timeout(cond, j, "wait_event");
    if (left === 0) {
      const cur = this.k.current;
      const text = `kmodlab: ${cur.comm}/${cur.pid} waited ${WAIT_EVENT_LIMIT_MS / 1000} s (simulated) in wait_event() for a condition that never became true; the real task would hang forever`;
      this.k.report({
        kind: "timeout",
        title: text,
        text,
        frames: this.k.captureModuleStack().map((f) => ({ fn: f.fn, line: f.line, column: f.column })),
        line: this.k.captureModuleStack()[0]?.line,
      });
      return false;
    }
    return true;
  }

  /** vfree from interrupt context (3.10+): the free runs later from a work item (k.sched.defer). */
  // A bound property: vmalloc.ts calls it unbound (`const defer = sched.defer; defer(fn)`); rebindable() so that a
  // kernel snapshot binds its copy to the copied Sched (snapshot.ts).
  defer: (fn: () => void, label?: string) => void = rebindable(Sched.prototype.deferWork, this);

  private deferWork(fn: () => void, label = "delayed_vfree_work"): void {
    const wq = this.k.workqueue;
    if (wq) wq.deferKernelWork(fn, label);
    else this.loop.schedule(this.k.clock.now(), "work", label, fn);
  }

  // ---- splat output -----------------------------------------------------------------------------------------

  /** Module frames of the current context level (innermost first). */
  moduleFrames(level: ContextLevel = this.top()): StackFrame[] {
    const all = this.k.captureModuleStack();
    return all.slice(0, Math.max(0, all.length - level.moduleBase));
  }

  /** Print a splat: header lines at KERN_ERR, then the stack of every context level; push a Report. */
  emit(spec: SplatSpec): void {
    const k = this.k;
    const mark = k.log.mark();
    const lvl = kernLevels(k.profile).KERN_ERR;
    const out = (l: string) => k.printk(lvl + "%s\n", l);
    spec.lines.forEach((l, i) => {
      if (spec.modulesAt === i) out(this.modulesLinkedIn());
      out(l);
    });
    if (spec.modulesAt !== undefined && spec.modulesAt >= spec.lines.length) out(this.modulesLinkedIn());
    if (!spec.noStack) {
      for (const l of this.cpuLines()) out(l);
      for (const l of this.stackLines(spec.top)) out(l);
    }
    recordSplat(k, spec.kind, mark, { title: spec.title, explain: spec.explain });
  }

  modulesLinkedIn(): string {
    return modulesLinkedIn(this.k);
  }

  /** A kernel frame as the trace prints it (the debug kernel's exact offsets on x86_64). */
  kframe(name: string): string {
    if (this.k.debug && this.k.profile.arch === "x86_64" && DEBUG_X86_64[name]) return this.k.kallsyms.frame(DEBUG_X86_64[name]);
    return this.k.kallsyms.frame(name);
  }

  /**
   * dump_stack(): the CPU line, Hardware name, and "Call Trace:" with the sections of each context level
   * (<IRQ> ... </IRQ> for hardirq and softirq run on the irq stack, <TASK> ... </TASK>).
   */
  stackLines(top: string[], all: StackFrame[] = this.k.captureModuleStack(), dumpStackHead = true): string[] {
    const k = this.k;
    this.sync();
    const { arch, era } = k.profile;
    const markers = arch === "x86_64" && era === "6.1";
    // i386 (6.1 dumpstack_32.c stack_type_name()): the task stack has no name, the IRQ and softirq stacks print
    // " <IRQ>" / " <SOFTIRQ>"; only part of an interrupt's path runs on them (i386IrqStackCut)
    const i386Stacks = arch === "i386" && era === "6.1";
    type Item = { marker: string } | { frame: string } | { raw: string };
    const items: Item[] = [];
    const modName = this.moduleName();
    let first = true;
    let inIrq = false;
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const lv = this.levels[i];
      const upper = i === this.levels.length - 1 ? all.length : this.levels[i + 1].moduleBase;
      const irq = lv.kind !== "task";
      if (markers) {
        if (irq && !inIrq) items.push({ marker: " <IRQ>" });
        if (!irq && inIrq) items.push({ marker: " </IRQ>" });
        if (!irq) items.push({ marker: " <TASK>" });
      }
      inIrq = irq;
      const stackName = i386Stacks && irq ? (lv.kind === "softirq" ? "SOFTIRQ" : "IRQ") : undefined;
      if (stackName) items.push({ marker: ` <${stackName}>` });
      if (first) for (const f of [...(dumpStackHead ? this.dumpStackHead() : []), ...top]) items.push({ frame: this.kframe(f) });
      first = false;
      const above = this.levels[i + 1];
      if (!irq && above && above.kind !== "task" && (arch === "x86_64" || arch === "i386")) {
        const interrupted = i386Stacks ? ["handle_exception+0x133/0x133"] : (above.interrupted ?? []);
        for (const f of interrupted) items.push({ frame: this.kframe(f) });
        // show_regs_if_on_stack(): the interrupt frame's registers (SHOW_REGS_SHORT) where the idle task was halted,
        // then the idle loop's frames under it (x86_64 6.1, as the real log shows them; i386 from process_32.c).
        if (arch === "x86_64" && era === "6.1" && lv.task.pid === 0) {
          for (const r of this.idleIrqRegs()) items.push({ raw: r });
          items.push({ raw: " ? " + this.kframe("amd_e400_idle") });
        }
        if (i386Stacks && lv.task.pid === 0) for (const r of this.idleIrqRegs32()) items.push({ raw: r });
      }
      for (const f of all.slice(all.length - upper, all.length - lv.moduleBase))
        items.push({ frame: k.kallsyms.moduleFrame(f.fn, f.module ?? modName, f.line) });
      const entry = era === "6.1" ? lv.entry : this.oldEntry(lv);
      if (stackName) {
        // the frames on the IRQ/softirq stack, the stack's end marker, then the rest on the interrupted task's stack
        const cut = i386IrqStackCut(lv.kind, entry);
        for (const f of entry.slice(0, cut)) items.push({ frame: this.kframe(f) });
        items.push({ marker: ` </${stackName}>` });
        const rest = entry.slice(cut);
        if (cut < entry.length) rest.unshift(lv.kind === "softirq" ? "do_softirq_own_stack" : "__handle_irq");
        for (const f of rest) items.push({ frame: this.kframe(f) });
      } else for (const f of entry) items.push({ frame: this.kframe(f) });
      if (!irq && arch === "x86_64" && era === "6.1" && (lv.task.comm === "insmod" || lv.task.comm === "rmmod")) {
        for (const r of userRegs(k.debug, lv.task.comm === "insmod")) items.push({ raw: r });
      }
      if (!irq && markers) items.push({ marker: " </TASK>" });
    }
    if (inIrq && markers) items.push({ marker: " </IRQ>" });
    return this.formatTrace(items.map((it) => ("marker" in it ? { raw: it.marker } : it)));
  }

  /**
   * The idle task's registers when the timer interrupt came (__show_regs SHOW_REGS_SHORT): RIP just after the hlt in
   * native_safe_halt, the Code: of the real build, RSP in init_task's stack (init_thread_union opens .data: _sdata +
   * THREAD_SIZE - 0x1d0), RBP one word above, R13/R15 in .data (init_task and its fields), R11 in the boot CPU's
   * percpu area; the other values are the real debug boot's (invented beyond that boot, and said so).
   */
  private idleIrqRegs(): string[] {
    const k = this.k;
    const L = k.layout;
    const h = (v: bigint) => BigInt.asUintN(64, v).toString(16).padStart(16, "0");
    const data = L.image.find((s) => s.name === ".data")?.start ?? 0xffffffff81a00000n;
    const rsp = data + 0x3e30n;
    const percpu = L.reservations.find((r) => /percpu/i.test(r.what));
    const r11 = L.pageOffset + BigInt(percpu ? percpu.start : 0x1f400000) + 0x1ff80n;
    const ip = this.kframe("native_safe_halt");
    return [
      `RIP: 0010:${ip}`,
      codeLine(k, ip, [0xc3, 0x55]),
      `RSP: 0018:${h(rsp)} EFLAGS: 00000246`,
      `RAX: 0000000000000000 RBX: 0000000000000000 RCX: 00000000fffee0f9`,
      `RDX: 0000000000000000 RSI: 0000000000000082 RDI: 0000000000000294`,
      `RBP: ${h(rsp + 8n)} R08: 0000000000000004 R09: 0000000000000004`,
      `R10: 00000000000000a6 R11: ${h(r11)} R12: 0000000000000000`,
      `R13: ${h(data + 0x11600n)} R14: 0000000000000000 R15: ${h(data + 0x11118n)}`,
    ];
  }

  /**
   * i386's interrupted idle task (6.1 arch/x86/kernel/process_32.c __show_regs(regs, SHOW_REGS_SHORT) from
   * show_regs_if_on_stack(): EIP, Code:, the EAX/ESI/DS lines and no CR line). No real i386 log shows this block: the
   * format is process_32.c's, as in the real log's user-mode block. Derived: EIP in default_idle just after its
   * "sti; hlt" (i386 6.1 has no PARAVIRT_XXL, so native_safe_halt is inlined there; the bytes after the hlt are
   * "pop %ebp; ret"), ESP in init_thread_union (the start of .data) THREAD_SIZE below its top less the idle loop's
   * frames, EBP == ESP (default_idle's frame pointer is the stack pointer at the hlt), the kernel segments (DS/ES
   * __USER_DS 0x7b, FS __KERNEL_PERCPU 0xd8, SS __KERNEL_DS 0x68), GS 0 (the idle task's lazily loaded user GS) and
   * EFLAGS 0x246 (IF set by the sti). default_idle+0xa/0x10 and handle_exception+0x133/0x133 (the return address of its
   * "call *%edi", the last byte of the symbol) are the offsets of those ten bytes. Invented, and said so: EAX..EDI
   * and the Code: bytes outside default_idle's own "55 89 e5 3e 8d 74 26 00 fb f4 <5d> c3".
   */
  private idleIrqRegs32(): string[] {
    const k = this.k;
    const L = k.layout;
    const h = (v: bigint | number) => BigInt.asUintN(32, BigInt(v)).toString(16).padStart(8, "0");
    const data = L.image.find((s) => s.name === ".data")?.start ?? 0xc1a00000n;
    const esp = data + BigInt(threadSize(k)) - 0x60n;
    const ip = this.k.kallsyms.frame("default_idle+0xa/0x10");
    // the 42 bytes before the ip end with default_idle's own ten: push %ebp; mov %esp,%ebp; the 5-byte nop of
    // mds_idle_clear_cpu_buffers()'s static branch; sti; hlt
    const code = codeLine(k, ip, [0x5d, 0xc3]).split(" ");
    code.splice(1 + 42 - 10, 10, "55", "89", "e5", "3e", "8d", "74", "26", "00", "fb", "f4");
    return [
      `EIP: ${ip}`,
      code.join(" "),
      "EAX: 00000000 EBX: 00000000 ECX: 00000001 EDX: 00000000",
      `ESI: 00000000 EDI: 00000000 EBP: ${h(esp)} ESP: ${h(esp)}`,
      "DS: 007b ES: 007b FS: 00d8 GS: 0000 SS: 0068 EFLAGS: 00000246",
    ];
  }

  /** The frames dump_stack adds on top of its caller (as debug/splat.ts prints them). */
  private dumpStackHead(): string[] {
    const k = this.k;
    if (k.profile.era !== "6.1") return k.profile.arch === "arm" ? ["unwind_backtrace+0x0/0xf0", "dump_stack"] : [];
    switch (k.profile.arch) {
      case "x86_64":
        return k.debug ? ["dump_stack_lvl", "dump_stack"] : ["dump_stack_lvl"];
      case "i386":
        return ["dump_stack_lvl", "dump_stack"];
      case "arm":
        return ["unwind_backtrace", "show_stack", "dump_stack_lvl"];
      case "arm64":
        return ["dump_backtrace", "show_stack", "dump_stack_lvl", "dump_stack"];
    }
  }

  /** 2.6.32/3.4 entry paths (sys_init_module, the old syscall entries). */
  private oldEntry(lv: ContextLevel): string[] {
    const arch = this.k.profile.arch;
    const sysEntry =
      arch === "x86_64" ? "system_call_fastpath" : arch === "i386" ? "syscall_call" : arch === "arm" ? "ret_fast_syscall+0x0/0x30" : "el0_svc_naked";
    if (lv.task.comm === "insmod" && lv.kind === "task") return ["do_one_initcall", "sys_init_module", sysEntry];
    if (lv.task.comm === "rmmod" && lv.kind === "task") return ["sys_delete_module", sysEntry];
    if (lv.kind === "task" && lv.task.pid === 0) return ["cpu_idle", "rest_init", "start_kernel"];
    if (lv.kind === "task") return ["worker_thread", "kthread", "kernel_thread_helper"].slice(lv.entry.length ? 0 : 3);
    return lv.entry
      .map((f) => f.replace(/\.constprop\.0$/, ""))
      .filter((f) => !/^(handle_softirqs|__irq_exit_rcu|irq_exit_rcu|sysvec_apic_timer_interrupt|__common_interrupt)$/.test(f));
  }

  /** "Call Trace:" and the entries in the arch's and era's form (debug/splat.ts show_trace formats). */
  private formatTrace(items: ({ raw: string } | { frame: string })[]): string[] {
    const k = this.k;
    const { arch, era } = k.profile;
    const ks = k.kallsyms;
    const w = arch === "x86_64" || arch === "arm64" ? 16 : 8;
    const hex = (v: bigint) => v.toString(16).padStart(w, "0");
    if (arch === "arm") {
      const frames = items.filter((i): i is { frame: string } => "frame" in i).map((i) => i.frame);
      const out: string[] = era === "6.1" ? [] : [];
      for (let i = 0; i + 1 < frames.length; i++) {
        const a = ks.parseFrame(frames[i]);
        if (era === "6.1") out.push(` ${a.name}${a.module ? " [" + a.module + "]" : ""} from ${frames[i + 1]}`);
        else {
          const b = ks.parseFrame(frames[i + 1]);
          out.push(`[<${hex(a.addr + BigInt(a.offset))}>] (${frames[i]}) from [<${hex(b.addr + BigInt(b.offset))}>] (${frames[i + 1]})`);
        }
      }
      return out;
    }
    const out = [arch === "arm64" ? "Call trace:" : "Call Trace:"];
    for (const it of items) {
      if ("raw" in it) out.push(it.raw);
      else if (era === "6.1") out.push(" " + it.frame);
      else {
        const p = ks.parseFrame(it.frame);
        out.push(` [<${hex(p.addr + BigInt(p.offset))}>] ${it.frame}`);
      }
    }
    return out;
  }

  /** dump_stack_print_info() (debug/splat.ts's CPU line and Hardware name) and the kworker's "Workqueue:" line. */
  cpuLines(): string[] {
    const k = this.k;
    const lines: string[] = [];
    const l = cpuLine(k);
    if (l) lines.push(l);
    if (k.profile.era === "6.1" && k.profile.board) lines.push(`Hardware name: ${k.profile.board}`);
    const wq = this.levels[0].workqueue;
    if (wq && this.levels.length === 1 && k.profile.era === "6.1") lines.push(`Workqueue: ${wq}`);
    return lines;
  }
}

/**
 * How many of an interrupt level's entry frames run on i386's own IRQ/softirq stack (6.1): a softirq up to
 * __do_softirq (do_softirq_own_stack() switched stacks: HAVE_IRQ_EXIT_ON_IRQ_STACK is x86_64's only, so irq_exit runs on
 * the task stack); a device interrupt up to the flow handler desc->handle_irq that __handle_irq()'s
 * execute_on_irq_stack() called. System vectors (the timer) run on the stack they interrupted.
 */
function i386IrqStackCut(kind: string, entry: string[]): number {
  const at = kind === "softirq" ? entry.indexOf("__do_softirq") : entry.findIndex((f) => /^handle_(edge|level|fasteoi)_irq$/.test(f));
  return at < 0 ? entry.length : at + 1;
}

/** The user-mode registers at the bottom of an x86_64 insmod/rmmod trace (real logs: custom debug kernel / Debian). */
function userRegs(debug: boolean, insmod: boolean): string[] {
  const orig = insmod ? "0000000000000139" : "00000000000000b0";
  if (debug) {
    return [
      "RIP: 0033:0x47fbe9",
      "Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48",
      `RSP: 002b:00007ffeee3ee648 EFLAGS: 00000246 ORIG_RAX: ${orig}`,
      "RAX: ffffffffffffffda RBX: 000000000a85d990 RCX: 000000000047fbe9",
      "RDX: 0000000000000000 RSI: 000000000a85d990 RDI: 0000000000000003",
      "RBP: 0000000000000003 R08: 0000000000000000 R09: 0000000000000000",
      "R10: 000000000000f0f0 R11: 0000000000000246 R12: 000000000a85cb90",
      "R13: 000000000a85cbd8 R14: 0000000000000000 R15: 0000000000000000",
    ];
  }
  return [
    "RIP: 0033:0x47fbe9",
    "Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 c7 c1 e0 ff ff ff f7 d8 64 89 01 48",
    `RSP: 002b:00007ffff582f748 EFLAGS: 00000246 ORIG_RAX: ${orig}`,
    "RAX: ffffffffffffffda RBX: 000000001b2bc960 RCX: 000000000047fbe9",
    "RDX: 0000000000000000 RSI: 000000001b2bc960 RDI: 0000000000000003",
    "RBP: 0000000000000003 R08: 0000000000000000 R09: 0000000000000000",
    "R10: 000000000000f0f0 R11: 0000000000000246 R12: 000000001b2bbb90",
    "R13: 000000001b2bbbd0 R14: 0000000000000000 R15: 0000000000000000",
  ];
}
