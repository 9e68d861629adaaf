// Models no kernel file: the one-line learner explanations kmodlab appends (Report.explain) after the kernel's own text for a wrong free (Linux 6.1, 3.4, 2.6.32 paths named).
//
// The allocators (mm/slub.ts, mm/vmalloc.ts, mm/page_alloc.ts) print what the modelled kernel prints for each wrong
// free — a WARN ("Trying to vfree() nonexistent vm area"), a BUG (kfree of a vmalloc address hits
// BUG_ON(!folio_test_slab()) / virt_to_head_page garbage), "Bad page state", a KASAN invalid-free, SLUB's
// "kmem_cache_free: Wrong slab cache" — and set `explain` from explainWrongFree(kind), so every wrong free reads the
// same way to the learner whatever the era's kernel text.

export type WrongFree =
  | "kfree-vmalloc"
  | "vfree-kmalloc"
  | "vfree-unaligned"
  | "free_pages-not-page"
  | "free_pages-wrong-order"
  | "kmem_cache_free-wrong-cache"
  | "kfree-not-slab"
  | "double-free";

const EXPLAIN: Record<WrongFree, string> = {
  "kfree-vmalloc":
    "kfree() was given a vmalloc() address: memory from vmalloc() must be released with vfree() (or kvfree() when you do not know which allocator it came from).",
  "vfree-kmalloc": "vfree() was given a kmalloc() address: vfree() only knows areas in the vmalloc range; memory from kmalloc() must be released with kfree().",
  "vfree-unaligned": "vfree() needs the exact address vmalloc() returned (page aligned), not a pointer into the middle of the area.",
  "free_pages-not-page":
    "free_pages() needs the address __get_free_pages() returned; this address did not come from the page allocator (kmalloc, vmalloc or a pointer into a block).",
  "free_pages-wrong-order":
    "free_pages(addr, order) must use the same order as the allocation: a different order frees pages that are not yours, or leaks some.",
  "kmem_cache_free-wrong-cache": "kmem_cache_free() must be given the cache the object was allocated from: the object belongs to another kmem_cache.",
  "kfree-not-slab": "kfree() was given an address that no kmalloc() returned (a stack, static or page-allocator address).",
  "double-free": "The same memory was freed twice: after the first free it may already belong to someone else.",
};

/** The learner's one-line explanation for a wrong free (Report.explain). */
export function explainWrongFree(kind: WrongFree): string {
  return EXPLAIN[kind];
}
