// The flockguard CLI as bin/flockguard runs it, but found next to this compiled file, so the lab
// harness drives the same build it was compiled with (dist/ or a helper's .build/<name>/).
import { main } from '../../src/cli/main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`flockguard: ${err.message}\n`);
    process.exitCode = 1;
  },
);
