// expect: pass — __get_free_pages of order 4 (16 pages = 64 KiB), freed with free_pages
import { __get_free_pages, free_pages, dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, GFP_KERNEL,
         ENOMEM, EIO, MODULE_LICENSE, module_init, module_exit } from "linux";
import { dma_device } from "sim";

MODULE_LICENSE("GPL");
const SIZE = 64 * 1024;

function dma_init(): number {
  const dev = dma_device();
  const buf = __get_free_pages(GFP_KERNEL, 4); // 16 pages, physically contiguous
  if (buf === 0n) return -ENOMEM;
  const handle = dma_map_single(dev, buf, SIZE, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, handle)) {
    free_pages(buf, 4);
    return -EIO;
  }
  // ... the device would read the buffer here ...
  dma_unmap_single(dev, handle, SIZE, DMA_TO_DEVICE);
  free_pages(buf, 4);
  return 0;
}

module_init(dma_init);
module_exit(() => {});
