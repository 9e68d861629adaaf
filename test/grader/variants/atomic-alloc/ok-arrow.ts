// expect: pass — an arrow function as the handler, a fixed array of three slots and a counter
import { request_irq, free_irq, kmalloc, kfree, GFP_ATOMIC, IRQ_HANDLED, MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ } from "sim";

MODULE_LICENSE("GPL");
const slots: bigint[] = [0n, 0n, 0n];
let presses = 0;
const cookie = { who: "me" };

module_init(() =>
  request_irq(BUTTON_IRQ, (irq: number, dev: unknown) => {
    if (presses < slots.length) {
      const p = kmalloc(256, GFP_ATOMIC);
      if (p) slots[presses++] = p;
    }
    return IRQ_HANDLED;
  }, 0, "kmodlab-button", cookie),
);

module_exit(() => {
  free_irq(BUTTON_IRQ, cookie);
  for (const p of slots) kfree(p);
});
