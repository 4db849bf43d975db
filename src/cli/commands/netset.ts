// flockguard netset add|remove NAME CIDR... : edit a GlobalNetworkSet's nets in place.
import { OUTPUT_OPTION, SOCKET_OPTION, flag, outputFormat, parseCommandArgs } from '../args';
import { withAgent } from '../connect';
import { UsageError, type CliIO } from '../io';
import { failureJson, printMutation } from '../render';

const OPTIONS = { ...OUTPUT_OPTION, ...SOCKET_OPTION, 'dry-run': { type: 'boolean' } } as const;

/** Checks the CIDRs here so that a typo fails before the agent is asked. */
async function checkCidrs(cidrs: string[]): Promise<void> {
  const { parseCidr } = await import('../../policy/nets');
  for (const cidr of cidrs) {
    try {
      parseCidr(cidr);
    } catch (err) {
      throw new UsageError(`netset: ${JSON.stringify(cidr)} is not a CIDR (${(err as Error).message}); write e.g. 192.0.2.0/24 or 2001:db8::/32`, 'netset');
    }
  }
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('netset', argv, OPTIONS);
  const output = outputFormat('netset', args, ['json', 'name'] as const);
  const [verb, name, ...cidrs] = args.positionals;
  if (verb !== 'add' && verb !== 'remove') throw new UsageError('netset: say add or remove', 'netset');
  if (name === undefined || cidrs.length === 0) throw new UsageError(`netset ${verb}: give NAME and at least one CIDR`, 'netset');
  await checkCidrs(cidrs);
  const request = { name, cidrs, dryRun: flag(args, 'dry-run') };
  try {
    const result = await withAgent(args, io, (client) => (verb === 'add' ? client.netsetAdd(request) : client.netsetRemove(request)));
    printMutation(io, result, output);
    return 0;
  } catch (err) {
    if (output === 'json') io.stdout.write(failureJson(err as Error));
    throw err;
  }
}
