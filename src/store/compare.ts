// Which resources a new desired state creates, changes, keeps and deletes, keyed by kind/name
// and compared by canonical JSON (so field order and absent-vs-undefined do not count as change).
// The CLI prints it as kubectl does: "GlobalNetworkPolicy/allow-web configured".
import { Resource, resourceKey } from '../policy/model';
import { canonicalJson } from './canonical';

export interface ResourceDiff {
  /** In `to` only, in `to`'s order. */
  created: string[];
  /** In both, with different content, in `to`'s order. */
  configured: string[];
  /** In both, equal, in `to`'s order. */
  unchanged: string[];
  /** In `from` only, in `from`'s order. */
  deleted: string[];
}

export function diffResources(from: readonly Resource[], to: readonly Resource[]): ResourceDiff {
  const before = new Map(from.map((r) => [resourceKey(r), r]));
  const diff: ResourceDiff = { created: [], configured: [], unchanged: [], deleted: [] };
  const kept = new Set<string>();
  for (const r of to) {
    const key = resourceKey(r);
    const old = before.get(key);
    if (old === undefined) {
      diff.created.push(key);
      continue;
    }
    kept.add(key);
    (canonicalJson(old) === canonicalJson(r) ? diff.unchanged : diff.configured).push(key);
  }
  diff.deleted = [...before.keys()].filter((key) => !kept.has(key));
  return diff;
}
