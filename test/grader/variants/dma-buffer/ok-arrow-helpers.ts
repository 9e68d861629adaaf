// expect: pass — arrow functions, a helper for one transfer, the buffer kept until unload
import { kmalloc, kfree, dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, GFP_KERNEL,
         ENOMEM, EIO, MODULE_LICENSE, module_init, module_exit } from "linux";
import { dma_device } from "sim";

MODULE_LICENSE("GPL");
const SIZE = 65536;
let buf = 0n;

const transfer = (): number => {
  const dev = dma_device();
  const h = dma_map_single(dev, buf, SIZE, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, h)) return -EIO;
  dma_unmap_single(dev, h, SIZE, DMA_TO_DEVICE);
  return 0;
};

module_init(() => {
  buf = kmalloc(SIZE, GFP_KERNEL);
  if (!buf) return -ENOMEM;
  const err = transfer();
  if (err) kfree(buf);
  return err;
});
module_exit(() => kfree(buf));
