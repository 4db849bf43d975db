// flockguard get KIND [NAME] -o yaml|json|wide|name : what the agent stores. The YAML and JSON forms
// are full projectcalico.org/v3 resources that `apply -f` takes back unchanged.
import type { Kind } from '../../policy/model';
import { OUTPUT_OPTION, SOCKET_OPTION, outputFormat, parseCommandArgs } from '../args';
import { withAgent } from '../connect';
import { UsageError, type CliIO } from '../io';
import { objectRef, resolveKind } from '../kinds';
import { table } from '../render';

const OPTIONS = { ...OUTPUT_OPTION, ...SOCKET_OPTION } as const;

interface AnyResource {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const count = (v: unknown): string => String(Array.isArray(v) ? v.length : 0);

/** Columns per kind: the narrow set, then what -o wide adds. */
const COLUMNS: Record<Kind, { narrow: Array<[string, (s: Record<string, unknown>) => string]>; wide: Array<[string, (s: Record<string, unknown>) => string]> }> = {
  GlobalNetworkPolicy: {
    narrow: [['ORDER', (s) => text(s.order)], ['SELECTOR', (s) => text(s.selector)]],
    wide: [['TIER', (s) => text(s.tier ?? 'default')], ['PREDNAT', (s) => text(s.preDNAT ?? false)], ['INGRESS', (s) => count(s.ingress)]],
  },
  HostEndpoint: {
    narrow: [['NODE', (s) => text(s.node)], ['INTERFACE', (s) => text(s.interfaceName)]],
    wide: [['EXPECTEDIPS', (s) => (Array.isArray(s.expectedIPs) ? s.expectedIPs.join(',') : '')], ['PROFILES', (s) => (Array.isArray(s.profiles) ? s.profiles.join(',') : '')]],
  },
  GlobalNetworkSet: {
    narrow: [['NETS', (s) => count(s.nets)]],
    wide: [['CIDRS', (s) => (Array.isArray(s.nets) ? s.nets.join(',') : '')]],
  },
  Tier: {
    narrow: [['ORDER', (s) => text(s.order)]],
    wide: [['DEFAULTACTION', (s) => text(s.defaultAction ?? 'Deny')]],
  },
};

function renderTable(resources: AnyResource[], kind: Kind | undefined, wide: boolean): string {
  if (kind === undefined) {
    return table(['NAME'], resources.map((r) => [objectRef(r.kind, r.metadata.name)]));
  }
  const cols = wide ? [...COLUMNS[kind].narrow, ...COLUMNS[kind].wide] : COLUMNS[kind].narrow;
  return table(['NAME', ...cols.map(([h]) => h)], resources.map((r) => [r.metadata.name, ...cols.map(([, f]) => f(r.spec ?? {}))]));
}

async function renderYaml(resources: unknown[]): Promise<string> {
  const { stringify } = await import('yaml');
  return resources.map((r) => `---\n${stringify(r, { lineWidth: 0 })}`).join('');
}

function renderJson(resources: unknown[], single: boolean): string {
  const value = single ? resources[0] : { apiVersion: 'projectcalico.org/v3', kind: 'List', items: resources };
  return JSON.stringify(value, null, 2) + '\n';
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('get', argv, OPTIONS);
  const output = outputFormat('get', args, ['yaml', 'json', 'wide', 'name'] as const);
  const [kindText, name, extra] = args.positionals;
  if (kindText === undefined) throw new UsageError('get: give a KIND (gnp, hep, gns, tier or all)', 'get');
  if (extra !== undefined) throw new UsageError(`get: unexpected argument ${JSON.stringify(extra)}; give one NAME at most`, 'get');
  const kind = kindText.toLowerCase() === 'all' ? undefined : resolveKind(kindText, 'get');
  if (kind === undefined && name !== undefined) throw new UsageError('get: "all" takes no NAME', 'get');

  const result = await withAgent(args, io, (client) => client.get({ kind, name }));
  const resources = result.resources as AnyResource[];
  if (output === 'yaml') {
    io.stdout.write(await renderYaml(resources));
  } else if (output === 'json') {
    io.stdout.write(renderJson(resources, name !== undefined));
  } else if (output === 'name') {
    io.stdout.write(resources.map((r) => `${objectRef(r.kind, r.metadata.name)}\n`).join(''));
  } else if (resources.length === 0) {
    io.stderr.write(`no ${kind ?? 'resources'} found (revision ${result.revision})\n`);
  } else {
    io.stdout.write(renderTable(resources, kind, output === 'wide'));
  }
  return 0;
}
