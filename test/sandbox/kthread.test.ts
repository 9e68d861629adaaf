// Kernel threads (kernel/kthread.c, src/kernel/kernel/kthread.ts): a looping thread beside module_init, the drain and
// rmmod on one CPU in simulated time; kthread_stop's wait and return value; a thread module_exit forgot; KernelStack.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const IMPORTS = `import { kthread_run, kthread_create, wake_up_process, kthread_stop, kthread_should_stop, task_struct, task_pid_nr, msleep, schedule_timeout, jiffies, printk, KERN_INFO, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
`;
const LKMPG = `${IMPORTS}
let t: task_struct | null = null;
let ticks = 0;
function thread_fn(data: number): number {
  while (!kthread_should_stop()) {
    ticks++;
    printk(KERN_INFO + "tick %d at jiffies %d\\n", ticks, jiffies);
    msleep(1000);
  }
  printk(KERN_INFO + "thread stops after %d ticks\\n", ticks);
  return 42;
}
function t_init(): number {
  t = kthread_run(thread_fn, null, "lkmpg-%d", 7);
  printk(KERN_INFO + "started pid %d\\n", task_pid_nr(t!));
  return 0;
}
function t_exit(): void {
  const r = kthread_stop(t!);
  printk(KERN_INFO + "kthread_stop returned %d, ticks %d\\n", r, ticks);
}
module_init(t_init);
module_exit(t_exit);
`;
const text = (d: string[]) => d.map((l) => l.replace(/^\[[^\]]*\] /, ""));

const lineOf = (d: string[], re: RegExp) => d.find((l) => re.test(l));
const meminfoKb = (text: string | undefined, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text ?? "")?.[1]);
const stacks = (text: string | undefined) => (text ?? "").split("\n").filter((l) => l.includes(" kernel_clone+")).length;

describe("kthreads", () => {
  it("a looping thread ticks once a second (msleep(1000) = 251 jiffies at HZ=250) while the module stays loaded 5 s; kthread_stop waits for it and returns its value", async () => {
    const r = await runModule(LKMPG.replace("jiffies %d", "jiffies %lu"), { views: false });
    const d = text(r.dmesg);
    expect(r.reports).toEqual([]);
    // the thread (pid 109, after insmod's 108) first runs when module_init returns
    expect(d.indexOf("started pid 109")).toBeLessThan(d.findIndex((l) => l.startsWith("tick 1 ")));
    const js = d.filter((l) => l.startsWith("tick ")).map((l) => Number(/jiffies (\d+)/.exec(l)![1]));
    expect(js.length).toBe(5);
    for (let i = 1; i < js.length; i++) expect(js[i] - js[i - 1]).toBe(251);
    expect(d).toContain("thread stops after 5 ticks");
    expect(d).toContain("kthread_stop returned 42, ticks 5");
    expect(d.indexOf("thread stops after 5 ticks")).toBeLessThan(d.indexOf("kthread_stop returned 42, ticks 5"));
  });

  it("the thread is a task: /proc/109/status names it (comm cut to 15 characters), asleep in msleep (D), child of kthreadd", async () => {
    const src = LKMPG.replace('"lkmpg-%d", 7', '"a-very-long-thread-name-%d", 7');
    const r = await runModule(src, { views: false, proc: ["109/status"] });
    const st = r.proc?.["109/status"] ?? "";
    expect(st).toContain("Name:\ta-very-long-thr\n");
    expect(st).toContain("State:\tD (disk sleep)\n");
    expect(st).toContain("Pid:\t109\nPPid:\t2\n");
  });

  it("its kernel stack: one more kernel_clone area of THREAD_SIZE + guard in vmallocinfo on x86_64 6.1 (VMAP_STACK), none on i386; KernelStack grows by THREAD_SIZE while it lives", async () => {
    const r = await runModule(LKMPG, { views: false, profile: "x86_64-6.1", config: "distro", proc: ["vmallocinfo", "meminfo"] });
    expect(stacks(r.proc?.["vmallocinfo"]) - stacks(r.procAfterExit?.["vmallocinfo"])).toBe(1);
    expect(r.proc?.["vmallocinfo"]).toMatch(/ 20480 kernel_clone\+0xbf\/0x430 pages=4 vmalloc/);
    expect(meminfoKb(r.proc?.["meminfo"], "KernelStack") - meminfoKb(r.procAfterExit?.["meminfo"], "KernelStack")).toBe(16);
    const i = await runModule(LKMPG, { views: false, profile: "i386-6.1", proc: ["vmallocinfo", "meminfo"] });
    expect(stacks(i.proc?.["vmallocinfo"])).toBe(stacks(i.procAfterExit?.["vmallocinfo"]));
    expect(meminfoKb(i.proc?.["meminfo"], "KernelStack") - meminfoKb(i.procAfterExit?.["meminfo"], "KernelStack")).toBe(8);
  });

  it("kthread_stop wakes a thread in schedule_timeout early: it returns the jiffies left", async () => {
    const src = `${IMPORTS}
let t: task_struct | null = null;
function waiter(data: number): number {
  let left = 0;
  while (!kthread_should_stop()) left = schedule_timeout(100000);
  return left;
}
function t_init(): number { t = kthread_run(waiter, null, "waiter"); return 0; }
function t_exit(): void { printk(KERN_INFO + "left %d\\n", kthread_stop(t!)); }
module_init(t_init);
module_exit(t_exit);
`;
    const r = await runModule(src, { views: false });
    expect(r.reports).toEqual([]);
    // 5 s of the 400 s timeout passed (1250 jiffies at HZ=250)
    expect(lineOf(text(r.dmesg), /^left /)).toBe(`left ${100000 - 1250}`);
  });

  it("a thread waiting for a completion that module_exit completes: kthread_stop returns what it returned", async () => {
    const src = `${IMPORTS.replace("msleep,", "msleep, completion, complete, wait_for_completion,")}
let t: task_struct | null = null;
const go = new completion();
function worker(data: number): number {
  wait_for_completion(go);
  printk(KERN_INFO + "worker: completed at last\\n");
  return 7;
}
function t_init(): number { t = kthread_run(worker, null, "worker"); return 0; }
function t_exit(): void { complete(go); printk(KERN_INFO + "stop -> %d\\n", kthread_stop(t!)); }
module_init(t_init);
module_exit(t_exit);
`;
    const r = await runModule(src, { views: false });
    const d = text(r.dmesg);
    expect(r.reports).toEqual([]);
    expect(d.indexOf("worker: completed at last")).toBeLessThan(d.indexOf("stop -> 7"));
    expect(d).toContain("stop -> 7");
  });

  it("a sleep in a helper does not suspend the thread: a loop whose only sleep is there never lets rmmod run, and the run ends at a limit (no internal error)", async () => {
    const src = LKMPG.replace("    msleep(1000);\n", "    nap();\n").replace(
      "function thread_fn",
      "function nap(): void { msleep(1000); }\nfunction thread_fn",
    );
    const r = await runModule(src, { views: false });
    expect(r.reports.length).toBeGreaterThan(0);
    // Which limit comes first depends on the host's speed: the CPU limit, or the log limit of a loop that prints.
    expect(r.reports.filter((x) => x.kind !== "timeout" && !(x.kind === "limit" && x.limit === "log"))).toEqual([]);
    expect(text(r.dmesg)).not.toContain("kthread_stop returned 42, ticks 5");
  });
});

const FORGOT = LKMPG.replace(/function t_exit\(\): void \{[\s\S]*?\n\}\n/, 'function t_exit(): void {\n  printk(KERN_INFO + "bye\\n");\n}\n');

describe("kthreads: mistakes", () => {
  it("a thread module_exit forgot to stop wakes in the unloaded module: the instruction-fetch page-fault Oops in the thread's context (x86_64 6.1)", async () => {
    const r = await runModule(FORGOT, { views: false });
    const d = text(r.dmesg);
    const oops = r.reports.filter((x) => x.kind === "oops");
    expect(oops.length).toBe(1);
    expect(oops[0].title).toMatch(/^BUG: unable to handle page fault for address: ffffffffc[0-9a-f]{7}$/);
    const addr = /address: ([0-9a-f]+)/.exec(oops[0].title)![1];
    expect(d.indexOf("bye")).toBeLessThan(d.indexOf(oops[0].title));
    expect(d).toContain("#PF: supervisor instruction fetch in kernel mode");
    expect(d).toContain("#PF: error_code(0x0010) - not-present page");
    expect(lineOf(d, /^CPU: 0 PID: 109 Comm: lkmpg-7 /)).toBeDefined();
    expect(d).toContain(`RIP: 0010:0x${addr}`);
    expect(d).toContain(`Code: Unable to access opcode bytes at 0x${(BigInt("0x" + addr) - 42n).toString(16)}.`);
    expect(d).toContain("Modules linked in: [last unloaded: cell(O)]");
  });

  it("on i386 2.6.26 the same mistake is the old 'unable to handle kernel paging request' Oops", async () => {
    const r = await runModule(FORGOT, { views: false, profile: "i386-2.6" });
    const oops = r.reports.filter((x) => x.kind === "oops");
    expect(oops.length).toBe(1);
    expect(oops[0].title).toMatch(/^BUG: unable to handle kernel paging request at [0-9a-f]{8}$/);
  });

  it("on ARM 6.1 it is a prefetch abort (Oops: 80000007, bad PC value); on arm64 an instruction abort (EC 0x21 IABT, ESR 0x86000007)", async () => {
    const arm = text((await runModule(FORGOT, { views: false, profile: "arm-6.1-virt" })).dmesg);
    expect(arm.some((l) => /^Internal error: Oops: 80000007 \[#1\] SMP ARM$/.test(l))).toBe(true);
    expect(arm).toContain("Code: bad PC value");
    expect(arm.some((l) => /^PC is at 0xbf[0-9a-f]{6}$/.test(l))).toBe(true);
    const a64 = text((await runModule(FORGOT, { views: false, profile: "arm64-6.1" })).dmesg);
    expect(a64).toContain("  EC = 0x21: IABT (current EL), IL = 32 bits");
    expect(a64).toContain("  ESR = 0x0000000086000007");
    expect(a64).not.toContain("Data abort info:");
    expect(a64).toContain("Code: bad PC value");
  });

  it("kthread_stop of a thread never woken returns -EINTR and its function never runs", async () => {
    const src = LKMPG.replace('kthread_run(thread_fn, null, "lkmpg-%d", 7)', 'kthread_create(thread_fn, null, "lkmpg-%d", 7)');
    const r = await runModule(src, { views: false });
    const d = text(r.dmesg);
    expect(d.filter((l) => l.startsWith("tick"))).toEqual([]);
    expect(d).toContain("kthread_stop returned -4, ticks 0");
  });

  it("kthread_should_stop() outside a kernel thread is refused with an error naming the task", async () => {
    const src = LKMPG.replace("  return 0;\n}\nfunction t_exit", "  kthread_should_stop();\n  return 0;\n}\nfunction t_exit");
    const r = await runModule(src, { views: false });
    expect(r.reports.some((x) => x.kind === "exception" && /kthread_should_stop: insmod\/108 is not a kernel thread/.test(x.title + x.text))).toBe(true);
  });

  it("a thread that never checks kthread_should_stop hangs rmmod's kthread_stop: the timeout report after 60 simulated seconds", async () => {
    const src = LKMPG.replace("while (!kthread_should_stop())", "while (true)");
    const r = await runModule(src, { views: false });
    expect(r.reports.some((x) => x.kind === "timeout" && /in kthread_stop\(\) for lkmpg-7\/109/.test(x.title))).toBe(true);
  });
});

describe("kthreads: context rules", () => {
  it("kthread_run under a spinlock is the sleep-in-atomic splat on the debug kernel (kthread_create waits for kthreadd)", async () => {
    const src = LKMPG.replace(
      '  t = kthread_run(thread_fn, null, "lkmpg-%d", 7);',
      '  spin_lock(lock);\n  t = kthread_run(thread_fn, null, "lkmpg-%d", 7);\n  spin_unlock(lock);',
    ).replace(
      'MODULE_LICENSE("GPL");\n',
      'MODULE_LICENSE("GPL");\nimport { DEFINE_SPINLOCK, spin_lock, spin_unlock } from "linux";\nconst lock = DEFINE_SPINLOCK();\n',
    );
    const r = await runModule(src, { views: false, config: "debug" });
    expect(r.reports.some((x) => x.kind === "sleep-in-atomic" && /kernel\/sched\/completion\.c/.test(x.title))).toBe(true);
  });

  it("msleep in the thread under a spinlock does not suspend it: the thread's own 'scheduling while atomic' BUG, in its context", async () => {
    const src = LKMPG.replace("    msleep(1000);\n", "    spin_lock(lock);\n    msleep(1000);\n    spin_unlock(lock);\n").replace(
      'MODULE_LICENSE("GPL");\n',
      'MODULE_LICENSE("GPL");\nimport { DEFINE_SPINLOCK, spin_lock, spin_unlock } from "linux";\nconst lock = DEFINE_SPINLOCK();\n',
    );
    const r = await runModule(src, { views: false, config: "debug" });
    const bug = r.reports.find((x) => x.kind === "scheduling-while-atomic");
    expect(bug?.title).toMatch(/^BUG: scheduling while atomic: lkmpg-7\/109\//);
  });
});

describe("kthreads: the thread function", () => {
  it("gets the data kthread_run was given (the same object), and an exception it throws is reported and ends the thread", async () => {
    const src = `${IMPORTS}
let t: task_struct | null = null;
const state = { ticks: 0 };
function thread_fn(data: { ticks: number }): number {
  while (!kthread_should_stop()) {
    data.ticks++;
    if (data.ticks === 3) throw new Error("thread gave up");
    msleep(100);
  }
  return 1;
}
function t_init(): number { t = kthread_run(thread_fn, state, "thrower"); return 0; }
function t_exit(): void { printk(KERN_INFO + "stop %d ticks %d\\n", kthread_stop(t!), state.ticks); }
module_init(t_init);
module_exit(t_exit);
`;
    const r = await runModule(src, { views: false });
    expect(r.reports.map((x) => x.kind)).toEqual(["exception"]);
    expect(r.reports[0].title + r.reports[0].text).toMatch(/thread gave up/);
    expect(text(r.dmesg)).toContain("stop 0 ticks 3");
  });
});

describe("kthreads: limits", () => {
  it("a thread that spins without sleeping is stopped at the CPU limit, and the soft lockup names the thread, not insmod", async () => {
    const src = `${IMPORTS}
function spin(d: number): number {
  let x = 0;
  for (;;) x++;
}
function t_init(): number {
  kthread_run(spin, null, "spinner");
  return 0;
}
function t_exit(): void {}
module_init(t_init);
module_exit(t_exit);
`;
    const r = await runModule(src, { views: false });
    const t = r.reports.filter((x) => x.kind === "timeout");
    expect(t.length).toBe(1);
    expect(t[0].title).toMatch(/^watchdog: BUG: soft lockup - CPU#0 stuck for 22s! \[spinner:\d+\]$/);
  });
});

// A timer or a work item module_exit leaves pending fires after rmmod freed the module's text (kernel/timer.ts
// expireAfterUnload, kernel/workqueue.ts processAfterUnload): the instruction-fetch Oops at the callback's old address.
const TIMER_IMPORTS = `import { timer_list, timer_setup, mod_timer, del_timer_sync, jiffies, msecs_to_jiffies, printk, KERN_INFO, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
const t = new timer_list();
`;
const REARMED = `${TIMER_IMPORTS}function tick(x: timer_list): void {
  printk(KERN_INFO + "tick\\n");
}
function t_init(): number {
  timer_setup(t, tick, 0);
  mod_timer(t, jiffies + msecs_to_jiffies(100));
  return 0;
}
function t_exit(): void {
  mod_timer(t, jiffies + msecs_to_jiffies(500));
  printk(KERN_INFO + "bye\\n");
}
module_init(t_init);
module_exit(t_exit);
`;

describe("module_exit leaves a timer or work pending", () => {
  it("x86_64 6.1: a timer re-armed in module_exit fires in freed text: the instruction-fetch Oops in the timer softirq over the idle task, then 'Fatal exception in interrupt'", async () => {
    const r = await runModule(REARMED, { views: false });
    const d = text(r.dmesg);
    expect(r.reports.map((x) => [x.kind, x.title.replace(/[0-9a-f]{16}$/, "ADDR")])).toEqual([
      ["oops", "BUG: unable to handle page fault for address: ADDR"],
      ["oops", "Kernel panic - not syncing: Fatal exception in interrupt"],
    ]);
    const addr = /address: (ffffffffc[0-9a-f]{7})$/.exec(r.reports[0].title)![1];
    const at = d.indexOf(r.reports[0].title);
    expect(d.indexOf("tick")).toBeLessThan(d.indexOf("bye"));
    expect(d.indexOf("bye")).toBeLessThan(at);
    const oops = d.slice(at);
    expect(oops.slice(0, 3)).toEqual([
      `BUG: unable to handle page fault for address: ${addr}`,
      "#PF: supervisor instruction fetch in kernel mode",
      "#PF: error_code(0x0010) - not-present page",
    ]);
    expect(oops[3]).toMatch(/^PGD [0-9a-f]+ P4D [0-9a-f]+ PUD [0-9a-f]+ PMD [0-9a-f]+ PTE 0$/);
    expect(oops[4]).toMatch(/^Oops: 0010 \[#1\] PREEMPT SMP( KASAN)? NOPTI$/);
    expect(oops[5]).toMatch(/^CPU: 0 PID: 0 Comm: swapper\/0 Tainted: G {11}O {7}6\.1\.0-/);
    expect(oops).toContain(`RIP: 0010:0x${addr}`);
    const trace = oops.slice(oops.indexOf("Call Trace:"), oops.indexOf(" <TASK>") + 2);
    expect(trace.map((l) => l.replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+$/, ""))).toEqual([
      "Call Trace:",
      " <IRQ>",
      " call_timer_fn.constprop.0",
      " __run_timers",
      " run_timer_softirq",
      " handle_softirqs",
      " __do_softirq",
      " __irq_exit_rcu",
      " irq_exit_rcu",
      " sysvec_apic_timer_interrupt",
      " </IRQ>",
      " <TASK>",
      " asm_sysvec_apic_timer_interrupt",
    ]);
    expect(oops).toContain("Modules linked in: [last unloaded: cell(O)]");
    // the machine stops: the panic's lines are the log's last
    expect(oops.slice(-3)).toEqual([
      "Kernel panic - not syncing: Fatal exception in interrupt",
      "Kernel Offset: disabled",
      "---[ end Kernel panic - not syncing: Fatal exception in interrupt ]---",
    ]);
    expect(r.reports[0].explain).toMatch(/^The timer that runs tick\(\) was still pending when the module was unloaded/);
  });

  it("i386 2.6.26: the same mistake (setup_timer) is the old paging-request Oops with 'Bad EIP value', then the panic", async () => {
    const src = REARMED.replace("timer_setup, ", "setup_timer, ")
      .replace("timer_setup(t, tick, 0)", "setup_timer(t, tick, 0)")
      .replace("tick(x: timer_list)", "tick(x: number)");
    const r = await runModule(src, { views: false, profile: "i386-2.6" });
    const d = text(r.dmesg);
    expect(r.reports.map((x) => x.kind)).toEqual(["oops", "oops"]);
    const addr = /^BUG: unable to handle kernel paging request at ([0-9a-f]{8})$/.exec(r.reports[0].title)![1];
    const oops = d.slice(d.indexOf(r.reports[0].title));
    expect(oops[1]).toBe(`IP: [<${addr}>] 0x${addr}`);
    expect(oops[3]).toBe("Oops: 0000 [#1] SMP ");
    expect(oops).toContain("Code:  Bad EIP value.");
    expect(oops).toContain(`EIP: [<${addr}>] 0x${addr} SS:ESP 0068:${/SS:ESP 0068:([0-9a-f]{8})/.exec(oops.join("\n"))![1]}`);
    expect(
      oops
        .filter((l) => /^ \[<[0-9a-f]{8}>\] /.test(l))
        .map((l) => l.replace(/^ \[<[0-9a-f]{8}>\] /, "").replace(/\+.*/, ""))
        .slice(0, 4),
    ).toEqual(["call_timer_fn", "__run_timers", "run_timer_softirq", "__do_softirq"]);
    expect(oops[oops.length - 1]).toBe("Kernel panic - not syncing: Fatal exception in interrupt");
  });

  it("a module_exit that del_timer_sync()s the timer gets no report, and work it queues for now runs before the free (free_module sleeps); a delayed work left queued Oopses the kworker (Workqueue: line, no panic)", async () => {
    const fixed = REARMED.replace("import { timer_list,", "import { work_struct, INIT_WORK, schedule_work, timer_list,")
      .replace(
        "function t_init(): number {\n",
        'const w = new work_struct();\nfunction wfn(x: work_struct): void {\n  printk(KERN_INFO + "work ran\\n");\n}\nfunction t_init(): number {\n  INIT_WORK(w, wfn);\n',
      )
      .replace(
        "  mod_timer(t, jiffies + msecs_to_jiffies(500));\n",
        "  mod_timer(t, jiffies + msecs_to_jiffies(500));\n  del_timer_sync(t);\n  schedule_work(w);\n",
      );
    const ok = await runModule(fixed, { views: false });
    expect(ok.reports).toEqual([]);
    expect(text(ok.dmesg).slice(-2)).toEqual(["bye", "work ran"]);
    const work = `import { delayed_work, INIT_DELAYED_WORK, schedule_delayed_work, msecs_to_jiffies, printk, KERN_INFO, module_init, module_exit, MODULE_LICENSE } from "linux";
MODULE_LICENSE("GPL");
const dw = new delayed_work();
function wfn(w: delayed_work): void {
  printk(KERN_INFO + "work\\n");
}
function t_init(): number {
  INIT_DELAYED_WORK(dw, wfn);
  return 0;
}
function t_exit(): void {
  schedule_delayed_work(dw, msecs_to_jiffies(300));
}
module_init(t_init);
module_exit(t_exit);
`;
    const r = await runModule(work, { views: false });
    const d = text(r.dmesg);
    expect(r.reports.map((x) => x.kind)).toEqual(["oops"]);
    const addr = /^BUG: unable to handle page fault for address: (ffffffffc[0-9a-f]{7})$/.exec(r.reports[0].title)![1];
    const oops = d.slice(d.indexOf(r.reports[0].title));
    expect(oops[1]).toBe("#PF: supervisor instruction fetch in kernel mode");
    expect(oops[5]).toMatch(/^CPU: 0 PID: 20 Comm: kworker\/0:1 /);
    expect(oops[7]).toBe(`Workqueue: events 0x${addr}`);
    expect(oops.map((l) => l.replace(/\+0x.*/, ""))).toEqual(expect.arrayContaining([" <TASK>", " process_one_work", " worker_thread", " </TASK>"]));
    expect(d).not.toContain("work");
    expect(d.some((l) => l.startsWith("Kernel panic"))).toBe(false);
  });
});
