// Temp directories and a running fake agent for API and CLI tests.
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../src/api/server';
import { FakeAgent } from './fake-agent';

export interface RunningAgent {
  agent: FakeAgent;
  server: ApiServer;
  dir: string;
  socketPath: string;
  stop(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `flockguard-${prefix}-`));
}

export async function startFakeAgent(options: Partial<ApiServerOptions> = {}): Promise<RunningAgent> {
  const dir = tempDir('api');
  const socketPath = options.socketPath ?? path.join(dir, 'run', 'flockguard.sock');
  const agent = new FakeAgent();
  const server = await startApiServer(agent, { ...options, socketPath });
  return {
    agent,
    server,
    dir,
    socketPath,
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
