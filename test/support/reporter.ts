// Mocha's spec reporter plus one closing line in the plain "N passed, N failed" form that CI reads
// whatever the runner.
import Mocha from 'mocha';

class FlockguardReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats;
      if (!s) return;
      process.stdout.write(`\ntests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}

export = FlockguardReporter;
