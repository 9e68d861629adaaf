// expect: fail atomic-allocs /0 allocations of 256 bytes in the handler, expected 3 \(one per press\); sizes seen: 128, 128, 128/ — 128 bytes
import { request_irq, free_irq, kmalloc, kfree, GFP_ATOMIC, IRQ_HANDLED,
         MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ } from "sim";

MODULE_LICENSE("GPL");
const kept: bigint[] = [];
const dev = { name: "button" };

function button_handler(irq: number, dev_id: unknown): number {
  const p = kmalloc(128, GFP_ATOMIC); // hard interrupt context: must not sleep
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
