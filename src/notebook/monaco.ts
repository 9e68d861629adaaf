// Monaco, loaded lazily (dynamic import from cell.ts on the first focus of a cell): the slim editor core, TypeScript
// syntax and language service, hover, suggest and signature help. Import paths and compiler options follow
// stack-notes §3 for Monaco 0.57 (the TS API lives in the top-level `typescript` namespace).

import * as monaco from "monaco-editor/editor";
import "monaco-editor/languages/definitions/typescript/register";
import * as typescript from "monaco-editor/languages/features/typescript/register";
import "monaco-editor/features/hover/register";
import "monaco-editor/features/suggest/register";
import "monaco-editor/features/parameterHints/register";
import "monaco-editor/features/gotoError/register";
import "monaco-editor/features/bracketMatching/register";
import "monaco-editor/features/comment/register";
import "monaco-editor/features/wordHighlighter/register";
import "monaco-editor/features/toggleTabFocusMode/register";
import "monaco-editor/features/clipboard/register";
import "monaco-editor/features/contextmenu/register";
import "monaco-editor/features/find/register";
import "monaco-editor/features/folding/register";
import "monaco-editor/features/indentation/register";
import "monaco-editor/features/linesOperations/register";
import "monaco-editor/features/cursorUndo/register";
// The editor core asks for these services (ICodeLensCache, the tree views' drag-and-drop service) when an editor is
// disposed or laid out; without their registrations each editor threw "UNKNOWN service ..." as it went away.
import "monaco-editor/features/codelens/register";
import "monaco-editor/features/dropOrPasteInto/register";
import editorWorker from "monaco-editor/editor/editor.worker?worker";
import tsWorker from "monaco-editor/languages/features/typescript/ts.worker?worker";

(self as unknown as { MonacoEnvironment: unknown }).MonacoEnvironment = {
  getWorker: (_id: string, label: string) => (label === "typescript" || label === "javascript" ? new tsWorker() : new editorWorker()),
};

const ts = typescript.typescriptDefaults;
ts.setCompilerOptions({
  target: typescript.ScriptTarget.ES2020, // bigint literals
  module: 200 as never, // Preserve: import "linux" stays an import, nothing is emitted around it
  moduleDetection: 3 as never, // Force: every cell is its own module scope, so two cells may both declare `pagemem`
  lib: ["es2020"], // QuickJS has no DOM
  strict: true,
  noEmit: true,
  erasableSyntaxOnly: true,
  allowNonTsExtensions: true,
} as never);
ts.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false });
ts.setEagerModelSync(true);

const libs = new Map<string, monaco.IDisposable>();
let activeLib: string | undefined;
/** Numbers the editors, for the context key that scopes each editor's keybindings. */
let editorSerial = 0;

/**
 * Make `import ... from "linux"` resolve to the API of this profile. TypeScript sees every extra lib at once, so only
 * one profile's linux.d.ts is active at a time (the one of the cell being edited).
 */
export function useLinuxDts(profile: string, dts: string) {
  if (activeLib === profile) return;
  for (const d of libs.values()) d.dispose();
  libs.clear();
  const text = /declare\s+module\s+["']linux["']/.test(dts) ? dts : `declare module "linux" {\n${dts}\n}\n`;
  libs.set(profile, ts.addExtraLib(text, "file:///linux.d.ts"));
  activeLib = profile;
}

function applyTheme() {
  // the page's theme toggle (data-theme on <html>) wins over the system's
  const t = document.documentElement.dataset.theme;
  const dark = t ? t === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  monaco.editor.setTheme(dark ? "vs-dark" : "vs");
}
applyTheme();
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);
window.addEventListener("kmodlab-theme", applyTheme);

/** How long a line link's highlight stays. */
export const FLASH_MS = 2000;

export interface CellEditor {
  editor: monaco.editor.IStandaloneCodeEditor;
  getValue(): string;
  setValue(s: string): void;
  focus(): void;
  highlightLine(line: number, column?: number): void;
  setReadOnly(ro: boolean): void;
  /** Marks from the last run (reports with a cell line), shown like TypeScript's own diagnostics. */
  setRunMarkers(marks: { line: number; column?: number; message: string; error: boolean }[]): void;
  dispose(): void;
}

export interface EditorOptions {
  uri: string;
  value: string;
  readOnly: boolean;
  label: string;
  onChange(value: string): void;
  onRun(): void;
  onRunNext(): void;
  /** Escape then Tab/Shift+Tab: move focus out of the editor. */
  onLeave(back: boolean): void;
}

export function createEditor(host: HTMLElement, o: EditorOptions): CellEditor {
  const uri = monaco.Uri.parse(o.uri);
  const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(o.value, "typescript", uri);
  if (model.getValue() !== o.value) model.setValue(o.value);
  const editor = monaco.editor.create(host, {
    model,
    readOnly: o.readOnly,
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    automaticLayout: true,
    fontSize: 14,
    lineNumbersMinChars: 3,
    tabSize: 2,
    renderLineHighlight: "none",
    scrollbar: { alwaysConsumeMouseWheel: false, verticalScrollbarSize: 8 },
    overviewRulerLanes: 0,
    ariaLabel: o.label,
    fixedOverflowWidgets: true,
    wordWrap: "off",
    padding: { top: 6, bottom: 6 },
  });
  // height follows content, so the page scrolls, not the editor
  const fit = () => {
    const hgt = Math.min(Math.max(editor.getContentHeight(), 60), 2000);
    host.style.height = `${hgt}px`;
    editor.layout();
  };
  editor.onDidContentSizeChange(fit);
  fit();
  model.onDidChangeContent(() => o.onChange(model.getValue()));
  // Keybindings are global in standalone Monaco: the last editor's addCommand would win in every editor
  // (microsoft/monaco-editor#2947), so Ctrl+Enter ran another cell. Each binding is scoped by a context key that only
  // this editor's (DOM-scoped) context holds.
  const own = `kmodlabEditor${++editorSerial}`;
  editor.createContextKey(own, true);
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => o.onRun(), own);
  editor.addCommand(monaco.KeyMod.Shift | monaco.KeyCode.Enter, () => o.onRunNext(), own);
  // No focus trap: after Escape, Tab and Shift+Tab leave the editor (like tabFocusMode for one key press).
  let escaped = false;
  editor.onKeyDown((e) => {
    if (e.keyCode === monaco.KeyCode.Escape) {
      escaped = true;
      return;
    }
    if (e.keyCode === monaco.KeyCode.Tab && escaped) {
      e.preventDefault();
      e.stopPropagation();
      escaped = false;
      o.onLeave(e.shiftKey);
      return;
    }
    if (e.keyCode !== monaco.KeyCode.Shift) escaped = false;
  });
  let deco: monaco.editor.IEditorDecorationsCollection | undefined;
  let flashTimer: ReturnType<typeof setTimeout> | undefined;
  return {
    editor,
    getValue: () => model.getValue(),
    setValue: (s) => {
      if (model.getValue() !== s) model.pushEditOperations([], [{ range: model.getFullModelRange(), text: s }], () => null);
    },
    focus: () => editor.focus(),
    highlightLine(line, column) {
      deco?.clear();
      clearTimeout(flashTimer);
      deco = editor.createDecorationsCollection([
        { range: new monaco.Range(line, 1, line, 1), options: { isWholeLine: true, className: "line-flash", linesDecorationsClassName: "line-flash-gutter" } },
      ]);
      // a flash, not a mark: it goes after a moment, or at the next edit
      const d = deco;
      flashTimer = setTimeout(() => d.clear(), FLASH_MS);
      const sub = model.onDidChangeContent(() => {
        d.clear();
        sub.dispose();
      });
      editor.revealLineInCenterIfOutsideViewport(line);
      editor.setPosition({ lineNumber: line, column: column ?? 1 });
      editor.focus();
    },
    setReadOnly: (ro) => editor.updateOptions({ readOnly: ro }),
    setRunMarkers(marks) {
      monaco.editor.setModelMarkers(
        model,
        "kmodlab-run",
        marks.map((m) => {
          const line = Math.min(Math.max(1, m.line), model.getLineCount());
          const col = m.column ?? model.getLineFirstNonWhitespaceColumn(line) ?? 1;
          return {
            startLineNumber: line,
            startColumn: col,
            endLineNumber: line,
            endColumn: model.getLineMaxColumn(line),
            message: m.message,
            severity: m.error ? monaco.MarkerSeverity.Error : monaco.MarkerSeverity.Warning,
            source: "kernel",
          };
        }),
      );
    },
    dispose() {
      clearTimeout(flashTimer);
      editor.dispose();
      model.dispose();
    },
  };
}
