// The differ (pure) and the reconcile loop that applies its plans to our table.
export { diff, hasAllHandles, DiffError } from './diff';
export type { Plan, PlanOp, PlanSummary } from './plan';
export { formatSummary } from './plan';
export { planToTransaction } from './transaction';
export { Reconciler, removeTable } from './reconciler';
export type { ReconcilerOptions, ReconcilerStatus, SyncResult, DriftRepair } from './reconciler';
