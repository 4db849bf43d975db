// A plan as one kernel batch, op for op and in order (the order is the plan's; see diff.ts).
import { Transaction } from '../kernel/transaction';
import { Plan, PlanOp } from './plan';

function apply(tx: Transaction, op: PlanOp): void {
  switch (op.op) {
    case 'addTable': tx.addTable(op.table); break;
    case 'addChain': tx.addChain(op.chain); break;
    case 'flushChain': tx.flushChain(op.chain); break;
    case 'deleteChain': tx.deleteChain(op.chain); break;
    case 'addSet': tx.addSet(op.set); break;
    case 'deleteSet': tx.deleteSet(op.set); break;
    case 'addElements': tx.addElements(op.set, op.elements); break;
    case 'deleteElements': tx.deleteElements(op.set, op.elements); break;
    case 'addRule': tx.addRule(op.rule, op.before === undefined ? undefined : { before: op.before }); break;
    case 'replaceRule': tx.replaceRule(op.rule); break;
    case 'deleteRule': tx.deleteRule(op.rule); break;
  }
}

export function planToTransaction(plan: Plan): Transaction {
  const tx = new Transaction();
  for (const op of plan.ops) apply(tx, op);
  return tx;
}
