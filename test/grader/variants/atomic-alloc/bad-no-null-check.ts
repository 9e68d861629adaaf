// expect: fail handles-allocation-failure /with the 1st failslab call after boot \(in button_handler\) failing \(kmalloc\(256, GFP_ATOMIC\) at line 11 returned NULL\): the kernel reported \[kasan\] BUG: KASAN: null-ptr-deref in button_handler\+0x50\/0xe0 \[cell\] \(line 12\)/ — clears each buffer without checking that the allocation succeeded
import { request_irq, free_irq, memset, kmalloc, kfree, GFP_ATOMIC, IRQ_HANDLED,
         MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ } from "sim";

MODULE_LICENSE("GPL");
const kept: bigint[] = [];
const dev = { name: "button" };

function button_handler(irq: number, dev_id: unknown): number {
  const p = kmalloc(256, GFP_ATOMIC); // hard interrupt context: must not sleep
  memset(p, 0, 256);
  kept.push(p);
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
