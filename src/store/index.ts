// The SQLite store of policy revisions.
export { Store } from './store';
export type { StoreOptions } from './store';
export type { Actor, CommitInput, Revision, RevisionInfo, RollbackInput } from './types';
export { StoreError } from './errors';
export type { StoreErrorCode } from './errors';
export { diffResources } from './compare';
export type { ResourceDiff } from './compare';
export { canonicalJson } from './canonical';
