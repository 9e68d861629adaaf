// expect: pass — the work item allocates with GFP_KERNEL first, then takes a spinlock only to publish the pointer
import { timer_setup, mod_timer, del_timer_sync, tasklet_setup, tasklet_schedule, tasklet_kill,
         INIT_WORK, schedule_work, flush_work, kmalloc, kfree, GFP_KERNEL, GFP_ATOMIC, jiffies, msecs_to_jiffies,
         spin_lock, spin_unlock, DEFINE_SPINLOCK, timer_list, tasklet_struct, work_struct, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const lock = DEFINE_SPINLOCK();
let a = 0n, b = 0n, c = 0n;
const timer = new timer_list();
const tasklet = new tasklet_struct();
const work = new work_struct();

function on_timer(t: timer_list): void { a = kmalloc(128, GFP_ATOMIC); }
function on_tasklet(t: tasklet_struct): void { b = kmalloc(128, GFP_ATOMIC); }
function on_work(w: work_struct): void {
  const p = kmalloc(128, GFP_KERNEL);
  spin_lock(lock);
  c = p;
  spin_unlock(lock);
}

function flags_init(): number {
  timer_setup(timer, on_timer, 0);
  mod_timer(timer, jiffies + msecs_to_jiffies(10));
  tasklet_setup(tasklet, on_tasklet);
  tasklet_schedule(tasklet);
  INIT_WORK(work, on_work);
  schedule_work(work);
  return 0;
}

function flags_exit(): void {
  del_timer_sync(timer);
  tasklet_kill(tasklet);
  flush_work(work);
  for (const p of [a, b, c]) if (p) kfree(p);
}

module_init(flags_init);
module_exit(flags_exit);
