// expect: fail atomic-allocs /no allocation was made in hard interrupt context \(the module's allocations: kmalloc\(256\) at 0x[0-9a-f]+ \(line 17\) in process context \(init\), kmalloc\(256\) at 0x[0-9a-f]+ \(line 17\) in process context \(init\), kmalloc\(256\) at 0x[0-9a-f]+ \(line 17\) in process context \(init\)\)/ — allocates the three buffers in init and only counts presses in the handler
import { request_irq, free_irq, kmalloc, kfree, GFP_KERNEL, ENOMEM, IRQ_HANDLED, MODULE_LICENSE, module_init, module_exit } from "linux";
import { BUTTON_IRQ } from "sim";

MODULE_LICENSE("GPL");
const kept: bigint[] = [];
const dev = { name: "button" };
let presses = 0;

function button_handler(irq: number, dev_id: unknown): number {
  presses++;
  return IRQ_HANDLED;
}

function atomic_init(): number {
  for (let i = 0; i < 3; i++) {
    const p = kmalloc(256, GFP_KERNEL);
    if (!p) { kept.forEach((x) => kfree(x)); return -ENOMEM; }
    kept.push(p);
  }
  return request_irq(BUTTON_IRQ, button_handler, 0, "kmodlab-button", dev);
}

function atomic_exit(): void {
  free_irq(BUTTON_IRQ, dev);
  for (const p of kept) kfree(p);
}

module_init(atomic_init);
module_exit(atomic_exit);
