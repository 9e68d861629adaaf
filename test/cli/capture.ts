// Runs the kmodlab command's main() in-process and captures what it writes: the CLI tests' one way to call it.

import { afterEach, vi } from "vitest";
import { main } from "../../src/cli/main.ts";

/** main(argv) with stdout and stderr captured: the exit code and both texts. */
export async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    return { code: await main(argv), out: out.join(""), err: err.join("") };
  } finally {
    vi.restoreAllMocks();
  }
}

/** Registers the restore of every spy after each test of the file that imports this. */
export function restoreSpiesAfterEach(): void {
  afterEach(() => vi.restoreAllMocks());
}
