// bin/flockguard, against the build this suite was compiled into (dist/ or .build/<name>/).
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
