// Booted machines cached on disk between processes (issue 15): `kmodlab run` reads the machine it needs from a file
// instead of booting it (a boot is ~40 ms of a ~200 ms start; reading one back is a fraction of that). The machine's
// form is src/kernel/snapshot_disk.ts's (a Kernel as records, structured-clone serialised by node:v8); this file
// keeps it on disk.
//
// A file holds one machine: a magic line, a JSON header (the full key, the payload's length and CRC-32), then the
// payload. The key is everything the machine depends on: the boot options (profile, mem, cmdline, seed, config), the
// build (an identity vite.node.config.ts compiles into the run worker's code), Node's version and architecture (the
// serialiser's format) and the record format. A file whose key, length or checksum does not match, or
// whose records do not decode in this build, is ignored (and replaced by the next boot): a stale or corrupt cache
// costs a boot, never a wrong machine.
//
// Where: a folder `machines/` next to the run worker's code (lib/), or, when that is not writable (a package
// installed by another user), the user's cache folder ($XDG_CACHE_HOME or ~/.cache, kmodlab/machines/).
// KMODLAB_BOOT_CACHE_DIR names another folder; KMODLAB_BOOT_CACHE=0 turns the cache off. A folder keeps its
// MAX_FILES most recently written machines. Writes go to a temporary name and are renamed into place, so concurrent
// writers never leave a torn file. Nothing here may fail a run: a file that cannot be read or written is no cache.

import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { crc32 } from "node:zlib";
import { readTransient } from "./scratch.ts";

const MAGIC = "kmodlab machine\n";
/** The most machine files a folder keeps (each one ~1-3 MB). */
export const MAX_FILES = 16;

export interface MachineStore {
  /** Folders tried in order (read: the first that has the file; write: the first that takes it). */
  dirs: string[];
  /** The build and runtime part of every key. */
  build: string;
  /** The most files a folder keeps (default MAX_FILES). */
  maxFiles?: number;
}

/**
 * The store of the build `build` (its identity, vite.node.config.ts BUILD_ID) whose run worker's code is `codeFile`
 * (lib/isolate-worker-code.cjs), for records of format `format`; undefined when turned off. `sub`: a folder of its own
 * inside each machine folder, keeping `maxFiles` files (cell-cache.ts's transpiled cells, which must not push the
 * machines out).
 */
export function machineStore(codeFile: string, build: string, format: number, sub?: { folder: string; maxFiles: number }): MachineStore | undefined {
  if (process.env.KMODLAB_BOOT_CACHE === "0") return undefined;
  const dirs = process.env.KMODLAB_BOOT_CACHE_DIR
    ? [process.env.KMODLAB_BOOT_CACHE_DIR]
    : [join(codeFile, "..", "machines"), join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "kmodlab", "machines")];
  const build_ = JSON.stringify([build, process.version, process.arch, format]);
  return sub ? { dirs: dirs.map((d) => join(d, sub.folder)), build: build_, maxFiles: sub.maxFiles } : { dirs, build: build_ };
}

/**
 * The full key of a machine, and its file name: two 32-bit FNV-1a hashes of the key (the header holds the key itself,
 * so two keys of one name only miss each other; node:crypto would cost the run worker its loading, ~1-3 ms).
 */
function keyOf(store: MachineStore, machine: string): { key: string; file: string } {
  const key = JSON.stringify([store.build, machine]);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return { key, file: `machine-${h1.toString(16).padStart(8, "0")}${h2.toString(16).padStart(8, "0")}.bin` };
}

/**
 * The bytes of `file` in the first of the store's folders that has it, or undefined. `transient`: in scratch.ts's
 * memory, valid until the next such read (the caller decodes them at once and keeps nothing of them).
 */
function readStored(store: MachineStore, file: string, transient = false): Buffer | undefined {
  for (const dir of store.dirs) {
    try {
      return transient ? readTransient(join(dir, file)) : readFileSync(join(dir, file));
    } catch {
      // not in this folder: the next one
    }
  }
  return undefined;
}

/**
 * The payload stored for `machine` (its records, deserialised), or undefined: none, stale or corrupt. The records'
 * typed arrays (their columns) are views of scratch.ts's memory: decode them before anything else reads a file that
 * way (snapshot_disk.ts decodeMachine copies what the machine keeps; its ArrayBuffers are the deserialiser's copies).
 */
export function readMachine(store: MachineStore, machine: string): unknown {
  const { key, file } = keyOf(store, machine);
  const bytes = readStored(store, file, true);
  return bytes === undefined ? undefined : parse(bytes, key);
}

/** The payload's bytes stored for `key` (writeMachine), as they are in the file, or undefined: none, stale or corrupt. */
export function readPayload(store: MachineStore, key: string): Buffer | undefined {
  const { key: full, file } = keyOf(store, key);
  const bytes = readStored(store, file);
  return bytes === undefined ? undefined : payloadOf(bytes, full);
}

/**
 * Whether `machine` was booted before without being stored: a machine is stored the second time it is booted, so that
 * one asked for once (a `--seed` tried once) costs its run no encoding (~40-50 ms for x86_64-6.1 on a cold JIT). The
 * first time leaves an empty marker file (machine-HASH.seen) and answers false. Never throws.
 */
export function bootedBefore(store: MachineStore, machine: string): boolean {
  const seen = keyOf(store, machine).file.replace(/\.bin$/, ".seen");
  for (const dir of store.dirs) {
    try {
      statSync(join(dir, seen));
      return true;
    } catch {
      // not in this folder
    }
  }
  for (const dir of store.dirs) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, seen), "");
      prune(dir, join(dir, seen), ".seen", store.maxFiles);
      return false;
    } catch {
      // not writable: the next folder
    }
  }
  return false;
}

/** The payload of a machine file, when its key, length and checksum are right; undefined otherwise. */
export function parse(bytes: Buffer, key: string): unknown {
  try {
    const payload = payloadOf(bytes, key);
    return payload && deserialize(payload);
  } catch {
    return undefined;
  }
}

/** The payload's bytes of a file (format()), when its key, length and checksum are right; undefined otherwise. */
export function payloadOf(bytes: Buffer, key: string): Buffer | undefined {
  try {
    if (bytes.toString("latin1", 0, MAGIC.length) !== MAGIC) return undefined;
    const nl = bytes.indexOf(10, MAGIC.length);
    if (nl < 0) return undefined;
    const header = JSON.parse(bytes.toString("utf8", MAGIC.length, nl)) as { key?: unknown; length?: unknown; crc?: unknown };
    if (header.key !== key) return undefined;
    const payload = bytes.subarray(nl + 1);
    if (payload.length !== header.length || crc32(payload) !== header.crc) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

/** The bytes of a machine file: magic, header, payload. */
export function format(payload: Buffer, key: string): Buffer {
  const header = JSON.stringify({ key, length: payload.length, crc: crc32(payload) });
  return Buffer.concat([Buffer.from(MAGIC, "latin1"), Buffer.from(header + "\n", "utf8"), payload]);
}

/** The payload of `records` (structured clone: node:v8's serialiser); throws what serialize() throws. */
export function toPayload(records: unknown): Buffer {
  return serialize(records);
}

/** The records of a payload, as a file read back would give them. */
export function fromPayload(payload: Buffer): unknown {
  return deserialize(payload);
}

/** Store a payload (toPayload) as `machine`. Never throws; returns whether a file was written. */
export function writeMachine(store: MachineStore, machine: string, payload: Buffer): boolean {
  const { key, file } = keyOf(store, machine);
  const bytes = format(payload, key);
  for (const dir of store.dirs) {
    const path = join(dir, file);
    const tmp = `${path}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, bytes, { mode: 0o644 });
      renameSync(tmp, path);
      prune(dir, path, ".bin", store.maxFiles);
      return true;
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        // never written
      }
    }
  }
  return false;
}

/** Keep the folder's `max` newest machine files (or markers: `ext`), `keep` (just written) among them. */
function prune(dir: string, keep: string, ext: ".bin" | ".seen", max = MAX_FILES): void {
  try {
    const files = readdirSync(dir)
      .filter((f) => f.startsWith("machine-") && f.endsWith(ext))
      .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
      .sort((x, y) => y.mtime - x.mtime);
    for (const f of files.slice(max)) if (f.path !== keep) unlinkSync(f.path);
  } catch {
    // another process pruned it meanwhile
  }
}
