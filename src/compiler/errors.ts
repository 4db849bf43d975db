// Errors of the compiler. The policy layer validates resources before they reach us; these errors
// are the compiler's own refusals (input it cannot translate faithfully), never a half-built table.

export type CompileErrorCode =
  | 'BAD_FAILSAFE'
  | 'BAD_PROTOCOL'
  | 'PORTS_WITHOUT_PROTOCOL'
  | 'BAD_PORT'
  | 'BAD_ICMP'
  | 'BAD_SELECTOR'
  | 'BAD_CIDR'
  | 'BAD_INTERFACE'
  | 'BAD_OPTION';

export class CompileError extends Error {
  constructor(
    readonly code: CompileErrorCode,
    /** The resource ("GlobalNetworkPolicy/allow-web") or option ("failsafeInbound") at fault. */
    readonly object: string,
    /** The field path inside it ("spec.ingress[0].destination.ports[1]"). */
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${object} ${field} = ${JSON.stringify(value)}: ${reason}`);
    this.name = 'CompileError';
  }
}
