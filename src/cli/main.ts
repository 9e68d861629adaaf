// The `kmodlab` command: a thin shell over the kernel, the sandbox and the grader.
// Every subcommand returns an exit code by one rule (EXIT_CODES, also in --help and the README).

import { Command, CommanderError, Option } from "commander";
import { fileURLToPath } from "node:url";

/** The exit-code rule of every command, as --help prints it. */
export const EXIT_CODES = `Exit codes (every command):
  0  the run ended with no report of any kind (a grade: every check passed)
  1  the kernel reported something (Oops, BUG, WARNING, KASAN, leak, lockdep, DMA-API, sleep in atomic,
     scheduling while atomic, Bad page state, ...), a sandbox limit stopped the run (CPU, memory, stack,
     kernel calls, log), or the cell did not compile (a grade: a check failed)
  2  bad usage: an unknown command, option, profile or /proc file, an unreadable file, or a --mem or
     --cmdline the profile cannot boot`;

/** Thrown for bad usage: printed as one line, exit code 2. */
export class UsageError extends Error {}

export interface BootFlags {
  profile?: string;
  mem?: string;
  cmdline?: string;
  seed?: string;
  config?: string;
  json?: boolean;
}

/** Add the options every command that boots a kernel shares. */
export function bootOptions(cmd: Command): Command {
  return cmd
    .option("-p, --profile <name>", "boot profile (see `kmodlab profiles`)", "x86_64-6.1")
    .option("-m, --mem <size>", "RAM size, e.g. 512M, 4G (default: the profile's)")
    .option("--cmdline <text>", "kernel command line (default: the profile's)")
    .option("--seed <n>", "seed for KASLR, pointer hashing and the slab freelist shuffle (6.1 distro)")
    .addOption(new Option("--config <kind>", "debug kernel or the distribution's").choices(["debug", "distro"]));
}

/** Turn CLI strings into BootOptions, rejecting garbage with a UsageError. */
export async function parseBootFlags(f: BootFlags) {
  const { parseSize } = await import("../kernel/kernel/params.ts");
  const { getProfile } = await import("../kernel/profiles.ts");
  let profile;
  try {
    profile = getProfile(f.profile ?? "x86_64-6.1");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let mem: number | undefined;
  if (f.mem !== undefined) {
    try {
      mem = parseSize(f.mem);
    } catch (e) {
      throw new UsageError(`bad --mem '${f.mem}': ${(e as Error).message}`);
    }
  }
  let seed: number | undefined;
  if (f.seed !== undefined) {
    if (!/^\d+$/.test(f.seed) || !Number.isSafeInteger(Number(f.seed)))
      throw new UsageError(`bad --seed '${f.seed}': expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}`);
    seed = Number(f.seed);
  }
  return {
    profile,
    opts: { mem, cmdline: f.cmdline, seed, config: f.config as "debug" | "distro" | undefined },
  };
}

/** Boot, turning the kernel's refusal (absurd RAM, impossible command line) into a usage error. */
export async function bootFromFlags(f: BootFlags) {
  const { boot, KernelBootError } = await import("../kernel/kernel.ts");
  await import("../kernel/fs/all.ts");
  const { profile, opts } = await parseBootFlags(f);
  try {
    return boot(profile, opts);
  } catch (e) {
    if (e instanceof KernelBootError) {
      // a boot the kernel itself stopped (out of memory): its log, with the panic, as the serial console shows it
      if (e.log) out(e.log.join("\n"));
      throw new UsageError(e.message);
    }
    throw e;
  }
}

function out(s: string) {
  process.stdout.write(s.endsWith("\n") || s === "" ? s : s + "\n");
}

export function buildProgram(setCode: (c: number) => void): Command {
  const program = new Command();
  program
    .name("kmodlab")
    .description("Run TypeScript kernel modules against a simulated Linux kernel, read its /proc, grade exercises.")
    .showHelpAfterError("(run `kmodlab --help` for usage)")
    .addHelpText("after", "\n" + EXIT_CODES)
    .exitOverride();

  program
    .command("profiles")
    .description("list the boot profiles")
    .option("--json", "machine-readable output")
    .action(async (o: { json?: boolean }) => {
      const { PROFILES } = await import("../kernel/profiles.ts");
      if (o.json) {
        out(JSON.stringify(PROFILES, null, 2));
      } else {
        const w = Math.max(...PROFILES.map((p) => p.name.length));
        for (const p of PROFILES) {
          const mem = p.defaultMem >= 1 << 30 ? `${p.defaultMem / (1 << 30)}G` : `${p.defaultMem / (1 << 20)}M`;
          out(`${p.name.padEnd(w)}  ${p.description} [default ${mem}, ${p.defaultConfig} kernel]`);
        }
      }
      setCode(0);
    });

  bootOptions(program.command("boot"))
    .description("boot a kernel and print its boot log (dmesg)")
    .option("--json", "print {profile, dmesg, layout} as JSON")
    .action(async (o: BootFlags) => {
      const k = await bootFromFlags(o);
      if (o.json) {
        const { layoutToJson } = await import("../kernel/inspect.ts");
        out(JSON.stringify({ profile: k.profile.name, dmesg: k.log.dmesg(), layout: layoutToJson(k.layout) }, null, 2));
      } else {
        out(k.log.dmesg().join("\n"));
      }
      setCode(k.reports.length ? 1 : 0);
    });

  bootOptions(program.command("proc"))
    .argument("<name>", "the /proc file, e.g. meminfo, buddyinfo, zoneinfo, iomem, vmallocinfo, slabinfo")
    .description("boot a kernel and print /proc/NAME")
    .action(async (name: string, o: BootFlags) => {
      const k = await bootFromFlags(o);
      const { readProc, UnknownProcError } = await import("../kernel/fs/proc.ts");
      try {
        process.stdout.write(readProc(k, name));
      } catch (e) {
        if (e instanceof UnknownProcError) throw new UsageError(e.message);
        throw e;
      }
      setCode(k.reports.length ? 1 : 0);
    });

  bootOptions(program.command("run"))
    .argument("<file>", "a module cell (.ts)")
    .argument("[params...]", "module parameters as insmod takes them: name=value ...")
    .description("load a module into a freshly booted kernel, unload it, print its dmesg")
    .option("--proc <names>", "comma-separated /proc files to print after init")
    .option("--keep-loaded", "do not unload the module")
    .option("--check-invariants", "verify the kernel's internal invariants after the run")
    .option("--fail-nth <n>", "fault injection: the module_init task's Nth allocation call fails (/proc/<pid>/fail-nth, 6.1 debug kernels)")
    .option("--events <list>", 'interrupts raised after insmod at simulated times, as a cell\'s events= setting: "button@30ms irq5@60ms"')
    .option("--boot", "also print the boot log")
    .option("--json", "print the RunResult as JSON")
    .action(async (file: string, params: string[], o: Record<string, unknown>) => {
      const { runCommand } = await import("./run.ts");
      setCode(await runCommand(file, { ...o, params }));
    });

  program
    .command("check")
    .argument("<file>", "a module cell (.ts)")
    .option("-p, --profile <name>", "profile whose API to check against", "x86_64-6.1")
    .description("type-check a module cell against linux.d.ts")
    .action(async (file: string, o: Record<string, unknown>) => {
      const { checkCommand } = await import("./check.ts");
      setCode(await checkCommand(file, o));
    });

  program
    .command("grade")
    .argument("<exercise>", "exercise id (see `kmodlab lessons`)")
    .argument("[path]", "a submission .ts file, or a directory of them")
    .option("--statement", "print the exercise's statement and what will be checked, instead of grading")
    .option("--json", "write results as JSON")
    .addOption(new Option("--format <fmt>", "output format").choices(["text", "json", "gradescope"]))
    .option("-o, --out <path>", "write the results there (a file; a directory for one file per submission); exit 0 once written")
    .option("--strict", "with -o, still exit 1 when a submission fails")
    .option("--check <id>", "exit 0 only when this check passes (GitHub Classroom: one check per step)")
    .option("--lessons <dir>", "a folder of Markdown lessons whose exercise blocks to grade against")
    .option("-j, --jobs <n>", "submissions graded at once, each in its own worker (default: the number of cores)")
    .description("grade a submission, or every .ts file in a directory")
    .action(async (exercise: string, path: string | undefined, o: Record<string, unknown>) => {
      const { gradeCommand } = await import("./grade.ts");
      setCode(await gradeCommand(exercise, path, o));
    });

  program
    .command("autograder")
    .argument("<exercise>", "exercise id (see `kmodlab lessons`)")
    .option("--gradescope", "write Gradescope's autograder zip (setup.sh, run_autograder, the packed kmodlab)")
    .option("--github", "write a GitHub Classroom autograding workflow (one graded step per check)")
    .option("-o, --out <path>", "where to write it (default autograder.zip / .github/workflows/classroom.yml)")
    .option("--file <name>", "the file students submit (default <exercise>.ts)")
    .option(
      "--package <spec>",
      "Gradescope: a kmodlab .tgz to include (default: npm pack of this one); GitHub: what npm installs (default: npm pack of this one, written beside the workflow)",
    )
    .option("--lessons <dir>", "the folder of Markdown lessons the exercise is declared in")
    .description("make an autograder for Gradescope or GitHub Classroom")
    .action(async (exercise: string, o: Record<string, unknown>) => {
      const { autograderCommand } = await import("./autograder.ts");
      const { exercisesFor } = await import("../lessons/registry.ts");
      const { ExerciseError } = await import("../lessons/exercises.ts");
      let all;
      try {
        all = exercisesFor(o.lessons as string | undefined);
      } catch (e) {
        if (e instanceof ExerciseError) throw new UsageError(e.message);
        throw e;
      }
      setCode(
        await autograderCommand(
          exercise,
          o,
          (id) => all.find((e) => e.id === id),
          () => all.map((e) => e.id),
        ),
      );
    });

  program
    .command("build")
    .option("--lessons <dir>", "the folder of Markdown lessons (default: the bundled lessons)")
    .requiredOption("--out <dir>", "where to write the static site")
    .description("build the static notebook site from a folder of lessons")
    .action(async (o: { lessons?: string; out: string }) => {
      const { buildCommand } = await import("./build.ts");
      setCode(await buildCommand(o));
    });

  program
    .command("lessons")
    .option("--json", "machine-readable output")
    .option("--dir <dir>", "validate a folder of lessons: every exercise's solution passes, every starter fails")
    .option("-j, --jobs <n>", "runs at once while validating (default: the number of cores)")
    .description("list the lessons and their exercises, or validate a folder of them")
    .action(async (o: Record<string, unknown>) => {
      const { lessonsCommand } = await import("./lessons.ts");
      setCode(await lessonsCommand(o));
    });

  return program;
}

/** Run the CLI with these arguments; returns the exit code (never calls process.exit). */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return 2; // commander already printed the one-line message
    }
    if (e instanceof UsageError) {
      process.stderr.write(`kmodlab: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`kmodlab: internal error: ${(e as Error).stack ?? e}\n`);
    return 70;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((c) => (process.exitCode = c));
}
