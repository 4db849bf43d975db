// Holds a lab open for manual experiments and demos: prints its names and addresses as JSON, then
// waits until SIGINT or SIGTERM and tears it down.
//   node dist/scripts/lab/lab-cli.js [--mode nftables|iptables] [--ipv6] [--policy Cluster|Local]
import { Lab, type ExternalTrafficPolicy, type KubeProxyMode } from './lab';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const lab = await Lab.create({
    kubeProxyMode: (option('--mode') ?? 'nftables') as KubeProxyMode,
    ipv6: process.argv.includes('--ipv6'),
    externalTrafficPolicy: (option('--policy') ?? 'Cluster') as ExternalTrafficPolicy,
  });
  const { id, kubeProxyMode, namespaces, lan, node, pod, clients, service } = lab;
  process.stdout.write(JSON.stringify({ id, kubeProxyMode, namespaces, lan, node, pod, clients, service }, null, 2) + '\n');
  process.stderr.write('lab is up; Ctrl-C (SIGINT) or SIGTERM removes it\n');
  const stop = (): void => {
    lab.destroy().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: Error & { code?: string }) => {
  process.stderr.write(`flockguard lab: ${err.code ?? 'ERROR'}: ${err.message}\n`);
  process.exit(1);
});
