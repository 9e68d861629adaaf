// The learner's code, saved as typed. Key: lesson id + cell id. Each entry remembers the lesson's original it was
// edited from, so that when a lesson is updated we can say so and offer both versions.
// Storage is injected (localStorage in the page, a Map-backed fake in tests); failures (quota, private mode) never throw.

import { formerPlace } from "./moved.ts";

export interface SavedCell {
  code: string;
  /** Hash of the lesson's original when the learner started editing. */
  base: string;
  /** Profile the learner picked, if not the lesson's. */
  profile?: string;
  mem?: string;
  cmdline?: string;
  /** Kernel config the learner picked (debug / distro), if not the cell's. */
  config?: string;
  /** CPU limit the learner set, as typed (ms). */
  cpu?: string;
  savedAt: number;
}

export interface Progress {
  /** Cells that ran with init returning 0 and no report. */
  ran: string[];
  /** Exercises passed. */
  passed: string[];
  visited?: boolean;
}

export interface KV {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
}

const PREFIX = "kmodlab:v1:";

/** FNV-1a, 32 bit, as hex: stable and cheap; only used to notice that an original changed. */
export function hashText(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

export type CellState =
  | { kind: "original"; code: string }
  | { kind: "edited"; code: string; saved: SavedCell }
  /** The learner edited an older version of the lesson's cell; the lesson has since changed. */
  | { kind: "stale"; code: string; saved: SavedCell; original: string };

export class NotebookStore {
  constructor(private kv: KV | null) {}

  private get<T>(key: string): T | undefined {
    try {
      const v = this.kv?.getItem(PREFIX + key);
      return v ? (JSON.parse(v) as T) : undefined;
    } catch {
      return undefined;
    }
  }

  private set(key: string, v: unknown): boolean {
    if (!this.kv) return false;
    try {
      this.kv.setItem(PREFIX + key, JSON.stringify(v));
      return true;
    } catch {
      return false;
    }
  }

  private del(key: string) {
    try {
      this.kv?.removeItem(PREFIX + key);
    } catch {
      /* ignore */
    }
  }

  loadCell(lesson: string, cell: string): SavedCell | undefined {
    // a cell that moved to another lesson (moved.ts) keeps the code saved where it was
    const was = formerPlace(lesson, cell);
    const s = this.get<SavedCell>(`cell:${lesson}:${cell}`) ?? (was ? this.get<SavedCell>(`cell:${was.lesson}:${was.cell}`) : undefined);
    return s && typeof s.code === "string" ? s : undefined;
  }

  /** What the cell should show now, given the lesson's current original. */
  cellState(lesson: string, cell: string, original: string): CellState {
    const saved = this.loadCell(lesson, cell);
    if (!saved || saved.code === original) return { kind: "original", code: original };
    if (saved.base !== hashText(original)) return { kind: "stale", code: saved.code, saved, original };
    return { kind: "edited", code: saved.code, saved };
  }

  /** Save code as typed. Code equal to the original (and no profile choice) removes the entry. Returns false if storage failed. */
  saveCell(
    lesson: string,
    cell: string,
    original: string,
    code: string,
    extra: Partial<Pick<SavedCell, "profile" | "mem" | "cmdline" | "config" | "cpu">> = {},
    base?: string,
  ): boolean {
    const prev = this.loadCell(lesson, cell);
    const next: SavedCell = {
      code,
      // keep the base the learner started from, so a stale edit stays stale until they resolve it
      base: base ?? prev?.base ?? hashText(original),
      ...(prev ? { profile: prev.profile, mem: prev.mem, cmdline: prev.cmdline, config: prev.config, cpu: prev.cpu } : {}),
      ...extra,
      savedAt: Date.now(),
    };
    if (code === original && !next.profile && !next.mem && !next.cmdline && !next.config && !next.cpu) {
      this.del(`cell:${lesson}:${cell}`);
      return true;
    }
    return this.set(`cell:${lesson}:${cell}`, next);
  }

  /** The learner chose to keep their edit on top of the new original: rebase it. */
  acceptStale(lesson: string, cell: string, original: string) {
    const prev = this.loadCell(lesson, cell);
    if (prev) this.set(`cell:${lesson}:${cell}`, { ...prev, base: hashText(original) });
  }

  /** Keep a learner's code aside (they chose the lesson's new version): never lose what they typed. */
  stashPrevious(lesson: string, cell: string, code: string): boolean {
    return this.set(`prev:${lesson}:${cell}`, { code, savedAt: Date.now() });
  }

  previous(lesson: string, cell: string): string | undefined {
    const p = this.get<{ code?: unknown }>(`prev:${lesson}:${cell}`);
    return typeof p?.code === "string" ? p.code : undefined;
  }

  forgetPrevious(lesson: string, cell: string) {
    this.del(`prev:${lesson}:${cell}`);
  }

  resetCell(lesson: string, cell: string) {
    this.del(`cell:${lesson}:${cell}`);
  }

  progress(lesson: string): Progress {
    const p = this.get<Progress>(`progress:${lesson}`);
    return { ran: Array.isArray(p?.ran) ? p!.ran : [], passed: Array.isArray(p?.passed) ? p!.passed : [], visited: !!p?.visited };
  }

  markProgress(lesson: string, update: { ran?: string; passed?: string; visited?: boolean }) {
    const p = this.progress(lesson);
    if (update.ran && !p.ran.includes(update.ran)) p.ran.push(update.ran);
    if (update.passed && !p.passed.includes(update.passed)) p.passed.push(update.passed);
    if (update.visited) p.visited = true;
    this.set(`progress:${lesson}`, p);
    if (update.passed) this.markExercisePassed(update.passed);
  }

  /**
   * Exercises passed, by exercise id, whichever lesson's cell passed them: one exercise in two lessons (lesson 2's
   * three-allocators again in lesson 10, lesson 5's big-buffer in 11) counts once, and shows passed in both.
   */
  passedExercises(): Set<string> {
    const p = this.get<string[]>("exercises-passed");
    return new Set(Array.isArray(p) ? p.filter((x) => typeof x === "string") : []);
  }

  markExercisePassed(id: string) {
    const all = this.passedExercises();
    if (all.has(id)) return;
    all.add(id);
    this.set("exercises-passed", [...all]);
  }
}

/** localStorage when usable, else null (the store then keeps nothing, and says so through saveCell's false). */
export function browserKV(): KV | null {
  try {
    const ls = globalThis.localStorage;
    const probe = PREFIX + "probe";
    ls.setItem(probe, "1");
    ls.removeItem(probe);
    return ls;
  } catch {
    return null;
  }
}
