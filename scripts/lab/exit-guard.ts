// Removes live labs when the process that created them ends: on normal exit, on an uncaught error
// (Node emits 'exit' then too) and on SIGINT/SIGTERM/SIGHUP. A SIGKILLed creator cannot run
// anything; its agents exit when their stdin closes and scripts/lab/cleanup.sh removes the rest.

/** Something that can tear itself down synchronously. */
export interface SyncDestroyable {
  destroySync(): void;
}

const live = new Set<SyncDestroyable>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function destroyAll(): void {
  for (const item of [...live]) {
    live.delete(item);
    try {
      item.destroySync();
    } catch (err) {
      process.stderr.write(`flockguard lab: cleanup failed: ${(err as Error).message}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  destroyAll();
  uninstall();
  // Without our listener the signal's default action applies again: re-raise it so the process ends
  // with the usual status, unless someone else also listens and decides.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  process.on('exit', destroyAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  process.off('exit', destroyAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** Registers a lab; handlers are installed only while at least one lab is alive. */
export function guard(item: SyncDestroyable): void {
  if (live.size === 0) install();
  live.add(item);
}

export function unguard(item: SyncDestroyable): void {
  if (!live.delete(item)) return;
  if (live.size === 0) uninstall();
}
