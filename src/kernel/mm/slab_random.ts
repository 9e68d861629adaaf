// Models CONFIG_SLAB_FREELIST_RANDOM of Linux 6.1: mm/slab_common.c freelist_randomize() and
// cache_random_seq_create(), mm/slub.c init_cache_random_seq(), init_freelist_randomization(), next_freelist_entry()
// and shuffle_freelist().
//
// What the kernel does, and this file with it:
// - Each cache gets, when it is created (the bootstrap and kmalloc caches all at once in kmem_cache_init(), walking
//   slab_caches newest first), a random permutation of 0..oo_objects(s->oo)-1: a Fisher-Yates shuffle driven by a
//   prandom state seeded with get_random_long(). Caches of fewer than two objects per slab get none.
// - Each new slab starts at a random position of that sequence (get_random_u32() % count) and links its objects in
//   the sequence's order from there, wrapping at the end and skipping indices the slab does not have (a slab that
//   fell back to the minimum order holds fewer objects than the sequence).
// Where it is on: the 6.1 distro config (the Debian amd64, 686, 686-pae and armmp configs all have
// CONFIG_SLAB_FREELIST_RANDOM=y). Not in the debug config (the real custom 6.1.192 debug build has it unset), nor in
// the 2.6 (SLAB predates it) and 3.4 profiles (it arrived in 4.7/4.8).
//
// Simplifications (stated):
// - get_random_long() and get_random_u32() come from the CRNG in the kernel; here they come from one LFSR113 stream
//   (the kernel's own prandom, as KASLR's model uses) seeded from the boot's --seed, so a run is reproducible. Without
//   --seed the stream is seeded as with --seed 0: the order is still shuffled, and the same on every run.
// - The sequence holds object indices, not the byte offsets (index * s->size) the kernel stores.

import { PrandomState, kaslrRandomLong } from "../arch/x86_64.ts";

/** The stream's purpose tag ("slab"), so that it is independent of KASLR's and fault injection's streams. */
const SLAB_STREAM = 0x736c6162n;

/** The randomness CONFIG_SLAB_FREELIST_RANDOM draws: one deterministic stream per boot. */
export class FreelistRandom {
  private readonly rng: PrandomState;

  constructor(seed: number | undefined) {
    this.rng = new PrandomState(kaslrRandomLong(seed ?? 0) ^ SLAB_STREAM);
  }

  /** get_random_u32() */
  getRandomU32(): number {
    return this.rng.u32();
  }

  /**
   * cache_random_seq_create(): the cache's pre-computed random sequence of `count` object indices, or undefined when
   * count < 2 (nothing to shuffle).
   */
  cacheRandomSeqCreate(count: number): Uint32Array | undefined {
    const seed = this.cacheRandomSeed(count);
    return seed === undefined ? undefined : randomSeqFromSeed(seed, count);
  }

  /**
   * cache_random_seq_create()'s draw: get_random_long(), the seed of the cache's own prandom state, taken when the
   * cache is created (so the stream's order is the kernel's); undefined when count < 2. The Fisher-Yates shuffle
   * itself (randomSeqFromSeed) can then wait until a slab needs the sequence: same sequence, and the ~150 boot
   * caches whose slabs the boot takes whole never pay for it.
   */
  cacheRandomSeed(count: number): bigint | undefined {
    return count < 2 ? undefined : this.rng.u64();
  }

  /**
   * shuffle_freelist()'s walk: the first `objects` entries of the freelist of a new slab, head first, written into
   * out[0..objects-1]. pos = get_random_u32() % count; next_freelist_entry() skips indices >= objects.
   */
  shuffleOrder(seq: Uint32Array, objects: number, out: (j: number, idx: number) => void): void {
    const count = seq.length;
    let pos = this.getRandomU32() % count;
    for (let j = 0; j < objects; j++) {
      let idx: number;
      do {
        idx = seq[pos];
        if (++pos >= count) pos = 0;
      } while (idx >= objects);
      out(j, idx);
    }
  }
}

/** The random sequence of a cache whose get_random_long() draw was `seed`: prandom_seed_state() + freelist_randomize(). */
export function randomSeqFromSeed(seed: bigint, count: number): Uint32Array {
  const list = new Uint32Array(count);
  freelistRandomize(new PrandomState(seed), list);
  // (Not marked immutable() for snapshots: in a CPU profile of 300 x86_64 distro boots, adding the ~100 arrays of a
  // boot to that WeakSet took ~0.25 ms per boot; a snapshot's copy of them, a few KiB, is cheaper.)
  return list;
}

/** freelist_randomize(): list[i] = i, then a Fisher-Yates shuffle from the top, rand = prandom_u32_state() % (i + 1). */
export function freelistRandomize(state: PrandomState, list: Uint32Array): void {
  const count = list.length;
  for (let i = 0; i < count; i++) list[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const rand = state.u32() % (i + 1);
    const t = list[i];
    list[i] = list[rand];
    list[rand] = t;
  }
}
