// Errors across the socket: the agent's ServiceError (or any Error with a `code`) becomes a gRPC
// status with the stable code and policy issues in trailing metadata; the client turns that status
// back into a ServiceError carrying the same code, message and issues.
import type { Metadata, ServiceError as GrpcServiceError, StatusObject } from '@grpc/grpc-js';
import type { PolicyIssue } from '../policy/model';
import { ERROR_CODE_KEY, ISSUES_KEY } from './metadata';
import { ServiceError, type ErrorStatus } from './service';

// Numeric values of grpc.status, fixed by the gRPC spec (doc/statuscodes.md); kept here so that
// this mapping does not need grpc-js loaded.
const STATUS_NUMBERS: Record<ErrorStatus, number> = {
  DEADLINE_EXCEEDED: 4,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
};

function statusName(n: number): ErrorStatus {
  const found = (Object.keys(STATUS_NUMBERS) as ErrorStatus[]).find((k) => STATUS_NUMBERS[k] === n);
  return found ?? 'INTERNAL';
}

function errorCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** What the server sends when a handler fails. */
export function errorToStatus(err: unknown, newMetadata: () => Metadata): Partial<StatusObject> {
  const metadata = newMetadata();
  if (err instanceof ServiceError) {
    metadata.set(ERROR_CODE_KEY, err.code);
    if (err.issues.length > 0) metadata.set(ISSUES_KEY, Buffer.from(JSON.stringify(err.issues)));
    return { code: STATUS_NUMBERS[err.status], details: err.message, metadata };
  }
  const message = err instanceof Error ? err.message : String(err);
  metadata.set(ERROR_CODE_KEY, errorCodeOf(err) ?? 'AGENT_INTERNAL');
  return { code: STATUS_NUMBERS.INTERNAL, details: message, metadata };
}

/** What the client rejects with when a call fails. */
export function statusToError(err: GrpcServiceError): ServiceError {
  const metadata = err.metadata;
  const codeValue = metadata?.get(ERROR_CODE_KEY)[0];
  const issuesValue = metadata?.get(ISSUES_KEY)[0];
  let issues: PolicyIssue[] = [];
  if (Buffer.isBuffer(issuesValue)) {
    try {
      issues = JSON.parse(issuesValue.toString('utf8')) as PolicyIssue[];
    } catch {
      issues = [];
    }
  }
  const status = statusName(err.code);
  const code = typeof codeValue === 'string' ? codeValue : `GRPC_${status}`;
  return new ServiceError(code, err.details || err.message, { status, issues });
}
