// expect: fail unmapped-before-free /the buffer was freed while the device could still use it \(before the unmap\)/ — frees the buffer while it is still mapped
import { kmalloc, kfree, dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, GFP_KERNEL,
         ENOMEM, EIO, MODULE_LICENSE, module_init, module_exit } from "linux";
import { dma_device } from "sim";

MODULE_LICENSE("GPL");
const SIZE = 64 * 1024;

function dma_init(): number {
  const dev = dma_device();
  const buf = kmalloc(SIZE, GFP_KERNEL); // physically contiguous, from the linear map
  if (buf === 0n) return -ENOMEM;
  const handle = dma_map_single(dev, buf, SIZE, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, handle)) {
    kfree(buf);
    return -EIO;
  }
  // ... the device would read the buffer here ...
  kfree(buf);
  dma_unmap_single(dev, handle, SIZE, DMA_TO_DEVICE);
  return 0;
}

module_init(dma_init);
module_exit(() => {});
