// How each mutation turns the current resources into the next ones. Pure; the service stores and
// pushes the result. Every function either returns the whole next state or throws a ServiceError
// naming the object: nothing is half-applied.
import { ObjectResult, ResourceRef, ServiceError } from '../api/service';
import { GlobalNetworkSet, KINDS, Kind, Resource, resourceKey } from '../policy/model';
import { canonicalCidr, NetError } from '../policy/nets';
import { diffResources } from '../store';

/** `incoming` replaces resources of the same kind/name and adds the others, in their order. */
export function mergeApply(current: readonly Resource[], incoming: readonly Resource[]): Resource[] {
  const seen = new Set<string>();
  for (const r of incoming) {
    const key = resourceKey(r);
    if (seen.has(key)) {
      throw new ServiceError('DUPLICATE_RESOURCE', `${key} is defined twice in the applied documents; keep one`, { status: 'INVALID_ARGUMENT' });
    }
    seen.add(key);
  }
  const byKey = new Map(incoming.map((r) => [resourceKey(r), r]));
  const next = current.map((r) => byKey.get(resourceKey(r)) ?? r);
  const existing = new Set(current.map(resourceKey));
  for (const r of incoming) if (!existing.has(resourceKey(r))) next.push(r);
  return next;
}

/** Canonical kind for a user-typed one ("globalnetworkpolicy", "gnp" is the CLI's business). */
export function canonicalKind(kind: string): Kind {
  const k = KINDS.find((c) => c.toLowerCase() === kind.toLowerCase());
  if (!k) throw new ServiceError('UNKNOWN_KIND', `unknown kind "${kind}": expected one of ${KINDS.join(', ')}`, { status: 'INVALID_ARGUMENT' });
  return k;
}

export function removeRefs(current: readonly Resource[], refs: readonly ResourceRef[], skipNotExists: boolean): { next: Resource[]; deleted: string[] } {
  const wanted = new Set(refs.map((r) => `${canonicalKind(r.kind)}/${r.name}`));
  const present = new Set(current.map(resourceKey));
  const missing = [...wanted].filter((k) => !present.has(k));
  if (missing.length > 0 && !skipNotExists) {
    throw new ServiceError('NOT_FOUND', `${missing.join(', ')} not found; nothing was deleted (use --skip-not-exists to ignore missing objects)`, { status: 'NOT_FOUND' });
  }
  return {
    next: current.filter((r) => !wanted.has(resourceKey(r))),
    deleted: [...wanted].filter((k) => present.has(k)),
  };
}

function canonicalNets(name: string, cidrs: readonly string[]): string[] {
  return cidrs.map((c, i) => {
    try {
      return canonicalCidr(c.trim()).text;
    } catch (err) {
      if (err instanceof NetError) {
        throw new ServiceError('BAD_CIDR', `GlobalNetworkSet/${name}: cidrs[${i}] ${err.message}`, { status: 'INVALID_ARGUMENT' });
      }
      throw err;
    }
  });
}

/**
 * The canonical form of each net of a list, in order. Cached per list: the agent changes a big
 * GlobalNetworkSet one prefix at a time, and re-canonicalising 1,000,000 nets per change would be
 * the largest cost of a netset command. Lists are never modified once stored, so the list is the key.
 */
const canonicalCache = new WeakMap<readonly string[], string[]>();

function canonicalOf(nets: readonly string[]): string[] {
  let c = canonicalCache.get(nets);
  if (!c) {
    c = nets.map((n) => canonicalCidr(n).text);
    canonicalCache.set(nets, c);
  }
  return c;
}

/**
 * Adds or removes nets of one GlobalNetworkSet. Adding to a set that does not exist creates it.
 * Cost: O(changes) to validate, O(size of the set) in plain array and Set copies to build the new
 * list (the store keeps whole resources); existing nets are not parsed again.
 */
export function changeNetset(current: readonly Resource[], name: string, cidrs: readonly string[], mode: 'add' | 'remove'): { next: Resource[]; action: ObjectResult['action']; warnings: string[] } {
  if (cidrs.length === 0) throw new ServiceError('INVALID_ARGUMENT', `GlobalNetworkSet/${name}: no CIDRs given`, { status: 'INVALID_ARGUMENT' });
  const nets = canonicalNets(name, cidrs);
  const index = current.findIndex((r) => r.kind === 'GlobalNetworkSet' && r.metadata.name === name);
  const warnings: string[] = [];
  if (index < 0) {
    if (mode === 'remove') throw new ServiceError('NOT_FOUND', `GlobalNetworkSet/${name} not found`, { status: 'NOT_FOUND' });
    const created: GlobalNetworkSet = { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name }, spec: { nets: [...new Set(nets)] } };
    return { next: [...current, created], action: 'created', warnings };
  }
  const old = current[index] as GlobalNetworkSet;
  const have = old.spec.nets ?? [];
  const haveCanonical = canonicalOf(have);
  const present = new Set(haveCanonical);
  let updated: string[];
  let updatedCanonical: string[];
  if (mode === 'add') {
    const fresh = [...new Set(nets)].filter((n) => !present.has(n));
    updated = have.concat(fresh);
    updatedCanonical = haveCanonical.concat(fresh);
  } else {
    const drop = new Set(nets);
    updated = [];
    updatedCanonical = [];
    haveCanonical.forEach((c, i) => {
      if (drop.has(c)) return;
      updated.push(have[i]!);
      updatedCanonical.push(c);
    });
    for (const n of drop) if (!present.has(n)) warnings.push(`GlobalNetworkSet/${name} did not contain ${n}`);
  }
  // add only appends and remove only drops, so an unchanged length means unchanged nets.
  if (updated.length === have.length) return { next: [...current], action: 'unchanged', warnings };
  canonicalCache.set(updated, updatedCanonical);
  const next = [...current];
  next[index] = { ...old, spec: { ...old.spec, nets: updated } };
  return { next, action: 'configured', warnings };
}

/** kubectl-style results of going from `before` to `after`, for the keys the caller touched. */
export function objectResults(before: readonly Resource[], after: readonly Resource[], touched?: ReadonlySet<string>): ObjectResult[] {
  const d = diffResources(before, after);
  const out: ObjectResult[] = [];
  const add = (keys: string[], action: ObjectResult['action']): void => {
    for (const key of keys) {
      if (touched && !touched.has(key)) continue;
      const slash = key.indexOf('/');
      out.push({ kind: key.slice(0, slash), name: key.slice(slash + 1), action });
    }
  };
  add(d.created, 'created');
  add(d.configured, 'configured');
  add(d.unchanged, 'unchanged');
  add(d.deleted, 'deleted');
  return out;
}

export function hasChanges(results: readonly ObjectResult[]): boolean {
  return results.some((r) => r.action !== 'unchanged');
}
