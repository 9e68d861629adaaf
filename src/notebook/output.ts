// The output panel under a cell: a one-line summary, the boot log folded away, the module's dmesg coloured by log
// level, one card per report (the kernel's full text and a plain explanation; frames link to cell lines), and the views.
// Everything from the run is inserted as text, never as HTML.

import type { RunResult } from "../../sandbox/result.ts";
import type { Report } from "../kernel/types.ts";
import { h } from "./dom.ts";
import type { RunOutcome } from "./runner.ts";
import type { GradeInfo } from "./protocol.ts";
import { addressesInDmesg, buildAddrModel, renderAddrSpace } from "./views/addrspace.ts";
import { renderProcTable } from "./views/proc.ts";
import { buildFrameModel, renderFrameMap } from "./views/frames.ts";
import { linkAddresses, WalkPanel } from "./views/walk.ts";
import type { WalkJson } from "../kernel/mm/ptdump.ts";
import { digestOf, type PageReport } from "./digest.ts";
import { userBlock } from "./views/user.ts";
import { buildBothModel, renderBoth } from "./views/both.ts";
import { alignLines, compareFigures } from "./compare.ts";

const LEVEL_NAMES = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];

/** Plain words for a report kind, when the kernel's report carries no `explain` of its own. */
export const KIND_EXPLAIN: Record<string, string> = {
  "sleep-in-atomic":
    "The module called something that may sleep (wait for memory or a lock) while the CPU was in a context that must not sleep: an interrupt, a timer, or with a spinlock held. In atomic context use GFP_ATOMIC.",
  "scheduling-while-atomic": "The module made the CPU schedule (switch tasks) while in atomic context. Nothing that sleeps may run there.",
  "page-alloc-failure":
    "The page allocator could not find a free block of the size asked for. The warning shows the order (2^order pages), the flags, and what was free in each zone.",
  "vmalloc-failure": "vmalloc could not find enough virtual address space, or enough pages, for the request.",
  kasan: "KASAN caught an access to memory the module did not own: past the end of a buffer, or after it was freed.",
  slub: "The slab allocator's debug checks found damaged memory around an object (a red zone or poison pattern was overwritten).",
  "double-free": "The module freed the same memory twice. After the first free, the memory may already belong to someone else.",
  "invalid-free": "The module freed an address that the allocator never handed out (or gave it to the wrong free function).",
  "bad-page": "A page was freed in a state it should not be in (still mapped, still counted as in use).",
  leak: "Memory the module allocated was never freed. In a real kernel it stays lost until reboot.",
  oops: "The kernel hit an access it could not handle (often a NULL or bad pointer). A real machine would kill the task or panic.",
  "dma-api": "The DMA-API debug checks found a mapping used wrongly (unmapped twice, wrong size or direction, never unmapped).",
  lockdep: "lockdep found a locking pattern that can deadlock, even though it did not deadlock this time.",
  warn: "The kernel hit a WARN_ON: something it did not expect, but it went on running.",
  bug: "The kernel hit a BUG_ON: a condition it treats as impossible. A real kernel stops here.",
  timeout: "The module ran past its time limit and was stopped. Look for a loop that never ends.",
  limit: "The module hit one of the sandbox's limits and was stopped.",
  "out-of-memory": "The module's own JavaScript used more memory than the sandbox allows (this is the guest heap, not kernel memory).",
  exception: "The module threw an exception that nothing caught.",
  "compile-error": "The cell is not valid TypeScript. The line is marked in the editor.",
};

/**
 * Plain-words heading for the sandbox's own limits: only for a report one of them made (Report.limit, or a guest
 * exception that is QuickJS's own stack overflow), never for a kernel report that merely mentions a call stack.
 */
export function limitHeading(r: Report): string | undefined {
  if (r.limit === "cpu") return "Stopped: the module ran too long";
  if (r.limit === "memory") return "Stopped: the module's JavaScript used too much memory";
  if (r.limit === "stack" || (r.kind === "exception" && /InternalError: stack overflow/.test(`${r.title} ${r.text}`)))
    return "Stopped: the module recursed too deeply (stack overflow)";
  if (r.limit === "kernel-calls") return "Stopped: too many calls into the kernel";
  if (r.limit === "log") return "Stopped: the module printed too much";
  if (r.kind === "limit" || r.limit) return "Stopped by a sandbox limit";
  return undefined;
}

/**
 * The sandbox's sentence for a limit, for the notebook: the notebook has a control for the CPU limit only (the
 * cell's Machine settings); "raise limits.X" names an option of the library and the CLI, which the page does not have.
 */
export function limitExplain(r: Report): string | undefined {
  if (!r.explain || !r.limit) return r.explain;
  const plain = r.explain.replace(/,? or raise limits\.\w+\.?/g, ".").replace(/\.\.$/, ".");
  if (r.limit === "cpu")
    return `${plain.replace(/\(the run's CPU limit\)/, "(this cell's CPU limit)")} If the work is meant to take longer, raise the CPU limit in the cell's Machine settings (at most 60 s).`;
  return plain;
}

/** Compile-time problems are the compiler's and the module loader's, not the kernel's log. */
function textHeading(r: Report, heading: string | undefined): string {
  if (r.kind === "compile-error") return /ImportError/.test(r.title) ? "What the import check said" : "What the compiler said";
  return heading ? "Details" : "What the kernel printed";
}

/** Explain a compile error by what it is: a syntax or type error, or an import this kernel's "linux" lacks. */
export function compileExplain(r: Report): string {
  if (/ImportError/.test(r.title))
    return /removed|added|only in|not in|era|since|until/i.test(r.text)
      ? "The cell's TypeScript is fine, but it imports something this kernel's \"linux\" does not have: the function belongs to another kernel era. The line is marked in the editor."
      : 'The cell imports a name the "linux" module does not export. The line is marked in the editor.';
  if (/^cell\.ts:\d+:\d+: LimitError:/.test(r.title))
    return "The cell may be valid TypeScript, but it is past one of the compiler's limits (its source size, or how deeply its code nests), so it was not run. The line is marked in the editor.";
  return KIND_EXPLAIN["compile-error"];
}

/** Runs of the same frame (a recursion) shown once with a count: "f (line 2) ×2,345". */
export function collapseFrames<T extends { fn: string; line?: number; column?: number }>(frames: T[]): (T & { times: number })[] {
  const out: (T & { times: number })[] = [];
  for (const f of frames) {
    const last = out[out.length - 1];
    if (last && last.fn === f.fn && last.line === f.line) last.times++;
    else out.push({ ...f, times: 1 });
  }
  return out;
}

/**
 * QuickJS stops a loop that has no call in it at the loop's back edge, and names the function's first line: point
 * at the loop instead (the first for/while/do statement in the function's body), when the frame is on a line that
 * holds none.
 */
export function loopLine(source: string | undefined, line: number): number {
  if (!source) return line;
  const lines = source.split("\n");
  const LOOP = /\b(for|while|do)\b\s*[({]/;
  if (LOOP.test(lines[line - 1] ?? "")) return line;
  let depth = 0;
  let opened = false;
  for (let i = line - 1; i < lines.length; i++) {
    const text = lines[i].replace(/\/\/.*$/, "");
    if (i > line - 1 && LOOP.test(text)) return i + 1;
    for (const ch of text) {
      if (ch === "{") {
        depth++;
        opened = true;
      } else if (ch === "}") depth--;
    }
    if (opened && depth <= 0) break;
  }
  return line;
}

export interface OutputHooks {
  /** Highlight a cell line (1-based). */
  gotoLine(line: number, column?: number): void;
  /** Module function names in the cell (to find the cell's own vmap areas). */
  moduleFns(): string[];
  /** The page-table walk of an address in this run's kernel (absent when the run has no kernel to ask). */
  walk?(addr: bigint, when?: "loaded" | "end"): Promise<WalkJson>;
  /** The cell's source as it was run (to point a CPU-limit stop at its loop). */
  source?(): string;
  /** Lines of this run's full dmesg (the output holds its head and tail when it is long). */
  dmesg?(from: number, count: number): Promise<{ lines: string[]; levels?: number[] }>;
  /**
   * Build the open views' bodies later (the page: after the first frame, each in its own task), so the summary, the
   * figures, the dmesg and the cards are on screen first. Absent: built at once (tests read the output as it returns).
   */
  defer?(build: () => void): void;
}

/** dmesg lines fetched per click when the middle of a long log is opened. */
export const DMESG_PAGE = 200;

function dmesgLine(line: string, lvl: number | undefined, pick?: (a: bigint) => void): Node[] {
  const m = /^(\[\s*\d+\.\d+\])(.*)$/.exec(line);
  const row = h("span", { class: "dl" + (lvl !== undefined && lvl >= 0 && lvl <= 7 ? ` lvl-${LEVEL_NAMES[lvl]}` : "") });
  if (m) row.append(h("span", { class: "ts" }, m[1]), ...linkAddresses(m[2], pick));
  else row.append(...linkAddresses(line, pick));
  return [row, document.createTextNode("\n")];
}

/**
 * `omitted`: the lines [at, at + count) of the log are not in `lines` (the worker sent the head and the tail); a
 * button in their place fetches them DMESG_PAGE at a time.
 */
function dmesgBlock(
  lines: string[],
  levels: number[] | undefined,
  label: string,
  pick?: (a: bigint) => void,
  omitted?: { at: number; count: number },
  fetch?: OutputHooks["dmesg"],
): HTMLElement {
  const pre = h("pre", { class: "dmesg", "aria-label": label, tabindex: 0 });
  const cut = omitted ? omitted.at : lines.length;
  for (let i = 0; i < cut; i++) pre.append(...dmesgLine(lines[i], levels?.[i], pick));
  if (omitted && omitted.count > 0) {
    let next = omitted.at;
    const end = omitted.at + omitted.count;
    const more = h("button", { type: "button", class: "btn small dmesg-more" });
    const label = () => `… ${end - next} more lines${fetch ? ` — show the next ${Math.min(DMESG_PAGE, end - next)}` : " (not kept)"}`;
    more.textContent = label();
    more.disabled = !fetch;
    const slot = h("span", { class: "dl dmesg-omitted" }, more);
    more.addEventListener("click", async () => {
      if (!fetch) return;
      more.disabled = true;
      try {
        const got = await fetch(next, Math.min(DMESG_PAGE, end - next));
        const frag = document.createDocumentFragment();
        got.lines.forEach((l, i) => frag.append(...dmesgLine(l, got.levels?.[i], pick)));
        slot.before(frag);
        next += got.lines.length;
        if (next >= end || !got.lines.length) slot.remove();
        else more.textContent = label();
      } catch (e) {
        more.textContent = `could not fetch the lines: ${(e as Error).message}`;
      } finally {
        more.disabled = false;
      }
    });
    pre.append(slot, "\n");
    for (let i = cut; i < lines.length; i++) pre.append(...dmesgLine(lines[i], levels?.[i], pick));
  }
  return pre;
}

function reportCard(r: PageReport, hooks: OutputHooks): HTMLElement {
  const heading = limitHeading(r);
  const count = r.count ?? 1;
  let frames = (r.frames ?? []).filter((f) => f.line);
  if (!frames.length && r.line) frames.push({ fn: "cell", line: r.line });
  // a CPU-limit stop inside a loop with no call in it: the loop's line, not the function's
  if (r.limit === "cpu" && frames[0]?.line) {
    const at = loopLine(hooks.source?.(), frames[0].line);
    if (at !== frames[0].line) frames = [{ ...frames[0], line: at, column: undefined }, ...frames.slice(1)];
  }
  const shown = collapseFrames(frames);
  return h(
    "article",
    { class: `report kind-${r.kind}`, "aria-label": `report: ${r.title}` },
    h("h4", {}, heading ?? r.title, count > 1 ? h("span", { class: "report-count", title: `${count} reports like this one` }, ` ×${count}`) : null),
    h("p", { class: "explain" }, r.kind === "compile-error" ? compileExplain(r) : (limitExplain(r) ?? KIND_EXPLAIN[r.kind] ?? "")),
    count > 1
      ? h(
          "details",
          { class: "report-others" },
          h("summary", {}, `${count} reports like this one: the first in full below, the next titles here`),
          h(
            "ul",
            {},
            (r.others ?? []).map((t) => h("li", { class: "mono" }, t)),
          ),
          count - 1 > (r.others?.length ?? 0)
            ? h("p", { class: "view-note" }, `… and ${count - 1 - (r.others?.length ?? 0)} more; every one is in the dmesg.`)
            : null,
        )
      : null,
    frames.length
      ? h(
          "p",
          { class: "frames" },
          "In your cell: ",
          shown
            .slice(0, 12)
            .map((f, i) => [
              i ? " ← " : "",
              h(
                "button",
                { type: "button", class: "frame-link", onclick: () => hooks.gotoLine(f.line!, f.column) },
                `${f.fn} (line ${f.line})${f.times > 1 ? ` ×${thousands(f.times)}` : ""}`,
              ),
            ]),
          shown.length > 12 ? ` ← … ${shown.length - 12} more` : null,
        )
      : null,
    r.text
      ? h(
          "details",
          { class: "report-text", open: !heading && count === 1 && r.kind !== "compile-error" },
          h("summary", {}, textHeading(r, heading)),
          h("pre", {}, r.text),
        )
      : null,
  );
}

/**
 * A <details> whose body is built when it first opens: a closed view costs nothing on the way from Run to output
 * (the /proc tables are hundreds of rows).
 */
export function lazyDetails(cls: string, summary: string, open: boolean, build: () => Node | Node[], defer?: OutputHooks["defer"]): HTMLDetailsElement {
  const d = h("details", { class: cls }, h("summary", {}, summary));
  let built = false;
  const fill = () => {
    if (built) return;
    built = true;
    try {
      d.append(...[build()].flat());
    } catch (e) {
      d.append(h("p", { class: "view-error" }, `${summary}: ${(e as Error).message}`));
    }
  };
  if (open) {
    d.open = true;
    // deferred: built in a later task even if the learner closes it meanwhile (closing it fires no fill)
    if (defer) defer(fill);
    else fill();
  } else d.addEventListener("toggle", () => d.open && fill());
  return d;
}

function viewsOf(
  result: RunResult,
  hooks: OutputHooks,
  panel: WalkPanel | undefined,
  pick: ((a: bigint) => void) | undefined,
  model: ReturnType<typeof buildAddrModel>,
): HTMLElement[] {
  const out: HTMLElement[] = [];
  const both = buildBothModel(result);
  // open when the process and the kernel map the same frames (a driver's mmap): the point of the view
  if (both)
    out.push(lazyDetails("view view-both", "Both address spaces: the process and the kernel", both.links.length > 0, () => renderBoth(both), hooks.defer));
  if (model) out.push(lazyDetails("view view-addrspace", "Virtual address space", model.marks.length > 0, () => renderAddrSpace(model, pick), hooks.defer));
  if (panel) out.push(panel.root);
  try {
    const fm = buildFrameModel(result.kernel as Record<string, unknown>);
    if (fm) {
      // the first line that printed an address names it, as in the address-space view
      const labels = new Map<string, string>();
      for (const d of addressesInDmesg(result.dmesg ?? [])) if (!labels.has("0x" + d.addr.toString(16))) labels.set("0x" + d.addr.toString(16), d.label);
      // open when the cell allocated something: where its buffers landed is the point of the view
      out.push(lazyDetails("view view-frames", "Physical memory (frame map)", fm.buffers.length > 0, () => renderFrameMap(fm, labels, pick), hooks.defer));
    }
  } catch (e) {
    out.push(h("p", { class: "view-error" }, `frame map: ${(e as Error).message}`));
  }
  // a file this kernel does not have comes back as "(no such file: ...)": nothing to show
  const names = Object.keys(result.proc ?? {}).filter((n) => !/^\(no such file/.test(result.proc[n]));
  if (names.length) {
    const before = (result.kernel as Record<string, unknown> | undefined)?.procBefore as Record<string, string> | undefined;
    out.push(
      lazyDetails("view view-proc", `/proc while loaded: ${names.join(", ")}`, false, () => {
        const body = h("div", { class: "proc-views" });
        for (const n of names) {
          const other = before?.[n] ?? result.procAfterExit?.[n];
          body.append(
            renderProcTable(n, result.proc[n], other, before?.[n] !== undefined ? "before insmod" : "after rmmod", n === "vmallocinfo" ? pick : undefined),
          );
        }
        return body;
      }),
    );
  }
  return out;
}

function gradeCard(g: GradeInfo): HTMLElement {
  if (g.error && !g.checks.length)
    return h("section", { class: "grade error", "aria-label": "Exercise result" }, h("h4", {}, "Exercise could not be checked"), h("p", {}, g.error));
  return h(
    "section",
    { class: "grade " + (g.passed ? "passed" : "failed"), "aria-label": "Exercise result" },
    h("h4", {}, `${g.passed ? "✓ Exercise passed" : "Exercise not passed yet"}: ${g.title ?? g.exercise} (${g.score}/${g.maxScore})`),
    g.profile ? h("p", { class: "view-note" }, `Checked on the exercise's machine, ${g.profile}, from the kernel's own records.`) : null,
    h(
      "ul",
      { class: "checks" },
      g.checks.map((c) =>
        h(
          "li",
          { class: c.pass ? "pass" : "fail" },
          h("span", { class: "mark", "aria-label": c.pass ? "passed" : "failed" }, c.pass ? "✓" : "✗"),
          " ",
          c.message,
          c.detail ? h("span", { class: "detail" }, ` — ${c.detail}`) : null,
        ),
      ),
    ),
    !g.passed && g.firstHint ? h("p", { class: "hint" }, h("strong", {}, "Hint: "), g.firstHint) : null,
  );
}

/** Simulated time for a person: ns, µs, ms or s with a sensible number of digits. */
export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return "?";
  if (ns < 1000) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(3)} ms`;
  return `${(ns / 1e9).toFixed(3)} s`;
}

/** 100000 -> "100,000" (toLocaleString's first call costs tens of ms: it loads the locale data). */
export const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const plural = (n: number, one: string, many = one + "s") => `${thousands(n)} ${n === 1 ? one : many}`;

/** What the call log did not keep one by one (sandbox/calllog.ts): folded repeats of memory blocks, dropped calls. */
function callLogNote(r: RunResult): string {
  const k = (r.kernel ?? {}) as { callsFolded?: unknown; callsDropped?: unknown };
  const folded = typeof k.callsFolded === "number" ? k.callsFolded : 0;
  const dropped = k.callsDropped && typeof k.callsDropped === "object" ? Object.values(k.callsDropped as Record<string, number>).reduce((a, b) => a + b, 0) : 0;
  if (!folded && !dropped) return "";
  const parts = [
    folded ? `${thousands(folded)} folded into repeats of an earlier allocation and its free` : "",
    dropped ? `${thousands(dropped)} not kept` : "",
  ];
  return ` (the record of the calls is summarised: ${parts.filter(Boolean).join(", ")})`;
}

/**
 * The run's figures a learner compares between cells (lesson 11): the module's own simulated time (insmod to the end
 * of rmmod, without the boot), the TLB hits and misses of its memory accesses, its calls into the kernel.
 */
export function runFigures(r: RunResult, wallMs: number): HTMLElement {
  const st = r.stats;
  const fig = (name: string, label: string, value: string, title: string) =>
    h("span", { class: "fig", "data-fig": name, title }, h("span", { class: "fig-label" }, label + " "), h("strong", {}, value));
  return h(
    "p",
    { class: "run-figures" },
    st.moduleTimeNs !== undefined
      ? fig(
          "time",
          "simulated time of the module:",
          fmtNs(st.moduleTimeNs),
          "from insmod to the end of rmmod, on the simulated clock (the boot before it is not counted)",
        )
      : null,
    fig(
      "tlb",
      "TLB:",
      `${plural(st.tlbHits, "hit")}, ${plural(st.tlbMisses, "miss", "misses")}`,
      "the module's memory accesses: a hit reused a cached translation, a miss walked the page tables",
    ),
    fig("calls", "kernel calls:", thousands(st.kernelCalls), "calls from the module into the kernel" + callLogNote(r)),
    fig("wall", "here:", `${wallMs.toFixed(0)} ms`, "wall-clock time of the run in this browser, from Run to the result"),
  );
}

/** Type errors found before running: one card per error with its line link, and the learner's choice to run anyway. */
export function renderTypeErrors(
  target: HTMLElement,
  diags: { line: number; column: number; code: number; message: string }[],
  hooks: Pick<OutputHooks, "gotoLine">,
  runAnyway: () => void,
): void {
  const btn = h("button", { type: "button", class: "btn small run-anyway", onclick: runAnyway }, "Run anyway");
  target.replaceChildren(
    h(
      "p",
      { class: "run-summary bad" },
      `Not run: TypeScript found ${diags.length} type error${diags.length === 1 ? "" : "s"} against this kernel's linux.d.ts. `,
      btn,
    ),
    ...diags
      .slice(0, 20)
      .map((d) =>
        h(
          "article",
          { class: "report kind-compile-error type-errors", "aria-label": `type error: ${d.message}` },
          h("h4", {}, `cell.ts:${d.line}:${d.column}: error TS${d.code}`),
          h("p", { class: "explain" }, d.message),
          h(
            "p",
            { class: "frames" },
            "In your cell: ",
            h("button", { type: "button", class: "frame-link", onclick: () => hooks.gotoLine(d.line, d.column) }, `line ${d.line}`),
          ),
        ),
      ),
    ...(diags.length > 20 ? [h("p", { class: "view-note" }, `… and ${diags.length - 20} more.`)] : []),
    h("p", { class: "view-note" }, "The simulated kernel runs JavaScript: types are not checked when it runs, so Run anyway runs the cell as it is."),
  );
}

export function renderOutcome(target: HTMLElement, o: RunOutcome, hooks: OutputHooks): void {
  target.replaceChildren();
  if (o.kind !== "result") {
    target.append(
      h(
        "div",
        { class: `run-problem ${o.kind === "killed" ? "killed" : "error"}`, role: "alert" },
        h("strong", {}, o.kind === "killed" ? (o.reason === "stopped" ? "Stopped. " : "No answer. ") : "Could not run. "),
        o.message,
      ),
    );
    // the kernel log the worker sent while the run went on (log-forward.ts): up to the hang, not the host's stop
    if (o.kind === "killed" && o.log?.length) {
      target.append(h("p", { class: "view-note" }, "The kernel log up to the last lines the worker sent before it was ended:"));
      target.append(dmesgBlock(o.log, undefined, "kernel log"));
    }
    return;
  }
  const r = o.result;
  const reports = r.reports ?? [];
  const bad = reports.length > 0 || (r.initReturn !== null && r.initReturn !== 0);
  const summary =
    r.steppedTo !== undefined
      ? `replayed to kernel call ${r.steppedTo}: ${r.initReturn === null ? "module_init has not returned yet" : "module_init returned " + r.initReturn + "; rmmod has not finished"}.`
      : r.bootRefused !== undefined
        ? "The machine did not boot with these settings: the module never ran."
        : r.initReturn === null
          ? "The module did not finish loading."
          : r.initReturn === 0
            ? "insmod: init returned 0; rmmod ran the exit function."
            : `insmod: init returned ${r.initReturn}: the module was not loaded (exit did not run).`;
  target.append(h("p", { class: "run-summary" + (bad ? " bad" : " ok") }, `${r.profile ?? ""}: ${summary}`));
  if (r.stats) target.append(runFigures(r, o.ms));
  if (r.bootLog?.length)
    target.append(lazyDetails("bootlog", `Boot log (${r.bootLog.length} lines)`, false, () => dmesgBlock(r.bootLog, r.bootLogLevels, "boot log")));
  // a click on any address in the output walks the page tables of this run's kernel
  // (only when the run booted a kernel: a run that could not boot has no tables to walk)
  const walk = (r.kernel as Record<string, unknown> | undefined)?.layout ? hooks.walk : undefined;
  let model: ReturnType<typeof buildAddrModel> = null;
  let modelError: string | undefined;
  try {
    model = buildAddrModel(r, hooks.moduleFns());
  } catch (e) {
    modelError = (e as Error).message;
  }
  const first = model?.marks.find((m) => m.source === "dmesg")?.addr ?? model?.marks[0]?.addr;
  const panel = walk ? new WalkPanel(walk, first) : undefined;
  const pick = panel ? (a: bigint) => void panel.show(a) : undefined;
  target.append(h("h4", { class: "out-h" }, "dmesg"));
  if (r.dmesgOverwritten)
    target.append(
      h(
        "p",
        { class: "empty" },
        `(the kernel's log buffer, a ring of 128 KiB, overwrote the first ${thousands(r.dmesgOverwritten)} lines of this run: dmesg shows what it still holds, as on a real machine)`,
      ),
    );
  const digest = digestOf(r);
  target.append(
    r.dmesg?.length
      ? dmesgBlock(r.dmesg, r.dmesgLevels, "module's dmesg", pick, digest?.dmesgOmitted, hooks.dmesg)
      : h("p", { class: "empty" }, "(the module printed nothing)"),
  );
  if (r.user) target.append(...userBlock(r.user));
  if (o.grade) target.append(gradeCard(o.grade));
  for (const rep of reports)
    target.append(
      reportCard(
        // a machine the kernel refused to boot is the cell's settings, not a BUG_ON in the kernel
        r.bootRefused !== undefined && rep.kind === "bug" && !rep.explain
          ? { ...rep, explain: "The kernel cannot boot this machine (its RAM or command line). Change them in the cell's Machine settings." }
          : rep,
        hooks,
      ),
    );
  if (modelError) target.append(h("p", { class: "view-error" }, `address-space view: ${modelError}`));
  target.append(...viewsOf(r, hooks, panel, pick, model));
}

/**
 * Compare with another machine (cell.ts): the run figures of both runs and their dmesg texts side by side, aligned
 * line by line without the timestamps (compare.ts); the figures and lines that differ are marked.
 */
export function renderComparison(a: RunResult, b: RunResult, leftName: string, rightName: string): HTMLElement {
  const figures = compareFigures(a, b, fmtNs);
  const al = alignLines(a.dmesg ?? [], b.dmesg ?? []);
  const omitted = [a, b].some((r) => digestOf(r)?.dmesgOmitted);
  const mark = (differ: boolean) => (differ ? "differ" : undefined);
  const table = h(
    "table",
    { class: "compare-figures" },
    h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, leftName), h("th", {}, rightName))),
    h(
      "tbody",
      {},
      figures.map((f) =>
        h(
          "tr",
          { class: mark(f.differ), "data-fig": f.name },
          h("th", { scope: "row" }, f.label),
          h("td", { class: "left" }, f.left),
          h("td", { class: "right" }, f.right),
        ),
      ),
    ),
  );
  const cellText = (side: "left" | "right", t: string | undefined) => h("td", { class: `${side}${t === undefined ? " empty" : ""}` }, t ?? "");
  const lines = h(
    "table",
    { class: "compare-dmesg", "aria-label": "the two dmesg texts aligned line by line" },
    h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, leftName), h("th", {}, rightName))),
    h(
      "tbody",
      {},
      al.rows.map((r) =>
        h(
          "tr",
          { class: `row-${r.kind}${r.kind === "same" ? "" : " differ"}` },
          h("td", { class: "marker", title: r.kind === "same" ? "the same on both" : "differs" }, r.kind === "same" ? "" : "≠"),
          cellText("left", r.kind === "right" ? undefined : r.left),
          cellText("right", r.kind === "left" ? undefined : r.right),
        ),
      ),
    ),
  );
  const diffFigs = figures.filter((f) => f.differ).length;
  return h(
    "div",
    { class: "comparison", "data-left": a.profile, "data-right": b.profile },
    h(
      "p",
      { class: "compare-summary" },
      `${leftName} against ${rightName}: ${al.differences} of ${al.rows.length} dmesg lines differ (timestamps left out), ${diffFigs} of ${figures.length} figures differ.`,
      al.positional ? " The logs are too long to align: lines are paired by position." : "",
      omitted ? " Only the head and tail of a long dmesg are compared." : "",
    ),
    table,
    lines,
  );
}
