// `flockguard agent`: the daemon. Opens the store, pushes the current revision into the kernel
// (adopting our table as it is: it is diffed, never deleted, so a restart leaves no gap), serves the
// API socket, tells systemd it is ready, and on SIGTERM/SIGINT closes the API and the store and
// LEAVES the rules in place (a firewall agent fails static; `flockguard uninstall` removes them).
import { hostname } from 'node:os';
import { startApiServer } from '../api/server';
import { DEFAULT_COMPILE_OPTIONS } from '../compiler';
import { NftClient } from '../kernel/client';
import { Reconciler, ReconcilerOptions, removeTable } from '../reconciler/reconciler';
import { Store } from '../store';
import { TRACE_COMMENT_PREFIX } from '../troubleshoot/comments';
import { Rule } from '../nftables/model';
import { createLogger } from './logger';
import { sdNotify } from './notify';
import { AgentOptions } from './options';
import { FlockguardService } from './service';

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = DEFAULT_COMPILE_OPTIONS.tableName ?? 'flockguard';

export interface RunningAgent {
  readonly service: FlockguardService;
  readonly reconciler: Reconciler;
  /** Stops the agent (as SIGTERM does); the table stays. */
  stop(): Promise<void>;
  /** Settles when the agent has stopped. */
  readonly closed: Promise<void>;
}

export interface RunAgentHooks {
  /** Tests: install SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
  /** Tests: reconciler knobs (debounce, kernel sockets). */
  reconciler?: Partial<ReconcilerOptions>;
}

export async function runAgent(options: AgentOptions, hooks: RunAgentHooks = {}): Promise<RunningAgent> {
  const logger = createLogger({ level: options.logLevel });
  const nodeName = options.nodeName || hostname();
  const store = Store.open(options.db);
  // While a trace runs, its marking rules are left alone; otherwise (one left by a crashed agent, say)
  // they are removed like any other drift.
  let tracing = (): boolean => false;
  const reconciler = new Reconciler({
    family: TABLE_FAMILY, table: TABLE_NAME, logger, resyncIntervalMs: options.resyncInterval,
    keepLiveRule: (r) => tracing() && isTraceRule(r), ...hooks.reconciler,
  });
  const service = new FlockguardService(store, reconciler, {
    nodeName, priority: options.priority, socketPath: options.socket, dbPath: options.db, logger,
  });
  tracing = () => service.tracing();
  let server: Awaited<ReturnType<typeof startApiServer>> | undefined;
  const shutdown = async (): Promise<void> => {
    await server?.close();
    await reconciler.stop();
    store.close();
  };
  try {
    reconciler.start();
    await service.start();
    server = await startApiServer(service, {
      socketPath: options.socket, group: options.socketGroup,
      onConnectionError: (err) => logger.debug(`api connection: ${err.message}`),
    });
  } catch (err) {
    logger.error(`agent failed to start: ${(err as Error).message}`, { code: (err as { code?: string }).code });
    await shutdown().catch(() => undefined);
    throw err;
  }
  const st = reconciler.status();
  logger.info('agent ready', { node: nodeName, socket: options.socket, db: options.db, revision: st.revision, generation: st.generation });
  await sdNotify({ READY: '1', STATUS: `revision ${st.revision ?? 0} in the kernel` });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('agent stopping; the table stays in place');
      await sdNotify({ STOPPING: '1' });
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await shutdown();
      resolveClosed();
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info(`received ${signal}`);
    void stop();
  };
  if (hooks.handleSignals ?? true) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return { service, reconciler, stop, closed };
}

/** A trace's marking rule (src/troubleshoot/trace.ts inserts and removes them itself). */
function isTraceRule(r: Rule): boolean {
  return r.comment?.startsWith(TRACE_COMMENT_PREFIX) ?? false;
}

/**
 * `flockguard uninstall`: deletes table inet flockguard on purpose. Stop the agent first
 * (`systemctl stop flockguard`), or it repairs the deletion as drift. Resolves false when there
 * was no table.
 */
export async function uninstall(): Promise<boolean> {
  const client = NftClient.open();
  try {
    return await removeTable(client, TABLE_FAMILY, TABLE_NAME);
  } finally {
    client.close();
  }
}
