// flockguard help [COMMAND]
import { UsageError, type CliIO } from '../io';
import { HELP, overview } from '../usage';

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [command, extra] = argv;
  if (extra !== undefined) throw new UsageError('help: give one COMMAND at most', 'help');
  if (command === undefined) {
    io.stdout.write(overview());
    return 0;
  }
  const help = HELP[command];
  if (!help) throw new UsageError(`help: unknown command ${JSON.stringify(command)}`);
  io.stdout.write(`${help.summary}\n\nusage: ${help.usage}\n`);
  return 0;
}
