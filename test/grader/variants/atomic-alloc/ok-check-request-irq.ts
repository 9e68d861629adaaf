// expect: pass — checks request_irq's result and keeps the allocations in a Set
import { request_irq, free_irq, kmalloc, kfree, GFP_ATOMIC, IRQ_HANDLED, MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ } from "sim";

MODULE_LICENSE("GPL");
const held = new Set<bigint>();
const dev = {};

function on_press(irq: number, dev_id: unknown): number {
  const buf = kmalloc(256, GFP_ATOMIC);
  if (buf !== 0n) held.add(buf);
  return IRQ_HANDLED;
}

function init(): number {
  const err = request_irq(BUTTON_IRQ, on_press, 0, "button", dev);
  if (err) return err;
  return 0;
}

function exit(): void {
  free_irq(BUTTON_IRQ, dev);
  held.forEach((b) => kfree(b));
  held.clear();
}

module_init(init);
module_exit(exit);
