// expect: fail handles-allocation-failure /with the 1st of module_init's \d+ fault sites failing \(kmalloc\(65536, GFP_KERNEL\) at line 11 returned NULL\): init returned -5, not -ENOMEM \(-12\)/ — maps whatever kmalloc returned
import { kmalloc, kfree, dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, GFP_KERNEL,
         ENOMEM, EIO, MODULE_LICENSE, module_init, module_exit } from "linux";
import { dma_device } from "sim";

MODULE_LICENSE("GPL");
const SIZE = 64 * 1024;

function dma_init(): number {
  const dev = dma_device();
  const buf = kmalloc(SIZE, GFP_KERNEL); // physically contiguous, from the linear map
  const handle = dma_map_single(dev, buf, SIZE, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, handle)) {
    kfree(buf);
    return -EIO;
  }
  // ... the device would read the buffer here ...
  dma_unmap_single(dev, handle, SIZE, DMA_TO_DEVICE);
  kfree(buf);
  return 0;
}

module_init(dma_init);
module_exit(() => {});
