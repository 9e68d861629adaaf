// The grader: each exercise's reference solution graded end to end, with the extra runs its checks need (the
// second machine for printed addresses, fault injection: one run per failed allocation site), and the number of
// runs that takes. Grading is what a class's submissions cost; the fault-injection runs are most of it.
import type { Suite } from "./harness.ts";
import { loadKernelDeps, runModule } from "../sandbox/run.ts";
import { EXERCISES } from "../src/grader/exercises/index.ts";
import { gradeWith } from "../src/grader/grade.ts";

export const suite: Suite = {
  name: "grader",
  async run(ctx) {
    await loadKernelDeps();
    for (const ex of EXERCISES) {
      let runs = 0;
      const counted = (src: string, o: Parameters<typeof runModule>[1]) => (runs++, runModule(src, o));
      await ctx.time(
        `grade ${ex.id} (reference, all runs)`,
        async () => {
          runs = 0;
          await gradeWith(ex, ex.solution, counted);
        },
        3,
        1,
      );
      process.stderr.write(`bench: grade ${ex.id}: ${runs} runs\n`);
    }
  },
};
