import { describe, expect, it } from "vitest";
import { harness, GFP_ATOMIC, GFP_KERNEL, GFP_KERNEL_OLD, GFP_ATOMIC_OLD } from "./harness.ts";

// test/fixtures/real-kernel/x86_64-custom-debugatomic-512M-nokaslr.log, lines 1020-1047 (timestamps stripped):
// kmalloc(64, GFP_KERNEL) under spin_lock in memdemo_main, called from memdemo_init, pid 54.
const REAL_SPINLOCK_HEAD = [
  "BUG: sleeping function called from invalid context at include/linux/sched/mm.h:274",
  "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 54, name: insmod",
  "preempt_count: 1, expected: 0",
  "RCU nest depth: 0, expected: 0",
];
const REAL_SPINLOCK_TRACE_TOP = [
  " dump_stack_lvl+0x3a/0x4c",
  " dump_stack+0x10/0x12",
  " __might_resched+0x156/0x168",
  " __might_sleep+0x5c/0x61",
  " slab_pre_alloc_hook.constprop.0+0x2a/0x4d",
  " __kmem_cache_alloc_node+0x29/0xf1",
  " __kmalloc+0x3b/0x3d",
];
const REAL_INSMOD_BOTTOM = [
  " do_one_initcall+0x7a/0x16a",
  " do_init_module+0x4a/0x1b2",
  " load_module+0x1723/0x1894",
  " __do_sys_finit_module+0xa4/0xb4",
  " __x64_sys_finit_module+0x13/0x15",
  " x64_sys_call+0xbc2/0xd6e",
  " do_syscall_64+0x3d/0x4c",
  " entry_SYSCALL_64_after_hwframe+0x4b/0xb5",
  "RIP: 0033:0x47fbe9",
];
// lines 1060-1105: the same kmalloc in a timer callback (softirq), interrupting the idle task.
const REAL_TIMER_HEAD = [
  "BUG: sleeping function called from invalid context at include/linux/sched/mm.h:274",
  "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/0",
  "preempt_count: 101, expected: 0",
  "RCU nest depth: 0, expected: 0",
];
const REAL_TIMER_IRQ_SECTION = [
  " call_timer_fn.constprop.0+0x13/0x71",
  " __run_timers+0x18c/0x1ae",
  " run_timer_softirq+0x18/0x2e",
  " handle_softirqs+0xb5/0x1a9",
  " __do_softirq+0xb/0xd",
  " __irq_exit_rcu+0x53/0x91",
  " irq_exit_rcu+0x9/0xb",
  " sysvec_apic_timer_interrupt+0x62/0x7b",
  " </IRQ>",
  " <TASK>",
  " asm_sysvec_apic_timer_interrupt+0x1b/0x20",
];
const REAL_IDLE_REGS = [
  "RIP: 0010:native_safe_halt+0x13/0x14",
  "Code: 07 00 00 31 c0 48 8d 65 d8 5b 41 5c 41 5d 41 5e 41 5f 5d c3 cc cc cc 8b 05 1a ed 94 00 85 c0 7e 07 0f 00 2d e7 86 5c 00 fb f4 <c3> 55 48 89 e5 e8 e3 ff ff ff 5d c3 55 be 03 00 00 00 65 48 8b 3c",
  "RSP: 0018:ffffffff81a03e30 EFLAGS: 00000246",
  "RAX: 0000000000000000 RBX: 0000000000000000 RCX: 00000000fffee0f9",
  "RDX: 0000000000000000 RSI: 0000000000000082 RDI: 0000000000000294",
  "RBP: ffffffff81a03e38 R08: 0000000000000004 R09: 0000000000000004",
  "R10: 00000000000000a6 R11: ffff88801f41ff80 R12: 0000000000000000",
  "R13: ffffffff81a11600 R14: 0000000000000000 R15: ffffffff81a11118",
];
const REAL_IDLE_BOTTOM = [
  " arch_cpu_idle+0xa/0xc",
  " default_idle_call+0x17/0x20",
  " do_idle+0xd1/0x199",
  " cpu_startup_entry+0x27/0x29",
  " rest_init+0xb9/0xb9",
  " arch_call_rest_init+0x9/0xa",
  " start_kernel+0x575/0x587",
  " x86_64_start_reservations+0x24/0x26",
  " x86_64_start_kernel+0x87/0x8c",
  " secondary_startup_64_no_verify+0xdf/0xeb",
  " </TASK>",
];

function kmallocHook(h: ReturnType<typeof harness>, gfp: number) {
  // what mm/slub.ts calls for kmalloc (6.1 x86_64): might_alloc with the real log's frames above the module
  h.k.sched.might_alloc(gfp, "include/linux/sched/mm.h", 274, ["slab_pre_alloc_hook.constprop.0", "__kmem_cache_alloc_node", "__kmalloc"]);
}

describe("might_sleep: GFP_KERNEL under spin_lock (6.1 debug = CONFIG_DEBUG_ATOMIC_SLEEP + lockdep)", () => {
  it("prints the real custom kernel's splat head and trace, plus lockdep's held lock and Preemption disabled at", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    const mark = k.log.mark();
    h.insmod(
      () =>
        h.call("memdemo_init", 40, () =>
          h.call("memdemo_main", 12, () => {
            const lock = k.locking.DEFINE_SPINLOCK("lock");
            k.locking.spin_lock(lock);
            expect(k.sched.preempt_count()).toBe(1);
            expect(k.sched.in_atomic()).toBe(true);
            kmallocHook(h, GFP_KERNEL);
            k.locking.spin_unlock(lock);
            expect(k.sched.preempt_count()).toBe(0);
          }),
        ),
      54,
    );
    const out = h.since(mark);
    expect(out.slice(0, 4)).toEqual(REAL_SPINLOCK_HEAD);
    expect(out[4]).toBe("1 lock held by insmod/54:");
    expect(out[5]).toMatch(/^ #0: ffffffffc[0-9a-f]{7} \(lock\)\{\+\.\+\.\}-\{2:2\}, at: memdemo_main\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(out[6]).toBe("Preemption disabled at:");
    expect(out[7]).toMatch(/^\[<ffffffffc[0-9a-f]{7}>\] memdemo_main\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(out[8]).toMatch(/^CPU: 0 PID: 54 Comm: insmod /);
    const ct = out.indexOf("Call Trace:");
    expect(out.slice(ct + 1, ct + 2 + REAL_SPINLOCK_TRACE_TOP.length)).toEqual([" <TASK>", ...REAL_SPINLOCK_TRACE_TOP]);
    const rest = out.slice(ct + 2 + REAL_SPINLOCK_TRACE_TOP.length);
    expect(rest[0]).toMatch(/^ memdemo_main\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(rest[1]).toMatch(/^ memdemo_init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
    expect(rest.slice(2, 2 + REAL_INSMOD_BOTTOM.length)).toEqual(REAL_INSMOD_BOTTOM);
    expect(out[out.length - 1]).toBe(" </TASK>");
    const r = k.reports.find((r) => r.kind === "sleep-in-atomic")!;
    expect(r.title).toBe(REAL_SPINLOCK_HEAD[0]);
    expect(r.frames?.map((f) => f.fn)).toEqual(["memdemo_main", "memdemo_init"]);
    expect(r.line).toBe(12);
    expect(k.taint.has("W")).toBe(true);
  });

  it("GFP_ATOMIC under spin_lock never sleeps: nothing printed, no violation", () => {
    const h = harness("x86_64-6.1", "debug");
    const mark = h.k.log.mark();
    h.insmod(() =>
      h.call("init", 3, () => {
        const l = h.k.locking.spin_lock_init("l");
        h.k.locking.spin_lock(l);
        kmallocHook(h, GFP_ATOMIC);
        h.k.locking.spin_unlock(l);
      }),
    );
    expect(h.since(mark)).toEqual([]);
    expect(h.k.sched.violations).toEqual([]);
  });

  it("distro 6.1 (no DEBUG_ATOMIC_SLEEP) prints nothing but records the fact", () => {
    const h = harness("x86_64-6.1", "distro");
    const mark = h.k.log.mark();
    h.insmod(() =>
      h.call("init", 3, () => {
        const l = h.k.locking.spin_lock_init("l");
        h.k.locking.spin_lock(l);
        kmallocHook(h, GFP_KERNEL);
        h.k.locking.spin_unlock(l);
      }),
    );
    expect(h.since(mark)).toEqual([]);
    expect(h.k.sched.violations).toHaveLength(1);
    expect(h.k.sched.violations[0]).toMatchObject({ kind: "sleep-in-atomic", printed: false, preemptCount: 1, context: "task" });
  });

  it("GFP_KERNEL in process context without a lock is fine", () => {
    const h = harness("x86_64-6.1", "debug");
    const mark = h.k.log.mark();
    h.insmod(() => h.call("init", 3, () => kmallocHook(h, GFP_KERNEL)));
    expect(h.since(mark)).toEqual([]);
  });

  it("is rate limited to one report per second (prev_jiffy), like the real log's gap=1100", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() =>
      h.call("init", 3, () => {
        const l = k.locking.spin_lock_init("l");
        for (let i = 0; i < 3; i++) {
          k.locking.spin_lock(l);
          kmallocHook(h, GFP_KERNEL);
          k.locking.spin_unlock(l);
        }
        k.sched.udelay(1_100_000); // 1.1 s busy wait
        k.locking.spin_lock(l);
        kmallocHook(h, GFP_KERNEL);
        k.locking.spin_unlock(l);
      }),
    );
    expect(k.reports.filter((r) => r.kind === "sleep-in-atomic")).toHaveLength(2);
    expect(k.sched.violations.map((v) => v.printed)).toEqual([true, false, false, true]);
  });

  it("old eras print the short second line and no preempt_count/RCU lines (3.4 SLUB, 2.6 SLAB)", () => {
    for (const [profile, file] of [
      ["arm-3.4-msm8x25", "mm/slub.c:926"],
      ["i386-2.6", "mm/slab.c:3034"],
    ] as const) {
      const h = harness(profile, "debug");
      const { k } = h;
      const mark = k.log.mark();
      h.insmod(() =>
        h.call("init", 3, () => {
          const l = k.locking.spin_lock_init("l");
          k.locking.spin_lock(l);
          k.sched.might_alloc(GFP_ATOMIC_OLD, file.split(":")[0], Number(file.split(":")[1]));
          expect(h.since(mark)).toEqual([]);
          k.sched.might_alloc(GFP_KERNEL_OLD, file.split(":")[0], Number(file.split(":")[1]));
          k.locking.spin_unlock(l);
        }),
      );
      const out = h.since(mark);
      expect(out[0]).toBe(`BUG: sleeping function called from invalid context at ${file}`);
      expect(out[1]).toBe("in_atomic(): 1, irqs_disabled(): 0, pid: 108, name: insmod");
      expect(out[2]).toBe("1 lock held by insmod/108:");
      expect(out[3]).toMatch(/^ #0:  \(l\)\{\+\.\+\.\.\.\}, at: \[<[0-9a-f]+>\] init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]$/);
      expect(out.some((l) => l.startsWith("preempt_count:"))).toBe(false);
      expect(k.taint.has("W")).toBe(false);
    }
  });
});

describe("might_sleep in deferred contexts (6.1 debug)", () => {
  it("GFP_KERNEL in a timer callback: swapper/0, preempt_count 101, <IRQ> section over the idle task (real log)", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() =>
      h.call("memdemo_init", 40, () => {
        const t = k.timers.timer_setup(
          h.cb("md_timer_fn", 7, () => {
            expect(k.sched.in_softirq()).toBe(256);
            expect(k.sched.in_serving_softirq()).toBe(256);
            expect(k.sched.in_task()).toBe(false);
            kmallocHook(h, GFP_KERNEL);
            kmallocHook(h, GFP_ATOMIC);
          }),
          0,
          "&md_timer",
        );
        k.timers.mod_timer(t, k.clock.jiffies + 1);
      }),
    );
    const mark = k.log.mark();
    const res = k.runDeferred({ simTimeMs: 100 });
    expect(res.stoppedBy).toBe("idle");
    const out = h.since(mark);
    expect(out.slice(0, 4)).toEqual(REAL_TIMER_HEAD);
    expect(out[4]).toBe("1 lock held by swapper/0/0:");
    expect(out[5]).toMatch(/^ #0: [0-9a-f]{16} \(\(&md_timer\)\)\{\+\.-\.\}-\{0:0\}, at: call_timer_fn\.constprop\.0\+0x13\/0x71$/);
    expect(out.slice(6, 8)).toEqual(["Preemption disabled at:", "[<0000000000000000>] 0x0"]);
    expect(out[8]).toMatch(/^CPU: 0 PID: 0 Comm: swapper\/0 /);
    const ct = out.indexOf("Call Trace:");
    expect(out[ct + 1]).toBe(" <IRQ>");
    const fnAt = out.findIndex((l) => l.startsWith(" md_timer_fn+"));
    expect(out[fnAt - 1]).toBe(" __kmalloc+0x3b/0x3d");
    expect(out.slice(fnAt + 1, fnAt + 1 + REAL_TIMER_IRQ_SECTION.length)).toEqual(REAL_TIMER_IRQ_SECTION);
    // the interrupt frame's registers of the halted idle task, then the stale idle-routine frame (real log 1089-1098)
    const regs = out.slice(fnAt + 1 + REAL_TIMER_IRQ_SECTION.length, fnAt + 1 + REAL_TIMER_IRQ_SECTION.length + 9);
    expect(regs.slice(0, 2)).toEqual(REAL_IDLE_REGS.slice(0, 2));
    for (let i = 2; i < 8; i++) expect(regs[i]).toMatch(new RegExp("^" + REAL_IDLE_REGS[i]!.replace(/[0-9a-f]{16}/g, "[0-9a-f]{16}") + "$"));
    const data = k.layout.image.find((s) => s.name === ".data")!.start;
    expect(regs[2]).toBe(`RSP: 0018:${(data + 0x3e30n).toString(16)} EFLAGS: 00000246`);
    expect(regs[5]).toContain(`RBP: ${(data + 0x3e38n).toString(16)} `);
    expect(regs[8]).toBe(" ? amd_e400_idle+0x14/0x30");
    expect(out.slice(fnAt + 1 + REAL_TIMER_IRQ_SECTION.length + 9)).toEqual(REAL_IDLE_BOTTOM);
    // the module's memdemo_init frames are not part of the timer's trace
    expect(out.some((l) => l.includes("memdemo_init"))).toBe(false);
  });

  it("GFP_ATOMIC in a timer, a tasklet and an irq handler: nothing", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    h.insmod(() =>
      h.call("init", 1, () => {
        const t = k.timers.timer_setup(
          h.cb("tfn", 2, () => kmallocHook(h, GFP_ATOMIC)),
          0,
        );
        k.timers.mod_timer(t, k.clock.jiffies + 2);
        const tl = k.softirq.tasklet_setup(h.cb("tlfn", 3, () => kmallocHook(h, GFP_ATOMIC)));
        k.softirq.tasklet_schedule(tl);
        expect(
          k.irq.request_irq(
            k.irq.BUTTON_IRQ,
            h.cb("handler", 4, () => (kmallocHook(h, GFP_ATOMIC), 1)),
            0,
            "button",
            1,
          ),
        ).toBe(0);
        k.irq.raise_irq(k.irq.BUTTON_IRQ, 50);
      }),
    );
    const mark = k.log.mark();
    k.runDeferred({});
    expect(h.since(mark)).toEqual([]);
    expect(k.sched.loop.history.map((e) => e.kind)).toEqual(["tasklet", "timer", "irq"]);
  });

  it("GFP_KERNEL in a tasklet: preempt_count 101 as swapper; in an irq handler: 10001 and irqs_disabled 1", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    let seen = "";
    h.insmod(() =>
      h.call("init", 1, () => {
        const tl = k.softirq.tasklet_setup(h.cb("tlfn", 3, () => kmallocHook(h, GFP_KERNEL)));
        k.softirq.tasklet_schedule(tl);
        k.irq.request_irq(
          k.irq.BUTTON_IRQ,
          h.cb("btn_handler", 4, () => {
            seen = `${k.sched.in_hardirq()} ${k.sched.irqs_disabled()} ${k.sched.preempt_count().toString(16)}`;
            kmallocHook(h, GFP_KERNEL);
            return 1;
          }),
          0,
          "button",
          1,
        );
        k.irq.raise_irq(k.irq.BUTTON_IRQ, 1500); // after the 1 s rate limit
      }),
    );
    k.runDeferred({});
    expect(seen).toBe("65536 true 10001");
    const rs = k.reports.filter((r) => r.kind === "sleep-in-atomic");
    expect(rs).toHaveLength(2);
    expect(rs[0].text).toContain("preempt_count: 101, expected: 0");
    expect(rs[0].text).toContain(" tasklet_action_common.constprop.0+");
    expect(rs[1].text).toContain("in_atomic(): 1, irqs_disabled(): 1, non_block: 0, pid: 0, name: swapper/0");
    expect(rs[1].text).toContain("preempt_count: 10001, expected: 0");
    expect(rs[1].text).toContain("irq event stamp: ");
    expect(rs[1].text).toMatch(/\n btn_handler\+0x[0-9a-f]+\/0x[0-9a-f]+ \[cell\]\n __handle_irq_event_percpu\+/);
    expect(rs[1].text).toContain(" </IRQ>\n <TASK>\n asm_common_interrupt+");
  });

  it("GFP_KERNEL in a work item runs as kworker/0:1 in process context: nothing", () => {
    const h = harness("x86_64-6.1", "debug");
    const { k } = h;
    let who = "";
    h.insmod(() =>
      h.call("init", 1, () => {
        const w = k.workqueue.INIT_WORK(
          h.cb("my_work_fn", 5, () => {
            who = `${k.current.comm}/${k.current.pid} task=${k.sched.in_task()} pc=${k.sched.preempt_count()}`;
            kmallocHook(h, GFP_KERNEL);
          }),
        );
        expect(k.workqueue.schedule_work(w)).toBe(true);
        expect(k.workqueue.schedule_work(w)).toBe(false);
      }),
    );
    const mark = k.log.mark();
    k.runDeferred({});
    expect(who).toBe("kworker/0:1/20 task=true pc=0");
    expect(h.since(mark)).toEqual([]);
    expect(k.workqueue.ran.map((r) => r.name)).toEqual(["my_work_fn"]);
  });
});
