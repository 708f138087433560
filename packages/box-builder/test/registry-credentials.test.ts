/**
 * N10: a Docker Hub credential for the build only. The file is checked as the project checks files with secrets;
 * the credential reaches Packer only in its environment, the image pulls only for Docker Hub, and no output.
 * Packer and crictl are stood in by scripts that record what they are given.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boxFactsEnv } from '@airy/manifests';
import { buildBox, credentialsFileProblem, parseRegistryCredentials, readRegistryCredentials } from '../src/build.ts';
import { buildPeakBytes } from '../src/preflight.ts';
import { exitCodeOf as exitOf } from '../../../tools/testing/reasons.ts';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const images = join(repo, 'images');
const work = mkdtempSync(join(tmpdir(), 'airy-registry-creds-'));
const TOKEN = 'dckr_pat_s3cr3t-T0KEN_value';
const CREDENTIAL = `airybuilder:${TOKEN}`;

/** A credentials file with `text` and `mode`. */
function credentialsFile(name: string, text: string, mode = 0o600): string {
  const file = join(work, name);
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

/** A folder of stand-ins: each appends `NAME ARGS` to `calls`, then runs its body. */
function standIns(tools: Record<string, string>, calls: string): string {
  const bin = mkdtempSync(join(work, 'bin-'));
  for (const [tool, body] of Object.entries(tools)) {
    writeFileSync(join(bin, tool), `#!/bin/bash\necho "${tool} $* AIRY_REGISTRY_CREDENTIALS=\${AIRY_REGISTRY_CREDENTIALS-unset}" >> '${calls}'\n${body}\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}

test('a credentials file is one USER:TOKEN line; a problem never quotes the file', () => {
  assert.equal(parseRegistryCredentials(`${CREDENTIAL}\n`), { user: 'airybuilder', token: TOKEN });
  for (const bad of ['', 'no-colon', ':s3cr3t', 'user:', 'user: spaced s3cr3t', `${CREDENTIAL}\n${CREDENTIAL}\n`, 'us er:s3cr3t']) {
    const parsed = parseRegistryCredentials(bad);
    assert.ok('problem' in parsed, JSON.stringify(bad));
    if ('problem' in parsed && bad.trim()) assert.not.ok(parsed.problem.includes(bad.trim()), parsed.problem);
  }
});

test('a credentials file must be a regular file of the user’s own, 0600, and small', () => {
  const ok = { isFile: true, isLink: false, mode: 0o100600, uid: 1000, size: 40 };
  assert.is(credentialsFileProblem(ok, 1000), undefined);
  assert.match(credentialsFileProblem({ ...ok, mode: 0o100644 }, 1000) ?? '', /mode is 0644: it holds a secret, so chmod 600 it/);
  assert.match(credentialsFileProblem({ ...ok, mode: 0o100640 }, 1000) ?? '', /chmod 600/);
  assert.match(credentialsFileProblem({ ...ok, uid: 0 }, 1000) ?? '', /another user/);
  assert.match(credentialsFileProblem({ ...ok, isLink: true }, 1000) ?? '', /symbolic link/);
  assert.match(credentialsFileProblem({ ...ok, isFile: false }, 1000) ?? '', /not a regular file/);
  assert.match(credentialsFileProblem({ ...ok, size: 5000 }, 1000) ?? '', /larger than 4096 bytes/);
});

test('reading the file: a readable-by-others or linked file is refused in one line (exit 2) without the secret', async () => {
  assert.equal(await readRegistryCredentials(credentialsFile('good', `${CREDENTIAL}\n`)), { user: 'airybuilder', token: TOKEN });
  const open = credentialsFile('open', `${CREDENTIAL}\n`, 0o644);
  const link = join(work, 'link');
  symlinkSync(join(work, 'good'), link);
  for (const [file, why] of [[open, /chmod 600/], [link, /symbolic link/], [join(work, 'missing'), /cannot read it: check the path/]] as const) {
    const error = await readRegistryCredentials(file).then(() => undefined, (e: unknown) => e as Error);
    assert.ok(error, file);
    assert.is(exitOf(error), 2);
    assert.match(error?.message ?? '', why);
    assert.not.ok(error?.message.includes(TOKEN));
    assert.not.ok(error?.message.includes('\n'));
  }
});

test('refused with --skip-downloads (no pulls) and with --registry-mirror (containerd would hand it to the mirror)', async () => {
  const file = credentialsFile('refusals', `${CREDENTIAL}\n`);
  const base = { provider: 'libvirt' as const, version: '1.0.0', outDir: join(work, 'out-refused'), accelerator: 'tcg' as const, restrictNetwork: false, cpus: 1, memory: 512, diskSize: '3G', log: () => undefined, registryCredentials: file };
  for (const [options, why] of [
    [{ ...base, skipDownloads: true }, /--skip-downloads leaves out/],
    [{ ...base, skipDownloads: false, registryMirror: 'https://mirror.example.com' }, /not both: containerd would hand the Docker Hub credential to the mirror/],
  ] as const) {
    const error = await buildBox({ ...options, validateOnly: true }).then(() => undefined, (e: unknown) => e as Error);
    assert.is(exitOf(error), 2, String(error));
    assert.match(error?.message ?? '', why);
  }
});

test('the template: only the image pulls get the credential, through an env file on tmpfs; a sensitive variable', () => {
  const build = readFileSync(join(images, 'airy-core', 'build.pkr.hcl'), 'utf8');
  const variables = readFileSync(join(images, 'airy-core', 'variables.pkr.hcl'), 'utf8');
  assert.match(variables, /variable "registry_credentials" \{[^}]*sensitive\s+= true/);
  const provisioners = build.split(/\n {2}provisioner /).slice(1);
  const using = provisioners.filter((p) => p.includes('var.registry_credentials'));
  assert.is(using.length, 1, 'one provisioner gets the credential');
  const pulls = using[0] ?? '';
  assert.match(pulls, /scripts\s+= \["\$\{var\.scripts_dir\}\/images\.sh"\]/);
  assert.match(pulls, /remote_folder\s+= "\/dev\/shm"/);
  assert.match(pulls, /use_env_var_file = true/);
  // sudo logs its command line: it names the env file, never the values.
  assert.match(pulls, /execute_command\s+= "sudo -E bash -c '\. \{\{ \.EnvVarFile \}\} && exec bash \{\{ \.Path \}\}'"/);
  assert.not.match(pulls, /\{\{ \.Vars \}\}/);
  // Every other script still runs, in order, without it.
  const order = [...build.matchAll(/scripts_dir\}\/([a-z-]+\.sh)/g)].map((m) => m[1]);
  assert.equal(order, ['updates.sh', 'base.sh', 'container-runtime.sh', 'kubernetes.sh', 'istio.sh', 'manifests.sh', 'images.sh', 'cleanup.sh', 'minimize.sh']);
});

// images.sh with the payload as Packer uploads it.
const payload = join(work, 'payload');
mkdirSync(join(payload, 'scripts'), { recursive: true });
copyFileSync(join(images, 'scripts', 'lib.sh'), join(payload, 'scripts', 'lib.sh'));
writeFileSync(join(payload, 'airy.env'), boxFactsEnv());

test('the pulls: Docker Hub’s images with the credential, other registries without; no command inherits it; no log shows it', () => {
  const list = join(work, 'images.txt');
  writeFileSync(list, 'docker.io/library/busybox:1.37.0\nregistry.k8s.io/pause:3.10\nghcr.io/airyhq/api/admin:0.54.0\n');
  const held = JSON.stringify({ images: [{ repoTags: ['docker.io/library/busybox:1.37.0', 'registry.k8s.io/pause:3.10', 'ghcr.io/airyhq/api/admin:0.54.0'] }] });
  const calls = join(work, 'calls-pulls');
  const failed = join(work, 'failed-once');
  // The first pull fails and echoes its whole command line, credential included, as a careless tool might.
  const bin = standIns(
    {
      minikube: 'exit 0',
      sleep: 'exit 0',
      crictl: `if [ "$1" = images ]; then echo '${held}'; exit 0; fi
if [ ! -e '${failed}' ]; then touch '${failed}'; echo "pull failed: crictl $* (password ${TOKEN})" >&2; exit 1; fi
exit 0`,
    },
    calls,
  );
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_IMAGES: list, AIRY_SKIP_DOWNLOADS: 'false', AIRY_ROOT: join(work, 'root'), AIRY_REGISTRY_CREDENTIALS: CREDENTIAL };
  const out = spawnSync('bash', [join(images, 'scripts', 'images.sh')], { env, encoding: 'utf8' });
  assert.is(out.status, 0, out.stdout + out.stderr);
  const recorded = readFileSync(calls, 'utf8').trim().split('\n');
  const pulls = recorded.filter((c) => c.startsWith('crictl pull'));
  assert.equal(
    pulls.map((c) => c.replace(/ AIRY_REGISTRY_CREDENTIALS=.*$/, '')),
    [
      `crictl pull --creds ${CREDENTIAL} docker.io/library/busybox:1.37.0`,
      `crictl pull --creds ${CREDENTIAL} docker.io/library/busybox:1.37.0`,
      'crictl pull registry.k8s.io/pause:3.10',
      'crictl pull ghcr.io/airyhq/api/admin:0.54.0',
    ],
  );
  // Not in the environment of anything images.sh runs.
  assert.ok(recorded.every((c) => c.endsWith('AIRY_REGISTRY_CREDENTIALS=unset')), recorded.join('\n'));
  assert.not.ok((out.stdout + out.stderr).includes(TOKEN), out.stdout + out.stderr);
  assert.match(out.stdout, /attempt 1 of 5 failed: crictl pull docker\.io\/library\/busybox:1\.37\.0/);
  assert.match(out.stdout, /pulled with the builder's credential \(the box does not keep it\)/);

  // Without a credential nothing changes: plain pulls.
  const anonymous = spawnSync('bash', [join(images, 'scripts', 'images.sh')], { env: { ...env, AIRY_REGISTRY_CREDENTIALS: '' }, encoding: 'utf8' });
  assert.is(anonymous.status, 0, anonymous.stdout + anonymous.stderr);
  assert.ok(readFileSync(calls, 'utf8').split('\n').filter((c) => c.startsWith('crictl pull')).slice(4).every((c) => !c.includes('--creds')));

  // A pull that fails for good: the one line naming crictl's last words has the credential blanked out.
  const failing = standIns({ minikube: 'exit 0', sleep: 'exit 0', crictl: `echo "unauthorized: crictl $* (password ${TOKEN})" >&2; exit 1` }, calls);
  const refused = spawnSync('bash', [join(images, 'scripts', 'images.sh')], { env: { ...env, PATH: `${failing}:${process.env.PATH}` }, encoding: 'utf8' });
  assert.is(refused.status, 1);
  assert.match(refused.stdout, /gave up after 5 attempts: crictl pull docker\.io\/library\/busybox:1\.37\.0: unauthorized: crictl pull --creds <credential> docker\.io\/library\/busybox:1\.37\.0 \(password <credential>\)/);
  assert.not.ok((refused.stdout + refused.stderr).includes(TOKEN), refused.stdout);
});

// The build with a stand-in Packer: what airy-box hands Packer, and what it prints.
const freeBytes = (() => {
  const fs = statfsSync(work);
  return fs.bavail * fs.bsize;
})();
const roomy = freeBytes >= buildPeakBytes(false);
if (!roomy) console.log(`skip: ${work} has less free disk than a build's preflight asks (${buildPeakBytes(false)} bytes); the stand-in build is skipped`);

(roomy ? test : test.skip)('airy-box build: the credential is in Packer’s environment only, never its arguments or variable file, and never printed', async () => {
  const calls = join(work, 'calls-packer');
  const seen = join(work, 'packer-seen');
  mkdirSync(seen);
  // `packer build` writes the box where the post-processor would, and prints the credential, as a leaky plugin might.
  const bin = standIns(
    {
      packer: `case $1 in
  version) echo 'Packer v1.6.6' ;;
  validate) exit 0 ;;
  build)
    echo "$*" > '${seen}/args'
    echo "\${PKR_VAR_registry_credentials-unset}" > '${seen}/env'
    vars=\${3#-var-file=}; cp "$vars" '${seen}/vars.json'
    out=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).output_directory)' "$vars")
    mkdir -p "$out" && head -c 65536 /dev/urandom > "$out/airy-core-1.0.0-libvirt.box"
    echo "==> qemu.airy-core: pulling with \${PKR_VAR_registry_credentials}" ;;
esac`,
      'qemu-system-x86_64': 'echo "QEMU emulator version 7.2.0"',
      'qemu-img': 'echo "qemu-img version 7.2.0"',
    },
    calls,
  );
  const base = join(work, 'base.qcow2');
  writeFileSync(base, 'not a disk');
  const key = join(work, 'key');
  writeFileSync(key, 'private');
  writeFileSync(`${key}.pub`, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9vb29vb29vb29vb29vb29vb29vb29vb29vb29vb29v test\n');
  const lines: string[] = [];
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  try {
    const result = await buildBox({
      provider: 'libvirt',
      version: '1.0.0',
      outDir: join(work, 'out'),
      accelerator: 'tcg',
      baseImage: base,
      skipDownloads: false,
      restrictNetwork: false,
      cpus: 1,
      memory: 512,
      diskSize: '3G',
      sshKey: key,
      registryCredentials: credentialsFile('for-build', `${CREDENTIAL}\n`),
      log: (line) => lines.push(line),
      validateOnly: false,
    });
    assert.ok(existsSync(result.boxFile));
  } finally {
    process.env.PATH = path;
  }
  assert.is(readFileSync(join(seen, 'env'), 'utf8').trim(), CREDENTIAL, 'Packer got it as PKR_VAR_registry_credentials');
  assert.not.ok(readFileSync(join(seen, 'args'), 'utf8').includes(TOKEN), 'not on the command line');
  const vars = readFileSync(join(seen, 'vars.json'), 'utf8');
  assert.not.ok(vars.includes(TOKEN), 'not in the variable file');
  assert.not.ok('registry_credentials' in JSON.parse(vars));
  const printed = lines.join('\n');
  assert.match(printed, /packer \| ==> qemu\.airy-core: pulling with \*\*\*/);
  assert.not.ok(printed.includes(TOKEN), printed);
});

test.run();
