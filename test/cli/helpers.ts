// Runs the CLI in-process with captured output, a given stdin and environment, and a Ctrl-C that
// the test presses by aborting a controller.
import { Readable } from 'node:stream';
import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/io';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  interrupt?: AbortController;
  /** Called with the live stdout text after each write (to press Ctrl-C at the right moment). */
  onStdout?: (text: string) => void;
}

export async function runCli(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const interrupt = options.interrupt ?? new AbortController();
  const io: CliIO = {
    stdout: {
      write: (t: string) => {
        stdout += t;
        options.onStdout?.(stdout);
        return true;
      },
    },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    env: options.env ?? {},
    interrupt: () => interrupt.signal,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Writes files (relative path -> text) under dir, creating folders. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(dir, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
}

export const ALLOW_WEB = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-web
spec:
  preDNAT: true
  applyOnForward: true
  order: 10
  selector: has(host-endpoint)
  types: [Ingress]
  ingress:
    - action: Allow
      protocol: TCP
      destination:
        ports: [80, 443]
`;

export const ADMINS = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: admins
  labels:
    role: admin
spec:
  nets:
    - 10.0.0.0/8
`;

export const HEP = `apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: node-a-eth0
  labels:
    host-endpoint: ''
spec:
  node: node-a
  interfaceName: eth0
  expectedIPs: [192.0.2.10]
`;
