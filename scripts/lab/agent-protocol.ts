// The JSON-lines protocol between a Lab (parent) and the agent it runs in each lab namespace.
// One request per line on the agent's stdin, one response per line on its stdout, matched by id.
import type { Proto } from './plan';

export interface Endpoint {
  address: string;
  port: number;
}

/** What a lab server tells every client: who answered, and the addresses it saw. */
export interface ServerHello {
  /** Name of the namespace role that answered: "pod", "node". */
  server: string;
  proto: Proto;
  /** The server socket's address as the server sees it (after any DNAT). */
  local: Endpoint;
  /** The client as the server sees it (after any SNAT/masquerade). */
  remote: Endpoint;
}

/** Why a connection attempt failed: a silent drop shows as "timeout", a reject or RST as "refused". */
export type FailureReason = 'timeout' | 'refused' | 'unreachable' | 'reset' | 'error';

export interface ListenRequest {
  op: 'listen';
  proto: Proto;
  address: string;
  port: number;
  /** Reported as ServerHello.server. */
  name: string;
}

export interface ConnectRequest {
  op: 'connect';
  proto: Proto;
  address: string;
  port: number;
  timeoutMs: number;
}

export interface BulkRequest {
  op: 'bulk';
  address: string;
  port: number;
  durationMs: number;
  timeoutMs: number;
}

/** Opens TCP connections back to back (concurrency at a time) for durationMs; each waits for the hello. */
export interface RateRequest {
  op: 'rate';
  address: string;
  port: number;
  durationMs: number;
  concurrency: number;
  timeoutMs: number;
}

export type AgentRequest = ListenRequest | ConnectRequest | BulkRequest | RateRequest;

export interface ConnectOutcome {
  ok: boolean;
  reason?: FailureReason;
  /** One line for people: what happened, with the errno name when there is one. */
  detail: string;
  hello?: ServerHello;
  elapsedMs: number;
}

export interface BulkOutcome {
  ok: boolean;
  detail: string;
  /** Bytes the server counted. */
  bytes: number;
  /** From the first byte written until the server's count arrived. */
  seconds: number;
}

export interface RateOutcome {
  /** Connections that got the server's hello. */
  connections: number;
  failures: number;
  /** The detail of the first failure, if any. */
  firstFailure?: string;
  seconds: number;
}

export type AgentResponse =
  | { id: number; op: 'listen'; ok: true }
  | { id: number; op: 'connect'; result: ConnectOutcome }
  | { id: number; op: 'bulk'; result: BulkOutcome }
  | { id: number; op: 'rate'; result: RateOutcome }
  | { id: number; op: 'error'; message: string; code: string };

/** The line a bulk client sends after the hello to switch the TCP server to counting mode. */
export const SINK_COMMAND = 'SINK';
