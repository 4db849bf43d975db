// The public shapes of the revision store (see /work/helpers/CONTRACTS.md, src/store).
import type { Resource } from '../policy/model';

/** Who asked for a change, as far as the API socket could tell (SO_PEERCRED) or the CLI said. */
export interface Actor {
  uid?: number;
  pid?: number;
  /** Process name, "flockguard" or "kubectl-flockguard" say. */
  name?: string;
}

export interface RevisionInfo {
  /** Monotonic, starting at 1; never reused. */
  revision: number;
  /** ISO 8601 UTC time of the commit. */
  createdAt: string;
  /** Where the change came from: "cli apply", "rollback", "netset add", file names... */
  source: string;
  actor?: Actor;
  comment?: string;
  resourceCount: number;
}

export interface Revision extends RevisionInfo {
  resources: Resource[];
}

export interface CommitInput {
  resources: Resource[];
  source: string;
  actor?: Actor;
  comment?: string;
}

export interface RollbackInput {
  source: string;
  actor?: Actor;
  /** Defaults to "rollback to revision N". */
  comment?: string;
}
