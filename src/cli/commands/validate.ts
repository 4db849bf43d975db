// flockguard validate -f FILE : offline (no agent, no grpc loaded); exit 0, or 1 with every error.
import { FILENAME_OPTION, flag, noPositionals, parseCommandArgs, requireFilenames } from '../args';
import { readDocuments, validateOrFail } from '../documents';
import type { CliIO } from '../io';

const OPTIONS = { ...FILENAME_OPTION, 'skip-unsupported': { type: 'boolean' } } as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('validate', argv, OPTIONS);
  noPositionals('validate', args);
  const documents = await readDocuments(requireFilenames('validate', args), io);
  const parsed = await validateOrFail(documents, flag(args, 'skip-unsupported'), io, 'the files are not valid');
  const n = parsed.resources.length;
  io.stdout.write(`${n} resource${n === 1 ? '' : 's'} valid in ${documents.length} file${documents.length === 1 ? '' : 's'}\n`);
  return 0;
}
