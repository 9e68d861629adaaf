// The kernel log of a run, sent to the page while the run goes on (run.worker.ts), so that a run the page has to end
// keeps its log. A Web Worker cannot be stopped short of ending it: a cell stuck in one built-in call that never
// returns to the sandbox's deadline check ([].indexOf.call({ length: 2 ** 53 - 1 }, 1)) is ended by the page
// (runner.ts, "unresponsive"), and whatever the worker held is gone with it. So the worker sends the log as it grows:
// every record at once for a run's first LOG_FIRST_RECORDS (a cell that prints a few lines and then hangs keeps them
// all: the common case), then in batches, at a record that comes LOG_BATCH_MS or more after the last send or that
// makes LOG_BATCH_RECORDS unsent (a loop that prints costs one message per LOG_BATCH_RECORDS records at most). What the
// page shows after ending the worker is the log up to the last send: past the first records, at most the last
// LOG_BATCH_RECORDS - 1 records before the hang can be missing (the time rule alone lost every record of the last 5 ms:
// a cell printing 1000 lines and then hanging in one built-in kept 836-933 of them in Chromium).
// Rejected: a message per record (~4 µs each, last session's measure, the cost of a printk loop doubled), and a
// SharedArrayBuffer ring the page reads after the end (the page is not cross-origin isolated: no SharedArrayBuffer).
// The cost per printk is one wrapper and, past the first records, one clock read.

export const LOG_FIRST_RECORDS = 256;
export const LOG_BATCH_MS = 5;
export const LOG_BATCH_RECORDS = 64;

/** What the forwarder needs of the kernel's LogBuffer (src/kernel/kernel/printk.ts). */
export interface ForwardedLog {
  vprintk(fmt: string, args: readonly unknown[]): number;
  mark(): number;
  dmesg(from?: number, to?: number): string[];
}

/**
 * Send `log`'s records from now on: `send(from, lines)` replaces the page's copy from line `from` on (the last line
 * sent is sent again: a continuation may have grown it). Returns the function that stops sending.
 */
export function forwardLog(log: ForwardedLog, send: (from: number, lines: string[]) => void, now: () => number): () => void {
  const start = log.mark();
  let sent = start;
  let last = -Infinity;
  const own = Object.prototype.hasOwnProperty.call(log, "vprintk");
  const orig = log.vprintk;
  log.vprintk = function (this: ForwardedLog, fmt: string, args: readonly unknown[]): number {
    const n = orig.call(this, fmt, args);
    if (n > 0) {
      const end = log.mark();
      if (end - start <= LOG_FIRST_RECORDS || end - sent >= LOG_BATCH_RECORDS || now() - last >= LOG_BATCH_MS) {
        const from = Math.max(start, sent - 1);
        send(from - start, log.dmesg(from, end));
        sent = end;
        last = now();
      }
    }
    return n;
  };
  return () => {
    if (own) log.vprintk = orig;
    else delete (log as Partial<ForwardedLog>).vprintk;
  };
}
