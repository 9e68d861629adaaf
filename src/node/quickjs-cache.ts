// The QuickJS module's compiled copy kept on disk between processes (issue 15): sandbox/quickjs_state.ts makes it (a
// runtime and context with the bridge's prelude compiled, as an image of the module's memory) and puts it back; this
// file stores it in the folder of the machine cache (boot-cache.ts: same folders, same switch, KMODLAB_BOOT_CACHE=0
// turns both off), as one more file of that store (magic, header with the full key, the payload's length and CRC-32).
//
// The key: the store's (the build's identity, Node's version and architecture), the QuickJS .wasm's length and CRC-32
// (a package update changes it without a rebuild of lib/) and this payload's format. The payload: a little-endian
// 32-bit length, a JSON header (the layout, the image's sizes and heap end, the four addresses, a CRC-32 of the
// base image of a fresh instance of that build, and the verdicts of sandbox/quickjs.ts's raw-layout checks on that
// build when the writer had them), then the image's low and heap parts.
// A file whose key, length or checksum does not match, whose header does not parse, or whose base image is not the
// module's is not used: the run builds its runtime, and the process writes the file again.

import { crc32 } from "node:zlib";
import type { QuickJSWASMModule } from "quickjs-emscripten-core";
import { readPayload, writeMachine, type MachineStore } from "./boot-cache.ts";
import { adoptState, makeState, type QuickJSState } from "../../sandbox/quickjs_state.ts";
import { presetRawVerdicts, type RawVerdicts } from "../../sandbox/quickjs.ts";
import { takeImage, type MemoryImage } from "../../sandbox/wasm_image.ts";

/** The payload's format (the key holds it). */
export const STATE_FORMAT = 2;

interface Header {
  layout: { sbrkAddr: number; lowEnd: number; heapStart: number };
  low: number;
  heap: number;
  top: number;
  rt: number;
  ctx: number;
  prelude: number;
  out: number;
  base: number;
  /** The raw-layout checks' verdicts on this build (the writer's own module's), when the writer had them. */
  raw?: RawVerdicts;
}

/** The store's key of the state of the QuickJS build `wasmId` (the .wasm's length and CRC-32: wasmIdentity). */
export function stateKey(wasmId: string): string {
  return JSON.stringify(["quickjs-state", STATE_FORMAT, wasmId]);
}

/** The identity of a QuickJS .wasm: its length and CRC-32. */
export function wasmIdentity(bytes: Uint8Array): string {
  return `${bytes.length}:${crc32(bytes)}`;
}

/** The CRC-32 of a base image (its low part, then its heap part, and where the heap ends). */
function imageCrc(img: MemoryImage): number {
  return (crc32(img.heap, crc32(img.low)) ^ img.top) >>> 0;
}

/**
 * The bytes of a state (see the header); `base`: the base image of a fresh instance of the build it was made on;
 * `raw`: the raw-layout checks' verdicts on that build, if known.
 */
export function encodeState(state: QuickJSState, base: MemoryImage, raw?: RawVerdicts): Buffer {
  const h: Header = {
    layout: { sbrkAddr: state.layout.sbrkAddr, lowEnd: state.layout.lowEnd, heapStart: state.layout.heapStart },
    low: state.image.low.length,
    heap: state.image.heap.length,
    top: state.image.top,
    rt: state.rt,
    ctx: state.ctx,
    prelude: state.prelude,
    out: state.out,
    base: imageCrc(base),
    ...(raw && { raw: { values: raw.values, strings: raw.strings } }),
  };
  const json = Buffer.from(JSON.stringify(h), "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  return Buffer.concat([len, json, state.image.low, state.image.heap]);
}

/**
 * A state, the CRC-32 of its base image and the raw-layout verdicts if stored, from its bytes (encodeState), or
 * undefined when they are not one.
 */
export function decodeState(payload: Buffer): { state: QuickJSState; base: number; raw?: RawVerdicts } | undefined {
  try {
    const n = payload.readUInt32LE(0);
    const h = JSON.parse(payload.toString("utf8", 4, 4 + n)) as Header;
    const ints = [h.layout.sbrkAddr, h.layout.lowEnd, h.layout.heapStart, h.low, h.heap, h.top, h.rt, h.ctx, h.prelude, h.out, h.base];
    if (!ints.every((v) => Number.isSafeInteger(v) && v >= 0)) return undefined;
    const raw = h.raw === undefined ? undefined : typeof h.raw?.values === "boolean" && typeof h.raw.strings === "boolean" ? h.raw : null;
    if (raw === null) return undefined;
    if (h.low !== h.layout.lowEnd || h.layout.heapStart + h.heap !== h.top || 4 + n + h.low + h.heap !== payload.length) return undefined;
    const low = payload.subarray(4 + n, 4 + n + h.low);
    const heap = payload.subarray(4 + n + h.low);
    const image: MemoryImage = { low, heap, top: h.top, bytes: low.length + heap.length };
    return {
      state: { layout: h.layout, image, rt: h.rt, ctx: h.ctx, prelude: h.prelude, out: h.out },
      base: h.base,
      ...(raw && { raw: { values: raw.values, strings: raw.strings } }),
    };
  } catch {
    return undefined;
  }
}

/**
 * Give `qjs` (a module loaded from the .wasm `wasmId`, in which nothing has run) the state stored for it, if there is
 * a good one, and the raw-layout verdicts stored with it (sandbox/quickjs.ts presetRawVerdicts). True when its runs
 * now start from it. Never throws.
 */
export function adoptStored(store: MachineStore, wasmId: string, qjs: QuickJSWASMModule): boolean {
  try {
    const payload = readPayload(store, stateKey(wasmId));
    const got = payload && decodeState(payload);
    if (!got || !adoptState(qjs, got.state, (base) => imageCrc(base) === got.base)) return false;
    if (got.raw) presetRawVerdicts(qjs, got.raw);
    return true;
  } catch {
    return false;
  }
}

/**
 * Make the state on `twin` and store it; `pristine`: another instance, in which nothing has run or been probed (the
 * twin's base image is taken after wasm_image.ts's probe, which leaves dlmalloc's statistics moved: the base image a
 * reader's fresh module has is the pristine one's). Both are fresh instances of the build `wasmId`. Returns whether
 * a file was written. `raw`: the raw-layout checks' verdicts a module of this build reached (sandbox/quickjs.ts
 * rawVerdicts), stored with the state. Never throws.
 */
export function storeState(store: MachineStore, wasmId: string, twin: QuickJSWASMModule, pristine: QuickJSWASMModule, raw?: RawVerdicts): boolean {
  try {
    const state = makeState(twin);
    return !!state && writeMachine(store, stateKey(wasmId), encodeState(state, takeImage(pristine, state.layout), raw));
  } catch {
    return false;
  }
}
