// A live cell: toolbar (Run, Stop, Reset, Share, machine picker), the editor (a plain textarea at once; Monaco once
// loaded), and the output panel. The learner's code is saved on every keystroke and never overwritten without asking.

import { h } from "./dom.ts";
import { statementCard } from "./statement.ts";
import type { LessonCell, Lesson } from "./lesson.ts";
import type { CellEditor } from "./monaco.ts";
import { renderComparison, renderOutcome, renderTypeErrors } from "./output.ts";
import type { Machine, ProfileInfo, RunOptions } from "./protocol.ts";
import type { Runner, RunOutcome } from "./runner.ts";
import { encodeShare } from "./share.ts";
import type { NotebookStore } from "./storage.ts";
import { cellSettings, DEFAULT_TIMEOUT_MS, effectiveSettings, parseMem, parseTimeout, type CellSettings } from "./settings.ts";

export { parseMem };

/** Failed checks of an exercise cell after which its solution is offered plainly (it is there on request before). */
export const SOLUTION_AFTER = 3;

export interface AppContext {
  runner: Runner;
  store: NotebookStore;
  profiles(): Promise<ProfileInfo[]>;
  monaco(): Promise<typeof import("./monaco.ts")>;
  /** Monaco is already loaded (so new cells upgrade as soon as they are visible). */
  monacoReady(): boolean;
  dts(profile: string): Promise<string>;
  /** The cells of the page in order (for Shift+Enter). */
  cells: CellView[];
  defaultProfile: string;
  onProgress(): void;
}

/** Module function names (for finding the cell's own rows in /proc tables). */
export function functionNames(code: string): string[] {
  return [...code.matchAll(/\bfunction\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]);
}

export class CellView {
  readonly root: HTMLElement;
  private textarea: HTMLTextAreaElement;
  private editorHost: HTMLElement;
  private editor?: CellEditor;
  private upgrading = false;
  private disposed = false;
  /** Stop was pressed during this Run (while its type check was still going, the run must not start after it). */
  private stopped = false;
  /** Graded runs of this cell that did not pass (a solution is offered after SOLUTION_AFTER of them). */
  private failedChecks = 0;
  private runBtn: HTMLButtonElement;
  private stopBtn: HTMLButtonElement;
  private status: HTMLElement;
  private output: HTMLElement;
  private notice: HTMLElement;
  private profileSel: HTMLSelectElement;
  private memInput: HTMLInputElement;
  private cmdInput: HTMLInputElement;
  private configSel: HTMLSelectElement;
  private cpuInput: HTMLInputElement;
  /** What the cell's fence line asks for (mem=, cmdline=, config=, events=, timeout=); the form's empty fields keep it. */
  private own: CellSettings;
  private ownError?: string;
  private machineSummary: HTMLElement;
  private code: string;
  private running = false;
  private runs = 0;
  lastOutcome?: RunOutcome;

  constructor(
    private app: AppContext,
    private lesson: Lesson,
    readonly cell: LessonCell,
    placeholder: HTMLElement,
    initial?: { code: string; profile?: string; mem?: string; cmdline?: string; config?: string; cpu?: string },
  ) {
    const lessonId = lesson.meta.id;
    const st = app.store.cellState(lessonId, cell.id, cell.source);
    this.code = initial?.code ?? st.code;
    const saved = app.store.loadCell(lessonId, cell.id);
    const label = `cell ${cell.index + 1} (${cell.id})`;

    this.textarea = h("textarea", {
      class: "plain-editor",
      spellcheck: "false",
      autocapitalize: "off",
      autocomplete: "off",
      "aria-label": `Code of ${label}. Ctrl+Enter runs it.`,
      readonly: cell.readonly,
      wrap: "off",
    });
    this.textarea.value = this.code;
    this.fitTextarea();
    this.editorHost = h("div", { class: "editor-host" }, this.textarea);

    this.runBtn = h(
      "button",
      {
        type: "button",
        class: "btn run",
        title: cell.attrs.exercise ? "Run and check the exercise (Ctrl+Enter)" : "Run (Ctrl+Enter)",
        "aria-keyshortcuts": "Control+Enter",
      },
      cell.attrs.exercise ? "▶ Run and check" : "▶ Run",
    );
    this.stopBtn = h("button", { type: "button", class: "btn stop", hidden: true }, "■ Stop");
    const resetBtn = h("button", { type: "button", class: "btn", title: "Bring back the lesson's code" }, "Reset");
    const shareBtn = h("button", { type: "button", class: "btn", title: "Copy a link that opens this cell with your code" }, "Share");
    this.status = h("span", { class: "cell-status", role: "status", "aria-live": "polite" });

    try {
      this.own = cellSettings(cell);
    } catch (e) {
      this.own = { profile: cell.profile };
      this.ownError = `This cell's settings are wrong: ${(e as Error).message}`;
    }
    const own = this.own;
    this.profileSel = h("select", { "aria-label": "Boot profile" }, h("option", { value: "" }, `lesson's (${cell.profile ?? app.defaultProfile})`));
    this.memInput = h("input", {
      type: "text",
      inputmode: "text",
      placeholder: own.mem ? `cell's: ${own.mem}` : "profile's default",
      size: 10,
      "aria-label": "RAM size, e.g. 256M or 4G",
    });
    this.cmdInput = h("input", {
      type: "text",
      placeholder: own.cmdline ? `cell's: ${own.cmdline}` : "profile's default",
      size: 30,
      "aria-label": "Kernel command line",
    });
    this.configSel = h(
      "select",
      { "aria-label": "Kernel config" },
      h("option", { value: "" }, own.config ? `cell's (${own.config})` : "profile's default"),
      h("option", { value: "debug", title: "KASAN, kmemleak, slub_debug, lockdep, DMA-API debug: the checks lesson 9 relies on" }, "debug (KASAN, kmemleak…)"),
      h("option", { value: "distro", title: "the distribution's kernel: fewer checks, the layout and sizes a stock machine has" }, "distro"),
    );
    this.cpuInput = h("input", {
      type: "text",
      inputmode: "numeric",
      placeholder: `${own.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`,
      size: 8,
      "aria-label": "CPU limit of a run, in ms (at most 60000)",
    });
    const pick = initial ?? saved;
    if (pick?.mem) this.memInput.value = pick.mem;
    if (pick?.cmdline) this.cmdInput.value = pick.cmdline;
    if (pick?.config) this.configSel.value = pick.config;
    if (pick?.cpu) this.cpuInput.value = pick.cpu;
    this.machineSummary = h("summary", {});
    const machine = h(
      "details",
      { class: "machine" },
      this.machineSummary,
      h(
        "div",
        { class: "machine-form" },
        h("label", {}, "Profile ", this.profileSel),
        h("label", {}, "RAM ", this.memInput),
        h("label", {}, "Command line ", this.cmdInput),
        h("label", {}, "Config ", this.configSel),
        h("label", {}, "CPU limit ", this.cpuInput),
      ),
    );
    app.profiles().then(
      (list) => {
        for (const p of list)
          this.profileSel.append(h("option", { value: p.name, title: p.description }, p.description ? `${p.name} — ${p.description}` : p.name));
        if (pick?.profile) this.profileSel.value = pick.profile;
        this.updateMachineSummary();
      },
      () => {
        if (pick?.profile) this.profileSel.append(h("option", { value: pick.profile }, pick.profile));
        if (pick?.profile) this.profileSel.value = pick.profile;
        this.updateMachineSummary();
      },
    );
    const onMachine = () => {
      this.updateMachineSummary();
      this.save();
    };
    this.profileSel.addEventListener("change", onMachine);
    this.memInput.addEventListener("input", onMachine);
    this.cmdInput.addEventListener("input", onMachine);
    this.configSel.addEventListener("change", onMachine);
    this.cpuInput.addEventListener("input", onMachine);

    this.notice = h("div", { class: "cell-notice", hidden: true, role: "note" });
    this.output = h("div", { class: "cell-output", "aria-label": `Output of ${label}`, "aria-live": "polite" });

    const toolbar = h(
      "div",
      { class: "cell-toolbar", role: "toolbar", "aria-label": `${label} actions` },
      this.runBtn,
      this.stopBtn,
      cell.readonly ? null : resetBtn,
      shareBtn,
      machine,
      this.status,
    );
    this.root = h(
      "section",
      { class: "cell" + (cell.readonly ? " readonly" : ""), "aria-label": label, "data-cell-id": cell.id },
      typeof cell.attrs.exercise === "string" ? this.statement(cell.attrs.exercise) : null,
      toolbar,
      this.notice,
      this.editorHost,
      this.output,
    );
    if (cell.attrs.exercise) this.root.dataset.exercise = String(cell.attrs.exercise);
    placeholder.replaceWith(this.root);
    this.updateMachineSummary();

    if (!initial && st.kind === "stale") this.showStale(st.original);
    else if (!initial && app.store.previous(lessonId, cell.id) !== undefined) this.showPrevious();
    if (initial && initial.code !== st.code)
      this.showNote("Opened from a share link. This code replaces what you had in this cell; Reset brings back the lesson's.");

    this.runBtn.addEventListener("click", () => void this.run());
    this.stopBtn.addEventListener("click", () => this.stop());
    resetBtn.addEventListener("click", () => this.reset());
    shareBtn.addEventListener("click", () => void this.share());
    this.textarea.addEventListener("input", () => {
      this.fitTextarea();
      this.onEdit(this.textarea.value);
    });
    this.textarea.addEventListener("keydown", (e) => this.onKey(e));
    const wake = () => void this.upgrade();
    this.textarea.addEventListener("focus", wake);
    this.textarea.addEventListener("pointerdown", wake);
    if (initial) this.save();
  }

  private updateMachineSummary() {
    const s = this.settings();
    const cpu = this.cpuInput.value.trim();
    this.machineSummary.textContent = `Machine: ${this.profile()}${s.mem ? `, ${s.mem} RAM` : ""}${s.cmdline ? `, “${s.cmdline}”` : ""}${s.config ? `, ${s.config} config` : ""}${s.timeoutMs && s.timeoutMs !== DEFAULT_TIMEOUT_MS ? `, CPU limit ${s.timeoutMs} ms` : ""}${s.failNth ? `, fail-nth ${s.failNth}` : ""}`;
    const mem = this.memInput.value.trim();
    const bad = mem && !Number.isFinite(parseMem(mem) ?? 0);
    this.memInput.setCustomValidity(bad ? "Use a size like 256M or 4G" : "");
    this.memInput.toggleAttribute("aria-invalid", !!bad);
    const badCpu = cpu && !Number.isFinite(parseTimeout(cpu) ?? 0);
    this.cpuInput.setCustomValidity(badCpu ? "A CPU limit in ms, at most 60000" : "");
    this.cpuInput.toggleAttribute("aria-invalid", !!badCpu);
  }

  /** The cell's own settings with the learner's picks over them. */

  /** The statement card: a built-in exercise's, or the one declared in the lesson's Markdown (built from its YAML). */
  private statement(id: string): HTMLElement {
    const decl = this.exerciseDecl();
    if (!decl) return statementCard(id);
    return statementCard(id, () =>
      Promise.all([import("../lessons/exercises.ts"), import("../grader/statement.ts")]).then(([m, s]) => ({
        statementOf: () => s.statementView(m.parseExerciseBlock({ ...decl, open: 0, close: 0 }, decl.lesson)),
      })),
    );
  }

  /** The ```exercise block this cell was made from, when the exercise is declared in the lesson's Markdown. */
  private exerciseDecl(): { yaml: string; path: string; line: number; lesson: string } | undefined {
    const id = this.cell.attrs.exercise;
    const d = typeof id === "string" ? this.lesson.exercises?.find((e) => e.id === id) : undefined;
    return d ? { yaml: d.yaml, path: d.path, line: d.line, lesson: this.lesson.meta.id } : undefined;
  }
  settings(): CellSettings {
    return effectiveSettings(this.own, {
      profile: this.profileSel.value,
      mem: this.memInput.value,
      cmdline: this.cmdInput.value,
      config: this.configSel.value,
      timeout: this.cpuInput.value,
    });
  }

  profile(): string {
    return this.profileSel.value || this.cell.profile || this.app.defaultProfile;
  }

  /** The machine this cell runs on now (what the worker boots ahead of the first Run). */
  machine(): Machine {
    const s = this.settings();
    const mem = parseMem(s.mem ?? "");
    return { profile: this.profile(), mem: mem !== undefined && Number.isFinite(mem) ? mem : undefined, cmdline: s.cmdline, config: s.config };
  }

  getCode(): string {
    return this.editor ? this.editor.getValue() : this.textarea.value;
  }

  private setCode(code: string) {
    this.code = code;
    if (this.editor) this.editor.setValue(code);
    this.textarea.value = code;
    this.fitTextarea();
  }

  private fitTextarea() {
    const lines = this.textarea.value.split("\n").length;
    this.textarea.rows = Math.max(3, Math.min(lines + 1, 60));
  }

  private onEdit(code: string) {
    this.code = code;
    this.save();
  }

  private save() {
    const ok = this.app.store.saveCell(this.lesson.meta.id, this.cell.id, this.cell.source, this.getCode(), {
      profile: this.profileSel.value || undefined,
      mem: this.memInput.value.trim() || undefined,
      cmdline: this.cmdInput.value.trim() || undefined,
      config: this.configSel.value || undefined,
      cpu: this.cpuInput.value.trim() || undefined,
    });
    if (!ok) this.status.textContent = "Could not save (browser storage is full or off): copy your code somewhere safe.";
  }

  private onKey(e: KeyboardEvent) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void this.run();
    } else if (e.key === "Enter" && e.shiftKey) {
      e.preventDefault();
      void this.runAndNext();
    }
  }

  /** Swap the textarea for Monaco. Keeps the text, the caret and the focus. */
  async upgrade(): Promise<void> {
    if (this.editor || this.upgrading || this.disposed) return;
    this.upgrading = true;
    try {
      const m = await this.app.monaco();
      if (this.disposed) return;
      const hadFocus = document.activeElement === this.textarea;
      const caret = this.textarea.selectionStart;
      const selEnd = this.textarea.selectionEnd;
      const host = h("div", { class: "monaco-host" });
      this.editorHost.append(host);
      this.editor = m.createEditor(host, {
        uri: `file:///cells/${encodeURIComponent(this.lesson.meta.id)}/${encodeURIComponent(this.cell.id)}.ts`,
        value: this.textarea.value,
        readOnly: this.cell.readonly,
        label: `Code of cell ${this.cell.index + 1} (${this.cell.id}). Ctrl+Enter runs it; Escape then Tab leaves the editor.`,
        onChange: (v) => this.onEdit(v),
        onRun: () => void this.run(),
        onRunNext: () => void this.runAndNext(),
        onLeave: (back) => focusNextOutside(this.editorHost, back),
      });
      this.textarea.hidden = true;
      this.editorHost.classList.add("has-monaco");
      recordTrail(`upgrade ${this.cell.id}: focus=${hadFocus} caret=${caret} selEnd=${selEnd}`);
      if (hadFocus) {
        const pos = this.editor.editor.getModel()!.getPositionAt(caret);
        this.editor.editor.setPosition(pos);
        this.editor.focus();
        // a line a report's link selected in the plain editor stays highlighted in Monaco
        if (selEnd > caret) this.editor.highlightLine(pos.lineNumber);
      }
      this.editor.editor.onDidFocusEditorText(() => void this.loadTypes());
      if (hadFocus) void this.loadTypes();
    } catch (e) {
      this.status.textContent = `The full editor could not load (${(e as Error).message}); the plain editor works.`;
    } finally {
      this.upgrading = false;
    }
  }

  private async loadTypes() {
    const m = await this.app.monaco();
    const p = this.profile();
    try {
      m.useLinuxDts(p, await this.app.dts(p));
    } catch (e) {
      this.status.textContent = `No type information for "linux" yet: ${(e as Error).message}`;
    }
  }

  /**
   * "Show a solution": on request at any time, and offered plainly after SOLUTION_AFTER failed checks. The reference
   * solution is the grader's (src/grader/exercises, loaded on the click); putting it in the editor keeps the
   * learner's code as their previous version (Restore brings it back).
   */
  /**
   * Step through the run: a slider over its kernel calls; at call N the worker replays the cell to that call
   * (RunOptions.stopAfterCalls, exact: the kernel is deterministic) and the step's own output shows the dmesg, the
   * address space, the frame map and /proc (buddyinfo) as they were after it. One replay at a time; the slider's
   * latest position wins.
   */
  private stepper(source: string, options: RunOptions, total: number, calls: { fn: string }[]): HTMLElement {
    const out = h("div", { class: "step-output", "aria-live": "polite" });
    const label = h("span", { class: "step-label" }, "Drag to replay the run call by call.");
    const range = h("input", {
      type: "range",
      min: "1",
      max: String(total),
      value: String(total),
      class: "step-range",
      "aria-label": "kernel call to replay the run to",
    }) as HTMLInputElement;
    let busy = false;
    let wanted: number | null = null;
    let shown: number | null = null;
    const show = async (n: number) => {
      if (busy) {
        wanted = n;
        return;
      }
      // The step already on screen (a second change event for the same position, e.g. input then change): no replay.
      if (n === shown) return;
      busy = true;
      // data-step names the step the output shows, only once it shows it
      delete out.dataset.step;
      shown = null;
      const fn = calls[n - 1]?.fn;
      label.textContent = `After call ${n} of ${total}${fn ? `: ${fn}()` : ""}…`;
      const o = await this.app.runner.run(source, { ...options, stopAfterCalls: n });
      renderOutcome(out, o, {
        gotoLine: (l, c) => this.highlightLine(l, c),
        moduleFns: () => functionNames(source),
        walk: o.kind === "result" ? (addr, when) => this.app.runner.walk(o.runId, addr, when) : undefined,
        dmesg: o.kind === "result" ? (from, count) => this.app.runner.dmesg(o.runId, from, count) : undefined,
        source: () => source,
      });
      label.textContent = `After call ${n} of ${total}${fn ? `: ${fn}()` : ""}${o.kind === "result" && o.result.steppedTo === undefined ? " (the whole run)" : ""}`;
      out.dataset.step = String(n);
      shown = n;
      busy = false;
      if (wanted !== null) {
        const next = wanted;
        wanted = null;
        if (next !== n) void show(next);
      }
    };
    range.addEventListener("change", () => void show(Number(range.value)));
    return h(
      "details",
      { class: "step" },
      h("summary", {}, `Step through the run (${total} kernel calls)`),
      h("div", { class: "step-bar" }, range, label),
      out,
    );
  }

  /**
   * Compare with another machine: the same source and RunOptions on a second profile and/or config, the two dmesg
   * texts side by side (aligned line by line without their timestamps, compare.ts), the lines that differ marked, and
   * the run figures of both. A cell's `compare=PROFILE` attribute picks the second machine and opens the box.
   */
  private comparer(source: string, options: RunOptions, first: RunOutcome & { kind: "result" }): HTMLElement {
    const wanted = typeof this.cell.attrs.compare === "string" ? this.cell.attrs.compare : undefined;
    const here = options.profile ?? this.profile();
    const profileSel = h("select", { class: "compare-profile", "aria-label": "profile to compare with" }) as HTMLSelectElement;
    const configSel = h(
      "select",
      { class: "compare-config", "aria-label": "kernel config to compare with" },
      h("option", { value: "" }, options.config ? `same config (${options.config})` : "profile's config"),
      h("option", { value: "debug" }, "debug"),
      h("option", { value: "distro" }, "distro"),
    ) as HTMLSelectElement;
    const go = h("button", { type: "button", class: "btn small compare-run" }, "Compare");
    const out = h("div", { class: "compare-output", "aria-live": "polite" });
    void this.app.profiles().then(
      (list) => {
        for (const p of list) profileSel.append(h("option", { value: p.name }, p.name === here ? `${p.name} (this run's)` : p.name));
        profileSel.value = wanted && list.some((p) => p.name === wanted) ? wanted : (list.find((p) => p.name !== here)?.name ?? here);
      },
      () => {
        profileSel.append(h("option", { value: wanted ?? here }, wanted ?? here));
      },
    );
    go.addEventListener("click", async () => {
      const profile = profileSel.value || here;
      const config = (configSel.value || options.config) as RunOptions["config"];
      go.disabled = true;
      out.replaceChildren(h("p", { class: "view-note" }, `Running the cell on ${profile}${config ? ` (${config} config)` : ""}…`));
      const second = await this.app.runner.run(source, { ...options, profile, config, stopAfterCalls: undefined });
      go.disabled = false;
      if (second.kind !== "result") {
        out.replaceChildren(h("p", { class: "view-error" }, `The run on ${profile} did not finish: ${second.message}`));
        return;
      }
      out.replaceChildren(
        renderComparison(first.result, second.result, `${here}${options.config ? ` (${options.config})` : ""}`, `${profile}${config ? ` (${config})` : ""}`),
      );
    });
    return h(
      "details",
      { class: "compare", open: wanted !== undefined },
      h("summary", {}, "Compare with another machine"),
      h("div", { class: "compare-bar" }, h("label", {}, "Profile ", profileSel), h("label", {}, "Config ", configSel), go),
      out,
    );
  }

  private solutionOffer(exercise: string): HTMLElement {
    const stuck = this.failedChecks >= SOLUTION_AFTER;
    const box = h("div", { class: "solution-offer" + (stuck ? " stuck" : "") });
    const show = h(
      "button",
      { type: "button", class: "btn small show-solution" },
      stuck ? `Stuck after ${this.failedChecks} tries? Show a solution` : "Show a solution",
    );
    show.addEventListener("click", async () => {
      show.disabled = true;
      let solution: string | undefined;
      try {
        const m = await import("../grader/exercises/index.ts");
        solution = m.getExercise(exercise)?.solution;
      } catch (e) {
        box.append(h("p", { class: "view-error" }, `The solution could not be loaded: ${(e as Error).message}`));
        return;
      }
      if (!solution) {
        box.append(h("p", { class: "view-note" }, "This exercise has no reference solution to show."));
        return;
      }
      const use = h("button", { type: "button", class: "btn small" }, "Put it in the editor");
      use.addEventListener("click", () => {
        this.app.store.stashPrevious(this.lesson.meta.id, this.cell.id, this.getCode());
        this.setCode(solution);
        this.save();
        this.showPrevious("Showing the reference solution. Your own code is kept:");
      });
      box.replaceChildren(
        h(
          "details",
          { class: "solution", open: true },
          h("summary", {}, "A reference solution (one of many that pass)"),
          h("pre", { class: "code" }, solution),
          use,
        ),
      );
    });
    box.append(show);
    return box;
  }

  /** The learner leaves the lesson: the editor and its model go (before the page removes their elements). */
  dispose() {
    this.disposed = true;
    const ed = this.editor;
    this.editor = undefined;
    try {
      ed?.dispose();
    } catch {
      /* an editor that is half gone: nothing more to free */
    }
  }

  focusEditor() {
    if (this.editor) this.editor.focus();
    else this.textarea.focus();
    this.root.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  highlightLine(line: number, column?: number) {
    if (this.editor) {
      this.editor.highlightLine(line, column);
      recordTrail(`highlight ${this.cell.id}: monaco line ${line} -> cursor line ${this.editor.editor.getPosition()?.lineNumber}`);
      return;
    }
    recordTrail(`highlight ${this.cell.id}: plain line ${line}${this.upgrading ? " (Monaco loading)" : ""}`);
    const lines = this.textarea.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    this.textarea.focus();
    this.textarea.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  }

  private setRunning(on: boolean) {
    this.running = on;
    this.runBtn.disabled = on;
    this.stopBtn.hidden = !on;
    this.root.classList.toggle("running", on);
    this.output.setAttribute("aria-busy", String(on));
    if (on) this.status.replaceChildren(h("span", { class: "spinner", "aria-hidden": "true" }), " Running…");
  }

  async run(force = false): Promise<RunOutcome | undefined> {
    if (this.running) return;
    this.save();
    const memText = this.memInput.value.trim();
    if (memText && !Number.isFinite(parseMem(memText) ?? NaN)) {
      this.status.textContent = `“${memText}” is not a size: use something like 256M or 4G.`;
      return;
    }
    const cpuText = this.cpuInput.value.trim();
    if (cpuText && !Number.isFinite(parseTimeout(cpuText) ?? NaN)) {
      this.status.textContent = `“${cpuText}” is not a CPU limit: use a number of ms, at most 60000.`;
      return;
    }
    if (this.ownError) {
      this.status.textContent = this.ownError;
      return;
    }
    const s = this.settings();
    this.setRunning(true);
    const t0 = performance.now();
    const source = this.getCode();
    // type errors first (against the era's linux.d.ts, in the worker); the learner may run anyway
    this.stopped = false;
    if (!force) {
      const diags = await this.app.runner.check(source, this.profile());
      recordMetric("runCheck", performance.now() - t0);
      if (this.stopped) {
        // Stop during the check: the worker was ended with it; nothing runs
        this.setRunning(false);
        const outcome: RunOutcome = {
          kind: "killed",
          reason: "stopped",
          ms: performance.now() - t0,
          message: "The page ended its worker before the cell ran, and started a fresh one.",
        };
        this.lastOutcome = outcome;
        renderOutcome(this.output, outcome, { gotoLine: () => {}, moduleFns: () => [] });
        this.runs++;
        this.root.dataset.runs = String(this.runs);
        this.status.textContent = "Stopped.";
        return outcome;
      }
      if (diags?.length) {
        this.setRunning(false);
        renderTypeErrors(this.output, diags, { gotoLine: (l, c) => this.highlightLine(l, c) }, () => void this.run(true));
        this.root.dataset.checks = String(Number(this.root.dataset.checks ?? 0) + 1);
        this.status.textContent = `${diags.length} type error${diags.length === 1 ? "" : "s"}: not run.`;
        return;
      }
      if (diags === null) this.root.dataset.unchecked = "1"; // the checker was still loading: this run is unchecked
    }
    const runOptions = {
      profile: this.profile(),
      mem: parseMem(s.mem ?? ""),
      cmdline: s.cmdline,
      config: s.config,
      events: s.events,
      timeoutMs: s.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      failNth: s.failNth,
    };
    const tRun = performance.now();
    const outcome = await this.app.runner.run(
      source,
      runOptions,
      typeof this.cell.attrs.exercise === "string" ? this.cell.attrs.exercise : undefined,
      this.exerciseDecl(),
    );
    this.setRunning(false);
    this.lastOutcome = outcome;
    this.runs++;
    const runs = this.runs;
    const tRender = performance.now();
    renderOutcome(this.output, outcome, {
      gotoLine: (l, c) => this.highlightLine(l, c),
      moduleFns: () => functionNames(this.getCode()),
      walk: outcome.kind === "result" ? (addr, when) => this.app.runner.walk(outcome.runId, addr, when) : undefined,
      dmesg: outcome.kind === "result" ? (from, count) => this.app.runner.dmesg(outcome.runId, from, count) : undefined,
      source: () => source,
      // the open views (address space, frame map, both address spaces) after the first frame, one task each
      defer: (build) => requestAnimationFrame(() => setTimeout(build, 0)),
    });
    const ms = Math.round(performance.now() - t0);
    recordMetric("runRender", performance.now() - tRender);
    recordMetric("runRequest", tRender - tRun);
    // the output on screen: the frame after the render (canvases draw in that frame's callbacks)
    // data-runs counts finished runs (tests and tools wait on it): set here, after the deferred views were built (their
    // tasks were queued before this one), so that a reader of the output sees all of it
    requestAnimationFrame(() =>
      setTimeout(() => {
        recordMetric("runPaint", performance.now() - tRender);
        this.root.dataset.runs = String(runs);
      }, 0),
    );
    if (outcome.kind === "result" && outcome.workerMs !== undefined) {
      recordMetric("runWorker", outcome.workerMs);
      recordMetric("runSandbox", outcome.result.stats?.wallMs ?? -1);
      recordMetric("runPreboot", outcome.preboot ? 1 : 0);
    }
    this.editor?.setRunMarkers(
      outcome.kind === "result"
        ? (outcome.result.reports ?? [])
            .filter((r) => r.line)
            .map((r) => ({
              line: r.line!,
              column: r.frames?.[0]?.column,
              message: `${r.title}${r.explain ? "\n" + r.explain : ""}`,
              error: r.kind !== "warn" && r.kind !== "leak",
            }))
        : [],
    );
    if (outcome.kind === "result") {
      const n = outcome.result.reports?.length ?? 0;
      this.status.textContent = n ? `Done in ${ms} ms, ${n} report${n > 1 ? "s" : ""}.` : `Done in ${ms} ms.`;
      if (!n && outcome.result.initReturn === 0) this.app.store.markProgress(this.lesson.meta.id, { ran: this.cell.id });
      if (outcome.grade?.passed) this.app.store.markProgress(this.lesson.meta.id, { passed: outcome.grade.exercise });
      if (outcome.grade) this.status.textContent += outcome.grade.passed ? " Exercise passed." : ` Exercise: ${outcome.grade.score}/${outcome.grade.maxScore}.`;
      if (outcome.grade && !outcome.grade.passed) {
        this.failedChecks++;
        this.output.append(this.solutionOffer(outcome.grade.exercise));
      }
      this.app.onProgress();
      const total = outcome.result.stats?.kernelCalls ?? 0;
      if (total > 1) this.output.append(this.stepper(source, runOptions, total, (outcome.result.kernel?.calls ?? []) as { fn: string }[]));
      this.output.append(this.comparer(source, runOptions, outcome));
    } else this.status.textContent = outcome.kind === "killed" ? "Worker restarted." : "Run failed.";
    recordMetric("run", ms);
    return outcome;
  }

  private async runAndNext() {
    const i = this.app.cells.indexOf(this);
    const p = this.run();
    const next = this.app.cells[i + 1];
    if (next) next.focusEditor();
    await p;
  }

  stop() {
    if (!this.running) return;
    this.stopped = true;
    this.status.textContent = "Stopping…";
    this.app.runner.stop();
  }

  reset() {
    if (this.getCode() !== this.cell.source && !confirmReset()) return;
    this.app.store.resetCell(this.lesson.meta.id, this.cell.id);
    this.profileSel.value = "";
    this.memInput.value = "";
    this.cmdInput.value = "";
    this.configSel.value = "";
    this.cpuInput.value = "";
    this.updateMachineSummary();
    this.setCode(this.cell.source);
    this.notice.hidden = true;
    this.status.textContent = "Reset to the lesson's code.";
  }

  private async share() {
    const url = new URL(location.href);
    url.hash = encodeShare({
      lesson: this.lesson.meta.id,
      cell: this.cell.id,
      code: this.getCode(),
      profile: this.profileSel.value || undefined,
      mem: this.memInput.value.trim() || undefined,
      cmdline: this.cmdInput.value.trim() || undefined,
      config: this.configSel.value || undefined,
      cpu: this.cpuInput.value.trim() || undefined,
    });
    const link = url.toString();
    let copied = false;
    try {
      await navigator.clipboard.writeText(link);
      copied = true;
    } catch {
      /* clipboard needs permission or a secure context: show the link instead */
    }
    const input = h("input", { type: "text", readonly: true, class: "share-link", "aria-label": "Share link", value: link });
    this.showNote(copied ? "Link copied. " : "Copy this link: ", input);
    input.select();
  }

  private showNote(...content: (string | Node)[]) {
    const close = h("button", { type: "button", class: "btn small", onclick: () => (this.notice.hidden = true) }, "Close");
    this.notice.replaceChildren(h("span", {}, ...content), " ", close);
    this.notice.hidden = false;
  }

  /** The learner took the lesson's new code; their previous code stays in storage until they restore or forget it. */
  private showPrevious(lead = "Showing the lesson's new code. Your previous code is kept:") {
    const lessonId = this.lesson.meta.id;
    const prev = this.app.store.previous(lessonId, this.cell.id);
    if (prev === undefined) return;
    const restore = h("button", { type: "button", class: "btn small" }, "Restore my previous code");
    const forget = h("button", { type: "button", class: "btn small" }, "Forget it");
    restore.addEventListener("click", () => {
      this.setCode(prev);
      this.save();
      this.app.store.forgetPrevious(lessonId, this.cell.id);
      this.notice.hidden = true;
    });
    forget.addEventListener("click", () => {
      this.app.store.forgetPrevious(lessonId, this.cell.id);
      this.notice.hidden = true;
    });
    this.notice.replaceChildren(h("p", {}, lead), h("details", {}, h("summary", {}, "Show it"), h("pre", { class: "code" }, prev)), restore, " ", forget);
    this.notice.hidden = false;
  }

  /** The lesson's original changed since the learner edited this cell: say so and offer both. */
  private showStale(original: string) {
    const keep = h("button", { type: "button", class: "btn small" }, "Keep my code");
    const take = h("button", { type: "button", class: "btn small" }, "Use the new lesson code");
    const pre = h("pre", { class: "code" }, original);
    keep.addEventListener("click", () => {
      this.app.store.acceptStale(this.lesson.meta.id, this.cell.id, this.cell.source);
      this.notice.hidden = true;
    });
    take.addEventListener("click", () => {
      this.app.store.stashPrevious(this.lesson.meta.id, this.cell.id, this.getCode());
      this.setCode(original);
      this.app.store.resetCell(this.lesson.meta.id, this.cell.id);
      this.showPrevious();
    });
    this.notice.replaceChildren(
      h("p", {}, "The lesson's code for this cell has changed since you edited it. Your version is in the editor."),
      h("details", {}, h("summary", {}, "Show the lesson's new code"), pre),
      keep,
      " ",
      take,
    );
    this.notice.hidden = false;
  }
}

function confirmReset(): boolean {
  try {
    return confirm("Replace your code with the lesson's original? Your edit will be lost.");
  } catch {
    return true;
  }
}

const FOCUSABLE =
  "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]):not([hidden]), summary, [tabindex]:not([tabindex='-1'])";

/** Move focus to the next (or previous) focusable element outside `box`, in document order. */
export function focusNextOutside(box: HTMLElement, back: boolean) {
  const all = Array.from(document.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => !box.contains(el) && el.offsetParent !== null);
  const after = (el: HTMLElement) => !!(box.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
  const target = back ? all.filter((el) => !after(el)).pop() : all.find(after);
  if (target) target.focus();
  else (document.activeElement as HTMLElement | null)?.blur(); // nothing after it: the next Tab goes to the browser
}

/** What the page did with the editors (upgrades, line links), in order: an end-to-end test's failure message shows it. */
export function recordTrail(what: string) {
  const w = globalThis as unknown as { __kmodlab?: Record<string, unknown[]> };
  const t = ((w.__kmodlab ??= {}).trail ??= []);
  if (t.length < 200) t.push(what);
}

export function recordMetric(name: string, value: number) {
  const w = globalThis as unknown as { __kmodlab?: Record<string, number[]> };
  ((w.__kmodlab ??= {})[name] ??= []).push(value);
}
