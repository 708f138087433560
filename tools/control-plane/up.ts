/**
 * `bash tools/control-plane/up.sh DIR [--nodes N] [--cpu CPUS] [--memory QUANTITY] [--system-reserved LIST]`:
 * starts the control plane in DIR and leaves it running; DIR/kubeconfig reaches it. Exit 2 for bad input, 3 for a
 * missing tool, 1 when it does not come up.
 */
import { parseArgs } from 'node:util';
import { ControlPlaneError, DEFAULT_OPTIONS, up } from './cluster.ts';

const usage = 'usage: up.sh DIR [--nodes N] [--cpu CPUS] [--memory QUANTITY] [--system-reserved cpu=Q,memory=Q] [--service-node-port-range LOW-HIGH]';
try {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        allowPositionals: true,
        options: {
          nodes: { type: 'string' },
          cpu: { type: 'string' },
          memory: { type: 'string' },
          'system-reserved': { type: 'string' },
          'service-node-port-range': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (e) {
      throw new ControlPlaneError(`${(e as Error).message.split('\n')[0]} (${usage})`, 2);
    }
  })();
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (positionals.length !== 1) throw new ControlPlaneError(`give exactly one folder (${usage})`, 2);
  const options = {
    nodes: values.nodes === undefined ? DEFAULT_OPTIONS.nodes : Number(values.nodes),
    cpu: values.cpu ?? DEFAULT_OPTIONS.cpu,
    memory: values.memory ?? DEFAULT_OPTIONS.memory,
    systemReserved: values['system-reserved'],
    serviceNodePortRange: values['service-node-port-range'],
  };
  const started = Date.now();
  const state = await up(positionals[0] as string, options, (line) => console.error(line));
  console.error(`control-plane: ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${state.server}, nodes ${state.nodes.join(', ')}`);
  console.log(state.kubeconfig);
} catch (e) {
  const error = e instanceof ControlPlaneError ? e : new ControlPlaneError(`unexpected error: ${(e as Error).message}`, 1);
  console.error(`control-plane: ${error.message}`);
  process.exit(error.exitCode);
}
