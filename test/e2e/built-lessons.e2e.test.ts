// End-to-end: `kmodlab build --lessons DIR --out SITE` — the production notebook with an instructor's folder of
// lessons (test/lessons/fixtures/md-lessons), in Debian's Chromium: the list shows that folder's lessons only, an
// exercise declared in a ```exercise block shows its statement and a cell with its starter, and the page's grader
// judges it with the declared checks (the starter fails, the solution passes).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { serveStatic } from "./server.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FIXTURE = "test/lessons/fixtures/md-lessons";
let browser: Browser;
let server: Awaited<ReturnType<typeof serveStatic>>;
let site: string;

beforeAll(async () => {
  site = mkdtempSync(join(tmpdir(), "kmodlab-site-"));
  execFileSync(process.execPath, ["bin/kmodlab.cjs", "build", "--lessons", FIXTURE, "--out", site], { stdio: "inherit" });
  mkdirSync("test-results", { recursive: true });
  server = await serveStatic(site);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(site, { recursive: true, force: true });
});

async function runCell(page: Page, id: string) {
  const c = page.locator(`section.cell[data-cell-id="${id}"]`);
  const before = Number((await c.getAttribute("data-runs")) ?? 0);
  await c.locator("button.run").click();
  await page.waitForFunction(
    ([cid, n]) => Number(document.querySelector(`section.cell[data-cell-id="${cid}"]`)?.getAttribute("data-runs") ?? 0) > n,
    [id, before] as const,
    { timeout: 60_000 },
  );
  return c;
}

describe("kmodlab build --lessons", () => {
  it("the site lists the folder's lessons, shows a Markdown exercise, and grades it with its declared checks", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(server.url + "#/");
    await page.waitForSelector("html[data-ready='1']");
    await page.waitForSelector(".lesson-item");
    const items = await page.locator(".lesson-item").allTextContents();
    expect(items.join("\n")).toMatch(/Greetings from a module/);
    expect(items.join("\n")).toMatch(/A buffer from the slab allocator/);
    expect(items.join("\n")).not.toMatch(/Your first module/);
    await page.goto(server.url + "#/lesson/greetings");
    await page.waitForSelector('section.cell[data-cell-id="greet"]');
    const card = page.locator('section.exercise-statement[data-exercise="greet"]');
    await page.waitForFunction(() => /Exercise: /.test(document.querySelector('section.exercise-statement[data-exercise="greet"]')?.textContent ?? ""));
    await expect(card.textContent()).resolves.toMatch(
      /Exercise: Say hello and goodbye[\s\S]*Print hi from greet at KERN_INFO[\s\S]*"bye from greet" is printed at KERN_INFO on unload/,
    );
    let c = await runCell(page, "greet");
    await expect(c.locator(".grade h4").textContent()).resolves.toMatch(/not passed yet/);
    // the solution, typed into the cell's plain editor (or Monaco once it took over)
    const block = readFileSync(join(FIXTURE, "01-greetings.md"), "utf8").split("```exercise\n")[1].split("\n```")[0];
    const solution = (parse(block) as { solution: string }).solution;
    const ta = c.locator("textarea.plain-editor");
    if (await ta.isVisible()) await ta.fill(solution);
    else {
      await c.locator(".monaco-editor").click();
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.press("Delete");
      await page.evaluate((text) => document.execCommand("insertText", false, text), solution);
    }
    c = await runCell(page, "greet");
    await page.screenshot({ path: "test-results/built-lessons-exercise.png" });
    await expect(c.locator(".grade h4").textContent()).resolves.toMatch(/Exercise passed/);
    await expect(c.locator(".grade").textContent()).resolves.toMatch(/"hi from greet" is printed at KERN_INFO/);
    expect(errors).toEqual([]);
    await ctx.close();
  });
});
