// `kmodlab check FILE [--profile P]`: type-check a module cell against linux.d.ts for the profile's era, with
// typescript@6 (a program of the cell as a .ts file plus the generated declarations as ambient modules).
// Prints `file:line:col - error TSxxxx: message`; exit 0 when clean, 1 with errors, 2 for bad usage.

import ts from "typescript";
import type { Era } from "../kernel/types.ts";
import { cellCompilerOptions } from "../../sandbox/dts.ts";
import { readCellFile } from "./read-cell.ts";

export interface CellDiagnostic {
  line: number; // 1-based
  column: number; // 1-based
  code: number;
  message: string;
  category: "error" | "warning" | "suggestion" | "message";
}

const libCache = new Map<string, ts.SourceFile>();
const CELL = "/cell/cell.ts";
const DTS = "/cell/linux.d.ts";

/** The compiler options a cell is checked with (the same ones the notebook gives Monaco). */
export const CELL_COMPILER_OPTIONS: ts.CompilerOptions = cellCompilerOptions(ts);

/** Type-check a cell against the declarations of an era. */
export async function typeCheckCell(source: string, era: Era): Promise<CellDiagnostic[]> {
  const { linuxDts } = await import("../../sandbox/dts.ts");
  const files = new Map([
    [CELL, source],
    [DTS, linuxDts(era)],
  ]);
  const host = ts.createCompilerHost(CELL_COMPILER_OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) => {
    const text = files.get(name);
    if (text !== undefined) return ts.createSourceFile(name, text, lang);
    // The default library files never change: parse them once per process.
    let sf = libCache.get(name);
    if (!sf) {
      sf = getSourceFile(name, lang, onError, create);
      if (sf) libCache.set(name, sf);
    }
    return sf;
  };
  host.fileExists = (
    (orig) => (name: string) =>
      files.has(name) || orig(name)
  )(host.fileExists.bind(host));
  host.readFile = (
    (orig) => (name: string) =>
      files.get(name) ?? orig(name)
  )(host.readFile.bind(host));
  const program = ts.createProgram([CELL, DTS], CELL_COMPILER_OPTIONS, host);
  const diags = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics(), ...program.getGlobalDiagnostics()];
  const out: CellDiagnostic[] = [];
  for (const d of diags) {
    if (d.file && d.file.fileName !== CELL) continue; // the generated d.ts is tested on its own
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0, character: 0 };
    out.push({
      line: pos.line + 1,
      column: pos.character + 1,
      code: d.code,
      message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
      category: (["warning", "error", "suggestion", "message"] as const)[d.category],
    });
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

export interface CheckFlags {
  profile?: string;
}

export async function checkCommand(file: string, opts: CheckFlags = {}): Promise<number> {
  const { getProfile } = await import("../kernel/profiles.ts");
  let era: Era;
  try {
    era = getProfile(opts.profile ?? "x86_64-6.1").era;
  } catch (e) {
    process.stderr.write(`kmodlab: ${(e as Error).message}\n`);
    return 2;
  }
  let source: string;
  try {
    source = readCellFile(file);
  } catch (e) {
    process.stderr.write(`kmodlab: cannot read ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  const diags = await typeCheckCell(source, era);
  for (const d of diags) process.stdout.write(`${file}:${d.line}:${d.column} - ${d.category} TS${d.code}: ${d.message}\n`);
  const errors = diags.filter((d) => d.category === "error").length;
  // Say so when all is well: a silent success reads like nothing happened.
  if (!errors) process.stderr.write(`${file}: no type errors against linux.d.ts for Linux ${era}\n`);
  return errors ? 1 : 0;
}
