// expect: fail no-leak /never freed: kmalloc\(128\) at 0x[0-9a-f]+ \(line 14\)/ — exit frees two of the three
import { timer_setup, mod_timer, del_timer_sync, tasklet_setup, tasklet_schedule, tasklet_kill,
         INIT_WORK, schedule_work, flush_work, kmalloc, kfree, GFP_KERNEL, GFP_ATOMIC, jiffies, msecs_to_jiffies,
         timer_list, tasklet_struct, work_struct, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
let a = 0n, b = 0n, c = 0n;
const timer = new timer_list();
const tasklet = new tasklet_struct();
const work = new work_struct();

function timer_cb(t: timer_list): void { a = kmalloc(128, GFP_ATOMIC); }     // softirq: must not sleep
function tasklet_cb(t: tasklet_struct): void { b = kmalloc(128, GFP_ATOMIC); } // softirq: must not sleep
function work_cb(w: work_struct): void { c = kmalloc(128, GFP_KERNEL); }       // a kworker thread: may sleep

function flags_init(): number {
  timer_setup(timer, timer_cb, 0);
  mod_timer(timer, jiffies + msecs_to_jiffies(10));
  tasklet_setup(tasklet, tasklet_cb);
  tasklet_schedule(tasklet);
  INIT_WORK(work, work_cb);
  schedule_work(work);
  return 0;
}

function flags_exit(): void {
  del_timer_sync(timer);
  tasklet_kill(tasklet);
  flush_work(work);
  kfree(a); kfree(b);
}

module_init(flags_init);
module_exit(flags_exit);
