// What a command talks to: output streams, stdin, environment and an interrupt signal. main()
// uses the process's; tests pass their own to capture output and to "press Ctrl-C".

export interface TextSink {
  write(text: string): unknown;
}

export interface CliIO {
  stdout: TextSink;
  stderr: TextSink;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /**
   * A signal aborted on Ctrl-C (SIGINT) or SIGTERM. Only streaming commands ask for it: until
   * then Ctrl-C keeps its default meaning (end the process at once).
   */
  interrupt(): AbortSignal;
}

/** Exit codes shared by all commands (the per-command ones, diff's 1 say, are in their help). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure with the exit code it maps to; the message already says what to do next. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;
  constructor(code: string, message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Wrong command line: exit 2, and point at the help. */
export class UsageError extends CliError {
  constructor(message: string, command?: string) {
    super('CLI_USAGE', `${message}\nrun 'flockguard help${command ? ` ${command}` : ''}' for usage`, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** The real process: its streams, and SIGINT/SIGTERM handlers installed on first use. */
export function processIO(): CliIO & { release(): void } {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  let installed = false;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    interrupt: () => {
      if (!installed) {
        installed = true;
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      }
      return controller.signal;
    },
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
