// Output shapes shared by commands: kubectl-style per-object lines, the machine-readable mutation
// report (top-level `changed` and `comment`, Salt's stateful cmd convention), and plain tables.
import type { MutationResult } from '../api/service';
import { objectRef } from './kinds';
import type { CliIO } from './io';

export function mutationLines(result: MutationResult): string {
  const suffix = result.dryRun ? ' (dry run)' : '';
  return result.objects.map((o) => `${objectRef(o.kind, o.name)} ${o.action}${suffix}\n`).join('');
}

/** One sentence: what happened, and whether the kernel holds it. */
export function mutationComment(result: MutationResult): string {
  const counts = new Map<string, number>();
  for (const o of result.objects) counts.set(o.action, (counts.get(o.action) ?? 0) + 1);
  const parts = [...counts].map(([action, n]) => `${n} ${action}`);
  const what = parts.length > 0 ? parts.join(', ') : 'no objects';
  if (result.dryRun) return `dry run: ${what}; nothing was changed`;
  if (!result.changed) return `${what}; revision ${result.revision} stays current`;
  const kernel = result.kernelApplied ? 'the kernel holds it' : 'not yet in the kernel';
  return `${what}; revision ${result.revision} is current and ${kernel} (${result.durationMs.toFixed(1)} ms)`;
}

export function mutationJson(result: MutationResult): string {
  return (
    JSON.stringify(
      {
        changed: result.changed,
        comment: mutationComment(result),
        dryRun: result.dryRun,
        revision: result.revision,
        kernelApplied: result.kernelApplied,
        durationMs: result.durationMs,
        objects: result.objects.map((o) => ({ ref: objectRef(o.kind, o.name), kind: o.kind, name: o.name, action: o.action })),
        warnings: result.warnings,
      },
      null,
      2,
    ) + '\n'
  );
}

/** Prints a mutation result in the requested form. */
export function printMutation(io: CliIO, result: MutationResult, output: 'json' | 'name' | undefined): void {
  for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
  if (output === 'json') {
    io.stdout.write(mutationJson(result));
  } else if (output === 'name') {
    io.stdout.write(result.objects.map((o) => `${objectRef(o.kind, o.name)}\n`).join(''));
  } else {
    io.stdout.write(mutationLines(result));
  }
}

/** A failed mutation in -o json form, so that tools parsing stdout still get `changed`/`comment`. */
export function failureJson(err: { message: string; code?: string; issues?: unknown[] }): string {
  return JSON.stringify({ changed: false, comment: err.message, error: { code: err.code ?? 'ERROR', issues: err.issues ?? [] } }, null, 2) + '\n';
}

/** Left-aligned columns separated by three spaces, kubectl style. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('   ')
      .trimEnd() + '\n';
  return line(headers) + rows.map(line).join('');
}
