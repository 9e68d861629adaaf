// The cell's user program in the output (sandbox/user.ts UserOutcome): its fate, its standard output, its page
// faults, and its address space at exit — /proc/PID/maps and status as the kernel renders them, and every present
// page with the frame it maps (the frame a driver's mmap shares shows the same pfn the module printed).

import type { UserOutcome } from "../../../sandbox/user.ts";
import { h } from "../dom.ts";

const PAGES_SHOWN = 256;

export function userBlock(u: UserOutcome): HTMLElement[] {
  const fate = u.signal
    ? `killed by ${u.signal.sig} (${u.signal.code} at ${u.signal.addr}): a shell shows status ${u.status}`
    : `exited with status ${u.status}`;
  const out: HTMLElement[] = [
    h("h4", { class: "out-h" }, `user program: ${u.comm} (pid ${u.pid})`),
    h("p", { class: "user-fate" + (u.status ? " bad" : " ok") }, fate),
  ];
  const text = u.stdout + (u.stderr ? u.stderr : "");
  out.push(text ? h("pre", { class: "user-stdout" }, text) : h("p", { class: "empty" }, "(the program printed nothing)"));
  const kinds: Record<string, number> = {};
  for (const f of u.faults) kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
  const names: Record<string, string> = {
    anon: "a new page",
    zero: "the zero page (a read)",
    cow: "a copy of the zero page (a write after a read)",
    stack: "a new stack page",
  };
  const parts = Object.entries(kinds).map(([k, n]) => `${n} mapped ${names[k] ?? k}`);
  out.push(
    h("p", { class: "user-faults", "data-fig": "minflt" }, `${u.minFlt} minor fault${u.minFlt === 1 ? "" : "s"}${parts.length ? `: ${parts.join(", ")}` : ""}`),
  );
  if (u.faults.length)
    out.push(
      details(
        "user-fault-list",
        `Faults (${u.faultsTotal > u.faults.length ? `the first ${u.faults.length} of ${u.faultsTotal}` : u.faults.length})`,
        u.faults.map((f) => `${f.addr} ${f.write ? "write" : "read "} -> ${names[f.kind] ?? f.kind}`).join("\n"),
      ),
    );
  out.push(details("user-maps", `Address space: /proc/${u.pid}/maps`, u.maps, true));
  const shown = u.pages.slice(0, PAGES_SHOWN).map((p) => `${p.addr} -> pfn ${p.pfn} (0x${p.pfn.toString(16)}) ${p.kind}`);
  const total = u.pagesTotal ?? u.pages.length;
  if (total > shown.length) shown.push(`... and ${total - shown.length} more`);
  out.push(details("user-pages", `Present pages at exit (${total})`, shown.join("\n")));
  out.push(details("user-status", `/proc/${u.pid}/status`, u.status_file));
  return out;
}

function details(cls: string, title: string, text: string, open = false): HTMLElement {
  const d = h("details", { class: cls }, h("summary", {}, title), h("pre", {}, text));
  if (open) d.setAttribute("open", "");
  return d;
}
