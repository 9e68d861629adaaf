// The exercise's statement above its cell: the task and the names of the checks (what will be checked, not how).
// The statements live with the grader's exercises (src/grader/statement.ts), loaded lazily: a lesson without an
// exercise cell never downloads the grader.

import { h } from "./dom.ts";

/** Inline Markdown of a statement: `code` spans; everything else is text (the statements are the project's own). */
export function inlineMarkdown(text: string): (string | HTMLElement)[] {
  return text
    .split(/(`[^`]+`)/)
    .filter(Boolean)
    .map((part) => (part.startsWith("`") && part.endsWith("`") ? h("code", {}, part.slice(1, -1)) : part));
}

interface View {
  title: string;
  profile: string;
  mem?: number;
  statement: string;
  checks: { id: string; message: string }[];
}

/** Fill a card with a statement view. */
export function renderStatement(card: HTMLElement, v: View): void {
  const paras = v.statement.split(/\n\s*\n/).map((p) => h("p", {}, ...inlineMarkdown(p.replace(/\s*\n\s*/g, " ").trim())));
  card.replaceChildren(
    h("h4", {}, `Exercise: ${v.title}`),
    ...paras,
    h("p", { class: "statement-machine" }, `Checked on ${v.profile}${v.mem ? ` with ${v.mem >> 20} MiB of RAM` : ""}.`),
    h("h5", {}, "What will be checked"),
    h("ul", { class: "statement-checks" }, ...v.checks.map((c) => h("li", { "data-check": c.id }, ...inlineMarkdown(c.message)))),
  );
}

/** A card for exercise `id`, filled when the statements arrive (a plain note if they cannot be loaded). */
export function statementCard(
  id: string,
  load: () => Promise<{ statementOf(id: string): View | undefined }> = () => import("../grader/statement.ts"),
): HTMLElement {
  const card = h(
    "section",
    { class: "exercise-statement", "aria-label": "Exercise statement", "data-exercise": id },
    h("p", {}, "Loading the exercise's statement…"),
  );
  load().then(
    (m) => {
      const v = m.statementOf(id);
      if (v) renderStatement(card, v);
      else card.replaceChildren(h("p", {}, `There is no exercise "${id}".`));
    },
    (e: unknown) => card.replaceChildren(h("p", {}, `The exercise's statement could not be loaded: ${(e as Error)?.message ?? e}`)),
  );
  return card;
}
