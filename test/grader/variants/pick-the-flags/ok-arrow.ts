// expect: pass — arrow functions as the callbacks (no names: the records tell them apart by context)
import { timer_setup, mod_timer, del_timer_sync, tasklet_setup, tasklet_schedule, tasklet_kill,
         INIT_WORK, schedule_work, flush_work, kmalloc, kfree, GFP_KERNEL, GFP_ATOMIC, jiffies, msecs_to_jiffies,
         timer_list, tasklet_struct, work_struct, MODULE_LICENSE, module_init, module_exit } from "linux";

MODULE_LICENSE("GPL");
const bufs = { timer: 0n, tasklet: 0n, work: 0n };
const timer = new timer_list();
const tasklet = new tasklet_struct();
const work = new work_struct();

module_init(() => {
  timer_setup(timer, () => { bufs.timer = kmalloc(128, GFP_ATOMIC); }, 0);
  mod_timer(timer, jiffies + msecs_to_jiffies(5));
  tasklet_setup(tasklet, () => { bufs.tasklet = kmalloc(128, GFP_ATOMIC); });
  tasklet_schedule(tasklet);
  INIT_WORK(work, () => { bufs.work = kmalloc(128, GFP_KERNEL); });
  schedule_work(work);
  return 0;
});

module_exit(() => {
  del_timer_sync(timer);
  tasklet_kill(tasklet);
  flush_work(work);
  kfree(bufs.timer);
  kfree(bufs.tasklet);
  kfree(bufs.work);
});
