/** `bash tools/control-plane/down.sh DIR`: stops exactly what up.sh started in DIR. Exit 2 when nothing was. */
import { ControlPlaneError, down } from './cluster.ts';

const [dir, ...rest] = process.argv.slice(2);
try {
  if (!dir || rest.length > 0) throw new ControlPlaneError('usage: down.sh DIR', 2);
  const stopped = await down(dir);
  console.error(stopped.length > 0 ? `control-plane: stopped ${stopped.join(', ')}` : 'control-plane: nothing was running');
} catch (e) {
  const error = e instanceof ControlPlaneError ? e : new ControlPlaneError(`unexpected error: ${(e as Error).message}`, 1);
  console.error(`control-plane: ${error.message}`);
  process.exit(error.exitCode);
}
