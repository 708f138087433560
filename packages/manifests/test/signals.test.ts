/**
 * Ctrl-C and SIGTERM while the CLI is busy (parsing and validating a large input, which keeps the event loop from
 * running any signal handler): the process ends at once, by the signal itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'airy-manifests-signals-'));

// About 5 MB of plain ConfigMaps, inside every bound of the YAML reader: about 1.5 s of CPU to parse and validate.
const big = join(root, 'big.yaml');
const value = 'v'.repeat(60);
writeFileSync(
  big,
  Array.from(
    { length: 4000 },
    (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\n  namespace: airy\ndata:\n${Array.from({ length: 18 }, (_, j) => `  k${j}: "${value}"\n`).join('')}`,
  ).join('---\n'),
);

/** CPU time a process has used, in clock ticks (utime + stime of /proc/PID/stat); undefined once it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const procfs = existsSync('/proc/self/stat');
if (!procfs) console.log('skip: no /proc here, so the CLI cannot be seen busy: the signal tests are skipped');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  (procfs ? test : test.skip)(`${signal} while validate is busy with a large file ends it at once, by the signal`, async () => {
    const child = spawn(process.execPath, [join(packageDir, 'bin/airy-manifests.js'), 'validate', big], { timeout: 120_000 });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, s) => resolve({ code, signal: s })));
    // Busy: past start-up (about 0.2 s of CPU, the whole of a small validate) and well inside the work (about 1.5 s).
    let ticks = cpuTicks(child.pid as number);
    while (ticks !== undefined && ticks < 0.6 * hz) {
      await new Promise((r) => setTimeout(r, 10));
      ticks = cpuTicks(child.pid as number);
    }
    assert.ok(ticks !== undefined, 'the CLI finished before it was busy: the input is too small for this machine');
    child.kill(signal);
    const end = await closed;
    assert.is(end.signal, signal, `ended with code ${end.code}: ${stderr}`);
    assert.not.match(stdout + stderr, /problems? in 1 file/, 'the work did not go on to its end');
  });
}

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
