// Type-checking a cell in the run worker, before it runs: typescript@6's own checker over the cell and the era's
// linux.d.ts (sandbox/dts.ts), all in memory, with the ES2020 library files bundled as text. The same compiler options
// as Monaco's (monaco.ts) and `kmodlab check` (src/cli/check.ts, which reads the library from disk instead).
// TypeScript is big (megabytes): this module and the compiler load lazily, in the worker only, after the warm-up; a
// Run that comes before it is ready runs unchecked and says so.

import type * as TS from "typescript";
import { cellCompilerOptions } from "../../sandbox/dts.ts";

export interface CellDiagnostic {
  line: number;
  column: number;
  code: number;
  message: string;
}

const LIBS = import.meta.glob<string>("../../node_modules/typescript/lib/lib.{es5,es2015*,es2016*,es2017*,es2018*,es2019*,es2020*,decorators*}.d.ts", {
  query: "?raw",
  import: "default",
  eager: true,
});
const libText = new Map(Object.entries(LIBS).map(([path, text]) => [path.slice(path.lastIndexOf("/") + 1), text]));

const CELL = "/cell/cell.ts";
const DTS = "/cell/linux.d.ts";

let tsP: Promise<typeof TS> | undefined;
/** The compiler, loaded once. */
export function loadTypeScript(): Promise<typeof TS> {
  tsP ??= import("typescript").then((m) => (m as { default?: typeof TS }).default ?? (m as typeof TS));
  tsP.catch(() => (tsP = undefined));
  return tsP;
}

const parsedLibs = new Map<string, TS.SourceFile>();
/** The last program: the next one reuses its library files (binding them is most of a check's cost). */
let lastProgram: TS.Program | undefined;

/** Type errors of a cell against an era's declarations (`dts`), innermost syntax first, in line order. */
export function checkCell(ts: typeof TS, source: string, dts: string): CellDiagnostic[] {
  const options = cellCompilerOptions(ts);
  const files = new Map([
    [CELL, source],
    [DTS, /declare\s+module\s+["']linux["']/.test(dts) ? dts : `declare module "linux" {\n${dts}\n}\n`],
  ]);
  const host: TS.CompilerHost = {
    getSourceFile(name, lang) {
      const text = files.get(name);
      if (text !== undefined) return ts.createSourceFile(name, text, lang);
      const base = name.slice(name.lastIndexOf("/") + 1);
      let sf = parsedLibs.get(base);
      if (!sf) {
        const lib = libText.get(base);
        if (lib === undefined) return undefined;
        sf = ts.createSourceFile(base, lib, lang);
        parsedLibs.set(base, sf);
      }
      return sf;
    },
    getDefaultLibFileName: () => "/lib/lib.es2020.d.ts",
    getDefaultLibLocation: () => "/lib",
    writeFile: () => {},
    getCurrentDirectory: () => "/cell",
    getCanonicalFileName: (f) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => "\n",
    fileExists: (f) => files.has(f) || libText.has(f.slice(f.lastIndexOf("/") + 1)),
    readFile: (f) => files.get(f) ?? libText.get(f.slice(f.lastIndexOf("/") + 1)),
  };
  const program = ts.createProgram([CELL, DTS], options, host, lastProgram);
  lastProgram = program;
  // the cell's own diagnostics only: checking every library file each time (what the no-argument forms do) costs
  // ~100 ms per check, and their diagnostics were dropped below anyway
  const cell = program.getSourceFile(CELL);
  const diags = [...program.getSyntacticDiagnostics(cell), ...program.getSemanticDiagnostics(cell), ...program.getGlobalDiagnostics()];
  const out: CellDiagnostic[] = [];
  for (const d of diags) {
    if (d.category !== ts.DiagnosticCategory.Error) continue;
    if (d.file && d.file.fileName !== CELL) continue;
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0, character: 0 };
    out.push({ line: pos.line + 1, column: pos.character + 1, code: d.code, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") });
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}
