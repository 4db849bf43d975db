// flockguard version : this CLI's version (offline).
import { OUTPUT_OPTION, noPositionals, outputFormat, parseCommandArgs } from '../args';
import type { CliIO } from '../io';
import { packageVersion } from '../version';

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('version', argv, OUTPUT_OPTION);
  noPositionals('version', args);
  const info = { version: packageVersion(), node: process.version, platform: `${process.platform}/${process.arch}` };
  io.stdout.write(
    outputFormat('version', args, ['json'] as const) === 'json'
      ? JSON.stringify(info, null, 2) + '\n'
      : `flockguard ${info.version} (node ${info.node}, ${info.platform})\n`,
  );
  return 0;
}
