// Kernel threads (issue 19): what the generator model costs. The transpile of a cell with a kthread (the extra
// sucrase parse of kthread_transform.ts) against the same cell without, and a whole run of LKMPG's looping thread
// (5 simulated seconds, 5 ticks, kthread_stop) against the same module with the thread's loop run once in init.
import type { Suite } from "./harness.ts";
import { runModule } from "../sandbox/run.ts";
import { transpileCell } from "../sandbox/transpile.ts";

const HEAD = `import { kthread_run, kthread_stop, kthread_should_stop, task_struct, msleep, printk, KERN_INFO, MODULE_LICENSE, module_init, module_exit } from "linux";
MODULE_LICENSE("GPL");
let t: task_struct | null = null;
function thread_fn(data: number): number {
  let n = 0;
  while (!kthread_should_stop()) { n++; printk(KERN_INFO + "tick %d\\n", n); msleep(1000); }
  return n;
}
`;
const THREAD = `${HEAD}function i(): number { t = kthread_run(thread_fn, null, "bench"); return 0; }
function e(): void { printk(KERN_INFO + "stopped %d\\n", kthread_stop(t!)); }
module_init(i); module_exit(e);
`;
const INLINE = `${HEAD}function i(): number { for (let n = 1; n <= 5; n++) { printk(KERN_INFO + "tick %d\\n", n); msleep(1000); } return 0; }
function e(): void { printk(KERN_INFO + "stopped %d\\n", 5); }
module_init(i); module_exit(e);
`;

export const suite: Suite = {
  name: "kthread",
  async run(ctx) {
    let salt = 0;
    await ctx.rate("transpile, cell with kthread_run (generator transform)", 200, (n) => {
      for (let i = 0; i < n; i++) transpileCell(THREAD + `// ${salt++}\n`);
    });
    await ctx.rate("transpile, same cell without kthread_run", 200, (n) => {
      for (let i = 0; i < n; i++) transpileCell(THREAD.replace(/kthread_run/g, "kthread_runX") + `// ${salt++}\n`);
    });
    await ctx.time("run: a looping kthread, 5 s simulated, kthread_stop", () => runModule(THREAD, { views: false, config: "distro" }), 7, 1);
    await ctx.time("run: the same 5 msleeps in module_init (no thread)", () => runModule(INLINE, { views: false, config: "distro" }), 7, 1);
  },
};
