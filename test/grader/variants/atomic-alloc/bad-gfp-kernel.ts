// expect: fail atomic-allocs /the handler allocated kmalloc\(256\) at 0x[0-9a-f]+ \(line 11\) with GFP_KERNEL, which may sleep: not allowed in hard interrupt context/ — GFP_KERNEL in the handler
import { request_irq, free_irq, kmalloc, kfree, GFP_ATOMIC, GFP_KERNEL, IRQ_HANDLED,
         MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ } from "sim";

MODULE_LICENSE("GPL");
const kept: bigint[] = [];
const dev = { name: "button" };

function button_handler(irq: number, dev_id: unknown): number {
  const p = kmalloc(256, GFP_KERNEL); // hard interrupt context: must not sleep
  if (p !== 0n) kept.push(p);
  return IRQ_HANDLED;
}

function atomic_init(): number {
  return request_irq(BUTTON_IRQ, button_handler, 0, "kmodlab-button", dev);
}

function atomic_exit(): void {
  free_irq(BUTTON_IRQ, dev);
  for (const p of kept) kfree(p);
}

module_init(atomic_init);
module_exit(atomic_exit);
