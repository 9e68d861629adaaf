// Models mm/vmalloc.c (Linux 6.1): the vmap_area trees — the address-sorted free tree augmented with
// subtree_max_size (RB_DECLARE_CALLBACKS_MAX) and find_vmap_lowest_match(), and the busy tree.
//
// Simplifications (stated): the kernel uses a red-black tree; this is a treap (a balanced binary search tree
// with deterministic priorities derived from the key), with the same augmentation and the same search
// algorithm, so the lowest-fit answer is identical. Keys and sizes are in pages (virtual page numbers), which
// keeps every value a safe JS number even for x86_64's 0xffffc9... addresses (2^52 pages at most).

/** One node: a free block [start, end) in the free tree, or a busy area in the busy tree. Units: pages. */
export interface VmapNode<T = unknown> {
  start: number;
  end: number;
  /** max(end - start) over this node's subtree (the free tree's augmentation; kept in the busy tree too). */
  subtreeMax: number;
  prio: number;
  left: VmapNode<T> | null;
  right: VmapNode<T> | null;
  parent: VmapNode<T> | null;
  /** The busy area's payload (vm_struct etc.); undefined in the free tree. */
  data?: T;
}

/** A deterministic priority for a key (splitmix-style integer hash): the same inserts give the same shape. */
function prioOf(start: number, salt: number): number {
  let h = (Math.imul((start % 0x7fffffff) ^ Math.floor(start / 0x7fffffff), 0x9e3779b1) ^ salt) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const size = (n: VmapNode | null): number => (n ? n.subtreeMax : 0);

/** compute_subtree_max_size(): the augmented value of one node from its children. */
function recompute(n: VmapNode): void {
  n.subtreeMax = Math.max(n.end - n.start, size(n.left), size(n.right));
}

export class VmapTree<T = unknown> {
  root: VmapNode<T> | null = null;
  count = 0;
  private salt: number;

  constructor(salt = 0x5eed) {
    this.salt = salt;
  }

  /** Insert a block that overlaps no other (the kernel's insert_vmap_area / insert_vmap_area_augment). */
  insert(start: number, end: number, data?: T): VmapNode<T> {
    const n: VmapNode<T> = { start, end, subtreeMax: end - start, prio: prioOf(start, this.salt), left: null, right: null, parent: null, data };
    if (!this.root) {
      this.root = n;
      this.count++;
      return n;
    }
    let cur = this.root;
    for (;;) {
      if (start < cur.start) {
        if (end > cur.start) throw new Error(`vmap tree: [${start},${end}) overlaps [${cur.start},${cur.end})`);
        if (!cur.left) {
          cur.left = n;
          break;
        }
        cur = cur.left;
      } else {
        if (start < cur.end) throw new Error(`vmap tree: [${start},${end}) overlaps [${cur.start},${cur.end})`);
        if (!cur.right) {
          cur.right = n;
          break;
        }
        cur = cur.right;
      }
    }
    n.parent = cur;
    this.propagate(cur);
    while (n.parent && n.parent.prio < n.prio) this.rotateUp(n);
    this.count++;
    return n;
  }

  /** Remove a node (unlink_va). */
  remove(n: VmapNode<T>): void {
    // Rotate the node down until it has at most one child, then splice it out.
    while (n.left && n.right) this.rotateUp(n.left.prio > n.right.prio ? n.left : n.right);
    const child = n.left ?? n.right;
    const p = n.parent;
    if (child) child.parent = p;
    if (!p) this.root = child;
    else if (p.left === n) p.left = child;
    else p.right = child;
    n.parent = n.left = n.right = null;
    if (p) this.propagate(p);
    this.count--;
  }

  /** The node's [start, end) changed without changing its order: refresh the augmentation up to the root
   *  (augment_tree_propagate_from). */
  resized(n: VmapNode<T>): void {
    this.propagate(n);
  }

  private propagate(from: VmapNode<T> | null): void {
    for (let n = from; n; n = n.parent) {
      const before = n.subtreeMax;
      recompute(n);
      // Above a node whose value did not change nothing changes either, unless we are still below a rotation.
      if (n.subtreeMax === before && n !== from) break;
    }
  }

  private rotateUp(n: VmapNode<T>): void {
    const p = n.parent!;
    const g = p.parent;
    if (p.left === n) {
      p.left = n.right;
      if (n.right) n.right.parent = p;
      n.right = p;
    } else {
      p.right = n.left;
      if (n.left) n.left.parent = p;
      n.left = p;
    }
    p.parent = n;
    n.parent = g;
    if (!g) this.root = n;
    else if (g.left === p) g.left = n;
    else g.right = n;
    recompute(p);
    recompute(n);
  }

  /** The node containing page `vpn` (find_vmap_area / __find_vmap_area), or null. */
  find(vpn: number): VmapNode<T> | null {
    let n = this.root;
    while (n) {
      if (vpn < n.start) n = n.left;
      else if (vpn >= n.end) n = n.right;
      else return n;
    }
    return null;
  }

  /** The node with the greatest start <= vpn (for neighbour lookups), or null. */
  floor(vpn: number): VmapNode<T> | null {
    let n = this.root;
    let best: VmapNode<T> | null = null;
    while (n) {
      if (n.start <= vpn) {
        best = n;
        n = n.right;
      } else n = n.left;
    }
    return best;
  }

  /** The node with the smallest start >= vpn, or null. */
  ceil(vpn: number): VmapNode<T> | null {
    let n = this.root;
    let best: VmapNode<T> | null = null;
    while (n) {
      if (n.start >= vpn) {
        best = n;
        n = n.left;
      } else n = n.right;
    }
    return best;
  }

  /** In-order (address-sorted) nodes. */
  *inorder(): Generator<VmapNode<T>> {
    const stack: VmapNode<T>[] = [];
    let n = this.root;
    while (n || stack.length) {
      while (n) {
        stack.push(n);
        n = n.left;
      }
      n = stack.pop()!;
      yield n;
      n = n.right;
    }
  }

  /** Largest block in the tree (the root's subtree_max_size). */
  largest(): number {
    return size(this.root);
  }

  /**
   * find_vmap_lowest_match() as in 6.1: the lowest free block where `size` pages aligned to `align` pages fit at or
   * above `vstart`. `length` is the search length the caller adjusted for alignment overhead.
   */
  lowestMatch(sizePages: number, alignPages: number, vstart: number, adjustSearchSize: boolean): VmapNode<T> | null {
    const length = adjustSearchSize ? sizePages + alignPages - 1 : sizePages;
    let node = this.root;
    while (node) {
      if (size(node.left) >= length && vstart < node.start) {
        node = node.left;
        continue;
      }
      if (isWithinThisVa(node, sizePages, alignPages, vstart)) return node;
      if (size(node.right) >= length) {
        node = node.right;
        continue;
      }
      // Roll back to the first ancestor whose right subtree may satisfy the request.
      let found: VmapNode<T> | null = null;
      let up = node.parent;
      node = null;
      while (up) {
        if (isWithinThisVa(up, sizePages, alignPages, vstart)) {
          found = up;
          break;
        }
        if (size(up.right) >= length && vstart <= up.start) {
          vstart = up.start + 1;
          node = up.right;
          break;
        }
        up = up.parent;
      }
      if (found) return found;
    }
    return null;
  }

  /** Verify order, disjointness and the augmentation; returns problems found (empty when consistent). */
  check(name: string): string[] {
    const errs: string[] = [];
    let prevEnd = -Infinity;
    let n = 0;
    const walk = (x: VmapNode<T> | null, parent: VmapNode<T> | null): number => {
      if (!x) return 0;
      if (x.parent !== parent) errs.push(`${name}: bad parent link at ${x.start}`);
      if (parent && x.prio > parent.prio) errs.push(`${name}: heap order broken at ${x.start}`);
      const l = walk(x.left, x);
      if (x.start < prevEnd) errs.push(`${name}: [${x.start},${x.end}) overlaps or is out of order`);
      if (x.end <= x.start) errs.push(`${name}: empty block at ${x.start}`);
      prevEnd = x.end;
      n++;
      const r = walk(x.right, x);
      const want = Math.max(x.end - x.start, l, r);
      if (x.subtreeMax !== want) errs.push(`${name}: subtree_max_size ${x.subtreeMax} != ${want} at ${x.start}`);
      return want;
    };
    walk(this.root, null);
    if (n !== this.count) errs.push(`${name}: count ${this.count} != ${n} nodes`);
    return errs;
  }
}

/** is_within_this_va(): does an aligned block of `size` pages at or above vstart fit in this free block? */
export function isWithinThisVa(va: VmapNode, sizePages: number, alignPages: number, vstart: number): boolean {
  const nvaStart = alignUp(va.start > vstart ? va.start : vstart, alignPages);
  // Can overflow in the kernel; page numbers here cannot.
  return nvaStart + sizePages <= va.end;
}

export function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
