// Completions and wait queues (kernel/sched/completion.c, include/linux/wait.h): complete() counts, complete_all()
// releases every wait, a wait with a timeout returns 0 or the jiffies left, and wait_event_interruptible rechecks its
// condition only after a wake_up() on its queue.
import { describe, expect, it } from "vitest";
import { runModule } from "../../sandbox/run.ts";

const cell = (
  imports: string,
  statics: string,
  body: string,
) => `import { ${imports}, printk, KERN_INFO, module_init, MODULE_LICENSE, timer_setup, mod_timer, jiffies, msecs_to_jiffies, timer_list } from "linux";
MODULE_LICENSE("GPL");
${statics}
function t_init(): number {
${body}
  return 0;
}
module_init(t_init);
`;
const lines = (d: string[]) => d.map((l) => l.replace(/^\[[^\]]*\] /, ""));

describe("completion", () => {
  it("complete() from a timer ends wait_for_completion after the timer's 20 ms; each complete() releases one wait; try_wait consumes", async () => {
    const r = await runModule(
      cell(
        "completion, complete, wait_for_completion, try_wait_for_completion, completion_done",
        `const done = new completion(); const t = new timer_list();
function fire(tl: timer_list): void { complete(done); complete(done); }`,
        `timer_setup(t, fire, 0); const j0 = jiffies; mod_timer(t, jiffies + msecs_to_jiffies(20));
  wait_for_completion(done);
  printk(KERN_INFO + "waited %d ms done=%d\\n", (jiffies - j0) * 4, completion_done(done) ? 1 : 0);
  printk(KERN_INFO + "try %d %d\\n", try_wait_for_completion(done) ? 1 : 0, try_wait_for_completion(done) ? 1 : 0);`,
      ),
      {},
    );
    expect(r.reports).toEqual([]);
    const d = lines(r.dmesg);
    // HZ=250 on the default profile: 20 ms are 5 jiffies; the second complete() is still counted
    expect(d).toContain("waited 20 ms done=1");
    expect(d).toContain("try 1 0");
  });

  it("wait_for_completion_timeout: 0 when nobody completes, the jiffies left (>= 1) when complete() came first", async () => {
    const r = await runModule(
      cell(
        "completion, complete, wait_for_completion_timeout, complete_all, reinit_completion",
        `const c = new completion();`,
        `printk(KERN_INFO + "a %d\\n", wait_for_completion_timeout(c, 10));
  complete(c); printk(KERN_INFO + "b %d\\n", wait_for_completion_timeout(c, 10));
  complete_all(c); printk(KERN_INFO + "c %d %d\\n", wait_for_completion_timeout(c, 10), wait_for_completion_timeout(c, 10));
  reinit_completion(c); printk(KERN_INFO + "d %d\\n", wait_for_completion_timeout(c, 3));`,
      ),
      {},
    );
    expect(r.reports).toEqual([]);
    expect(lines(r.dmesg).filter((l) => /^[abcd] /.test(l))).toEqual(["a 0", "b 10", "c 10 10", "d 0"]);
  });

  it("wait_for_completion that nobody completes is a hang report (timeout), not a run that never ends", async () => {
    const r = await runModule(cell("completion, wait_for_completion", `const c = new completion();`, `wait_for_completion(c);`), {});
    expect(r.reports.map((x) => x.kind)).toEqual(["timeout"]);
    expect(r.reports[0]!.title).toMatch(/in wait_for_completion\(\) for a completion nobody completed; the real task would hang forever/);
  });

  it("wait_for_completion under a spinlock is a sleep in atomic context even when it would not sleep (might_sleep first)", async () => {
    const r = await runModule(
      cell(
        "completion, complete, wait_for_completion, DEFINE_SPINLOCK, spin_lock, spin_unlock",
        `const c = new completion(); const l = DEFINE_SPINLOCK();`,
        `complete(c); spin_lock(l); wait_for_completion(c); spin_unlock(l);`,
      ),
      { config: "debug" },
    );
    expect(r.reports.map((x) => x.title).join("\n")).toMatch(/BUG: sleeping function called from invalid context/);
  });

  it("reinit_completion is absent before 3.13 (2.6 era)", async () => {
    const r = await runModule(cell("completion, reinit_completion", "", ""), { profile: "i386-2.6" });
    expect(JSON.stringify(r)).toMatch(/reinit_completion does not exist in Linux 2\.6 \(added in 3\.13/);
  });
});

describe("wait queues", () => {
  it("wait_event_interruptible wakes on wake_up() with the condition true; a condition set without wake_up is not seen", async () => {
    const r = await runModule(
      cell(
        "wait_queue_head_t, wait_event_interruptible, wake_up",
        `const wq = new wait_queue_head_t(); let flag = 0; const t = new timer_list(); const u = new timer_list();
function quiet(tl: timer_list): void { flag = 1; }
function loud(tl: timer_list): void { flag = 2; wake_up(wq); }`,
        `timer_setup(t, quiet, 0); timer_setup(u, loud, 0); const j0 = jiffies;
  mod_timer(t, jiffies + 2); mod_timer(u, jiffies + 10);
  const ret = wait_event_interruptible(wq, () => flag !== 0);
  printk(KERN_INFO + "ret %d flag %d after %d jiffies\\n", ret, flag, jiffies - j0);`,
      ),
      {},
    );
    expect(r.reports).toEqual([]);
    // flag became 1 at jiffy 2, but without a wake_up the waiter slept on until the wake_up at jiffy 10
    expect(lines(r.dmesg)).toContain("ret 0 flag 2 after 10 jiffies");
  });

  it("a wait queue nobody wakes: the wait gives up with a hang report and -ERESTARTSYS", async () => {
    const r = await runModule(
      cell(
        "wait_queue_head_t, wait_event_interruptible",
        `const wq = new wait_queue_head_t(); let flag = 0; const t = new timer_list();
function quiet(tl: timer_list): void { flag = 1; }`,
        `timer_setup(t, quiet, 0); mod_timer(t, jiffies + 2); printk(KERN_INFO + "ret %d\\n", wait_event_interruptible(wq, () => flag !== 0));`,
      ),
      {},
    );
    expect(r.reports.map((x) => x.kind)).toEqual(["timeout"]);
    expect(lines(r.dmesg)).toContain("ret -512");
  });
});
