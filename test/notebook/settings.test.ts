// A cell's settings (src/notebook/settings.ts): the fence line's mem/cmdline/config/events/timeout, the learner's
// picks over them, and share links that carry every setting.
import { describe, expect, it } from "vitest";
import { cellSettings, effectiveSettings, parseEvents, parseTimeout } from "../../src/notebook/settings.ts";
import { parseInfo } from "../../src/notebook/lesson.ts";
import { decodeShare, encodeShare } from "../../src/notebook/share.ts";
import { cellRunSettings, loadLessons } from "../../src/lessons/load.ts";

const cell = (info: string, profile = "x86_64-6.1") => ({ attrs: parseInfo(info)!, profile });

describe("cell settings", () => {
  it("lesson 08's msm-300 cell asks for vmalloc=300M on its command line, read the same by the notebook and the tests", () => {
    const l = loadLessons().find((x) => x.meta.id === "vmalloc-size")!;
    const c = l.cells.find((x) => x.id === "msm-300")!;
    expect(cellRunSettings(c)).toEqual({ profile: "arm-3.4-msm8x25", cmdline: "console=ttyMSM0,115200n8 vmalloc=300M" });
  });

  it("reads mem, cmdline, config, events and timeout from the fence line", () => {
    expect(cellSettings(cell('module id=a mem=160M cmdline="vmalloc=200M quiet" config=distro events="button@30ms irq5@60ms" timeout=5000'))).toEqual({
      profile: "x86_64-6.1",
      mem: "160M",
      cmdline: "vmalloc=200M quiet",
      config: "distro",
      events: [
        { atMs: 30, irq: "button" },
        { atMs: 60, irq: 5 },
      ],
      timeoutMs: 5000,
    });
  });

  it("a bad setting is an error naming it", () => {
    expect(() => cellSettings(cell("module mem=lots"))).toThrow(/mem="lots" is not a size/);
    expect(() => cellSettings(cell("module config=tiny"))).toThrow(/config="tiny": the kernel configs are debug and distro/);
    expect(() => parseEvents("press@30")).toThrow(/"press@30" is not an event/);
    expect(() => cellSettings(cell("module timeout=999999"))).toThrow(/timeout="999999"/);
  });

  it("the learner's picks override the cell's; empty fields keep the cell's", () => {
    const own = cellSettings(cell('module mem=160M cmdline="vmalloc=300M"'));
    expect(effectiveSettings(own, { mem: "", cmdline: "", config: "", timeout: "" })).toEqual(own);
    expect(effectiveSettings(own, { mem: "512M", config: "distro", timeout: "10s" })).toMatchObject({
      mem: "512M",
      cmdline: "vmalloc=300M",
      config: "distro",
      timeoutMs: 10000,
    });
    expect(parseTimeout("nope")).toBeNaN();
    expect(parseTimeout("")).toBeUndefined();
  });

  it("a share link carries the profile, RAM, command line, config and CPU limit", () => {
    const d = {
      lesson: "vmalloc-size",
      cell: "msm-300",
      code: "x",
      profile: "arm-3.4-msm8x25",
      mem: "256M",
      cmdline: "vmalloc=300M",
      config: "distro",
      cpu: "5000",
    };
    expect(decodeShare(encodeShare(d))).toEqual(d);
  });
});
