// expect: pass — alloc_pages + page_address, mapped, checked, unmapped, freed with __free_pages
import { alloc_pages, __free_pages, page_address, dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE,
         GFP_KERNEL, ENOMEM, EIO, MODULE_LICENSE, module_init, module_exit } from "linux";
import { dma_device } from "sim";

MODULE_LICENSE("GPL");
const ORDER = 4;
const SIZE = 4096 << ORDER;

function dma_init(): number {
  const dev = dma_device();
  const page = alloc_pages(GFP_KERNEL, ORDER);
  if (page === 0n) return -ENOMEM;
  const buf = page_address(page);
  const handle = dma_map_single(dev, buf, SIZE, DMA_TO_DEVICE);
  let err = 0;
  if (dma_mapping_error(dev, handle)) err = -EIO;
  else dma_unmap_single(dev, handle, SIZE, DMA_TO_DEVICE);
  __free_pages(page, ORDER);
  return err;
}

module_init(dma_init);
module_exit(() => {});
