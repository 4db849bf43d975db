// Command-line parsing on node:util.parseArgs, with the options every talking-to-the-agent command
// shares, and small typed accessors so commands do not repeat casts.
import { parseArgs } from 'node:util';
import { DEFAULT_SOCKET_PATH } from '../api/defaults';
import { UsageError } from './io';

export interface OptionDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

export type Options = Record<string, OptionDef>;

export const SOCKET_OPTION: Options = { socket: { type: 'string' } };
export const OUTPUT_OPTION: Options = { output: { type: 'string', short: 'o' } };
export const FILENAME_OPTION: Options = { filename: { type: 'string', short: 'f', multiple: true } };

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * parseArgs refuses "--priority -150" as ambiguous (the value looks like an option); a negative
 * number after a string option is always its value, so join the two as "--priority=-150".
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

/** Strict parsing: an unknown option or a missing value is a usage error (exit 2). */
export function parseCommandArgs(command: string, argv: string[], options: Options): ParsedArgs {
  try {
    const parsed = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (err) {
    // parseArgs appends advice about '--' that does not apply to our commands; keep the first sentence.
    const message = (err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(`${command}: ${message}`, command);
  }
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** The -o value, checked against what the command supports. */
export function outputFormat<T extends string>(command: string, args: ParsedArgs, allowed: readonly T[]): T | undefined {
  const v = stringOption(args, 'output');
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`${command}: -o ${v} is not supported; use one of: ${allowed.join(', ')}`, command);
  }
  return v as T;
}

/** --socket, else $FLOCKGUARD_SOCKET, else the default path. */
export function socketPath(args: ParsedArgs, env: NodeJS.ProcessEnv): string {
  return stringOption(args, 'socket') ?? (env.FLOCKGUARD_SOCKET || DEFAULT_SOCKET_PATH);
}

export function requireFilenames(command: string, args: ParsedArgs): string[] {
  const files = listOption(args, 'filename');
  if (files.length === 0) throw new UsageError(`${command}: -f FILE|DIR|- is required`, command);
  return files;
}

/** A whole number within [min, max], for ports, revisions and limits. */
export function integerOption(command: string, args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const v = stringOption(args, name);
  if (v === undefined) return undefined;
  return parseInteger(command, `--${name}`, v, min, max);
}

export function parseInteger(command: string, what: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${command}: ${what} ${JSON.stringify(text)} must be a whole number from ${min} to ${max}`, command);
  }
  return Number(text);
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s", "2m", "1.5h", "500ms"; a bare number is seconds. Returns milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 's'];
  return ms > 0 && Number.isFinite(ms) ? Math.round(ms) : undefined;
}

export function durationOption(command: string, args: ParsedArgs, name: string): number | undefined {
  const v = stringOption(args, name);
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (ms === undefined) {
    throw new UsageError(`${command}: --${name} ${JSON.stringify(v)} is not a duration; write e.g. 30s, 2m or 1h`, command);
  }
  return ms;
}

export function noPositionals(command: string, args: ParsedArgs): void {
  if (args.positionals.length > 0) {
    throw new UsageError(`${command}: unexpected argument ${JSON.stringify(args.positionals[0])}`, command);
  }
}
