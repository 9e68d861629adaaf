// The page allocator's neighbours (printk levels, GFP tables, WARN/BUG splats), gathered in one place so that
// mm/page_alloc.ts, mm/show_mem.ts and the /proc renderers name each dependency once.

export { KERN_ALERT, KERN_WARNING, KERN_INFO, KERN_DEBUG, KERN_NOTICE, KERN_ERR, KERN_CONT, KERN_DEFAULT } from "../kernel/printk.ts";
export { gfpFlags, formatGfp } from "../gfp.ts";
export { warn, dump_stack, splat, recordSplat, print_modules } from "../debug/splat.ts";
