// Errors of the kernel client. Every error from the kernel names the operation (NFT_MSG_* name) and
// the object it was about, the errno by name and the kernel's extended-ACK message when it sent one,
// and carries a stable `code` that callers switch on.
import { errnoName } from '../netlink';

export type NftErrorCode =
  | 'NFT_KERNEL_ERROR'
  | 'NFT_GENERATION_CHANGED'
  | 'NFT_DUMP_INCONSISTENT'
  | 'NFT_BATCH_TOO_LARGE'
  /** The kernel dropped replies to a commit: whether it applied is unknown until the ruleset is read. */
  | 'NFT_COMMIT_UNKNOWN'
  | 'NFT_SOCKET'
  | 'NFT_PROTOCOL';

export interface NftErrorDetails {
  operation?: string;
  object?: string;
  errno?: number;
  kernelMessage?: string;
  /** The request attribute the kernel's extended ACK pointed at, e.g. "NFTA_SET_ELEM_KEY of element 3 in ...". */
  attribute?: string;
  /** Every error of a failed batch, this one first. */
  errors?: NftError[];
}

export class NftError extends Error {
  readonly code: NftErrorCode;
  readonly operation?: string;
  readonly object?: string;
  readonly errno?: number;
  readonly errnoName?: string;
  readonly kernelMessage?: string;
  readonly attribute?: string;
  readonly errors?: NftError[];

  constructor(code: NftErrorCode, message: string, details: NftErrorDetails = {}) {
    super(message);
    this.name = 'NftError';
    this.code = code;
    this.operation = details.operation;
    this.object = details.object;
    this.errno = details.errno;
    this.errnoName = details.errno !== undefined ? errnoName(details.errno) : undefined;
    this.kernelMessage = details.kernelMessage;
    this.attribute = details.attribute;
    this.errors = details.errors;
  }
}

/** ERESTART: nfnetlink's answer to a BATCH_BEGIN whose NFNL_BATCH_GENID is stale. */
export const ERESTART = 85;

/** The error for one errno the kernel returned for one request. */
export function kernelError(operation: string, object: string, errno: number, kernelMessage?: string, attribute?: string): NftError {
  const name = errnoName(errno);
  const detail = [kernelMessage, attribute && `at ${attribute}`].filter(Boolean).join(', ');
  const text = `${operation} ${object}: ${name}${detail ? ` (${detail})` : ''}`;
  const details = { operation, object, errno, kernelMessage, attribute };
  if (errno === ERESTART) {
    return new NftError('NFT_GENERATION_CHANGED', `${text}: the ruleset changed since it was read; nothing was applied`, details);
  }
  return new NftError('NFT_KERNEL_ERROR', text, details);
}
