import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BOX_TUNNEL_FILE, boxFacts, boxFactsEnv, systemReserved } from '@airy/manifests';
import { hashFile } from '../src/hash.ts';
import { findVagrantKey, IMAGES_DIR, removeDir, runPacker, stagePayload, stageTemplates, writeVarFile } from '../src/packer.ts';

const packer = spawnSync('packer', ['version'], { encoding: 'utf8' });
const hasPacker = packer.status === 0;
if (!hasPacker) console.log('skip: packer is not installed here (apt-get install packer); packer validate is skipped');
const shellcheck = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' }).status === 0;
if (!shellcheck) console.log('skip: shellcheck is not installed here; the provisioning scripts are not linted');

/** Stages the real templates with a local base image, so validate needs no network. */
async function stage(vars: Record<string, string | number | boolean> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'airy-validate-'));
  const base = join(dir, 'base.qcow2');
  writeFileSync(base, randomBytes(4096));
  const checksum = `sha256:${(await hashFile(base)).sha256}`;
  const templates = await stageTemplates(IMAGES_DIR, false);
  const payload = await stagePayload({ imagesDir: IMAGES_DIR, factsEnv: boxFactsEnv(), deployments: new Map([['kafka.yaml', 'kind: x\n']]), images: ['a/b:1'], contentManifest: '{}', sshPublicKey: 'ssh-ed25519 AAAA test' });
  const varFile = await writeVarFile(templates, {
    box_version: '1.0.0',
    cpus: boxFacts().vm.cpus,
    memory: boxFacts().vm.memoryMiB,
    disk_size: `${boxFacts().vm.diskMiB}M`,
    disk_mib: boxFacts().vm.diskMiB,
    ova_disk_unit: 9,
    kubernetes_version: 'v1.31.4',
    minikube_version: 'v1.35.0',
    istio_version: '1.24.3',
    crictl_version: 'v1.31.1',
    architecture: 'amd64',
    output_directory: join(dir, 'out'),
    payload_dir: payload,
    scripts_dir: join(IMAGES_DIR, 'scripts'),
    ssh_private_key_file: (await findVagrantKey()) ?? join(dir, 'key'),
    base_image: `file://${base}`,
    base_image_checksum: checksum,
    base_image_ova: `file://${base}`,
    base_image_ova_checksum: checksum,
    ...vars,
  });
  return { varFile, templates, cleanup: () => Promise.all([removeDir(dir), removeDir(templates), removeDir(payload)]) };
}

async function validate(only: string, vars: Record<string, string | boolean> = {}) {
  const s = await stage(vars);
  try {
    const run = runPacker(['validate', `-var-file=${s.varFile}`, `-only=${only}`, '.'], s.templates, () => undefined);
    return await run.done;
  } finally {
    await s.cleanup();
  }
}

for (const only of ['qemu.airy-core', 'virtualbox-ovf.airy-core']) {
  for (const architecture of ['amd64', 'arm64']) {
    (hasPacker ? test : test.skip)(`packer validate accepts the real templates: ${only}, ${architecture}`, async () => {
      const result = await validate(only, { architecture, efi_firmware: architecture === 'arm64' ? '/usr/share/qemu-efi-aarch64/QEMU_EFI.fd' : '' });
      assert.is(result.exitCode, 0, result.tail.join('\n'));
    });
  }
}

test('nothing in the templates or scripts says amd64 by hand: the architecture comes from the build', () => {
  const scripts = readdirSync(join(IMAGES_DIR, 'scripts')).map((f) => readFileSync(join(IMAGES_DIR, 'scripts', f), 'utf8')).join('\n');
  const templates = readdirSync(join(IMAGES_DIR, 'airy-core')).map((f) => readFileSync(join(IMAGES_DIR, 'airy-core', f), 'utf8')).join('\n');
  assert.not.match(scripts, /amd64|x86_64|aarch64|arm64/);
  assert.not.match(templates, /amd64/);
  assert.match(scripts, /linux-\$\{AIRY_ARCH\}/);
  // The qemu of the architecture, and arm64's UEFI boot and HTTP seed, chosen in the template from the variable.
  assert.match(templates, /qemu_binary\s+= local\.arm64 \? "qemu-system-aarch64" : "qemu-system-x86_64"/);
  assert.match(templates, /machine_type\s+= local\.arm64 \? "virt" : "pc"/);
});

test('the VirtualBox source gets the same cloud-init seed as qemu (without it no vagrant user, no SSH)', () => {
  const sources = readFileSync(join(IMAGES_DIR, 'airy-core', 'sources.pkr.hcl'), 'utf8');
  const block = (name: string) => sources.slice(sources.indexOf(`source "${name}"`)).split(/\n}\n/)[0] ?? '';
  for (const name of ['qemu', 'virtualbox-ovf']) {
    assert.match(block(name), /cd_files\s+= (local\.arm64 \? \[\] : )?local\.cidata_files/, name);
    assert.match(block(name), /cd_label\s+= "cidata"/, name);
  }
  // arm64's virt machine has no IDE for a CD: the same seed comes over Packer's HTTP server.
  assert.match(block('qemu'), /http_directory\s+= local\.arm64 \? "\$\{var\.payload_dir\}\/cidata" : ""/);
});

test('the VirtualBox build has a UART for ttyS0 (into a log file), and the box it exports keeps the UART without the build’s path', () => {
  const sources = readFileSync(join(IMAGES_DIR, 'airy-core', 'sources.pkr.hcl'), 'utf8');
  const block = sources.slice(sources.indexOf('source "virtualbox-ovf"')).split(/\n}\n/)[0] ?? '';
  assert.match(block, /\["modifyvm", "\{\{ \.Name \}\}", "--uart1", "0x3F8", "4"\]/);
  assert.match(block, /\["modifyvm", "\{\{ \.Name \}\}", "--uartmode1", "file", "\$\{var\.output_directory\}\/virtualbox-console\.log"\]/);
  assert.match(block, /vboxmanage_post = \[\s*\["modifyvm", "\{\{ \.Name \}\}", "--uartmode1", "disconnected"\],\s*\]/);
});

(hasPacker ? test : test.skip)('packer validate rejects an argument its builder does not have (so the seed above is one it has)', async () => {
  const s = await stage();
  try {
    // The staged file is a link to the repository's: replace the link, never write through it.
    const file = join(s.templates, 'sources.pkr.hcl');
    const text = readFileSync(file, 'utf8');
    rmSync(file);
    writeFileSync(file, text.replace('cd_label             = "cidata"\n  headless', 'cd_nonsense          = "cidata"\n  headless'));
    const run = runPacker(['validate', `-var-file=${s.varFile}`, '-only=virtualbox-ovf.airy-core', '.'], s.templates, () => undefined);
    const result = await run.done;
    assert.is.not(result.exitCode, 0);
  } finally {
    await s.cleanup();
  }
});

(hasPacker ? test : test.skip)('the qemu disk’s discard and detect-zeroes are arguments Packer checks (so "unmap" is one it takes)', async () => {
  for (const [name, value] of [['disk_discard', 'unmap'], ['disk_detect_zeroes', 'unmap']]) {
    const s = await stage();
    try {
      const file = join(s.templates, 'sources.pkr.hcl');
      const text = readFileSync(file, 'utf8');
      const line = new RegExp(`(${name}\\s*= )"${value}"`);
      assert.match(text, line);
      rmSync(file);
      writeFileSync(file, text.replace(line, '$1"bogus"'));
      const run = runPacker(['validate', `-var-file=${s.varFile}`, '-only=qemu.airy-core', '.'], s.templates, () => undefined);
      const result = await run.done;
      assert.is.not(result.exitCode, 0, `${name} = "bogus" was accepted`);
    } finally {
      await s.cleanup();
    }
  }
});

(hasPacker ? test : test.skip)('packer validate rejects a bad variable (the check is real)', async () => {
  const result = await validate('qemu.airy-core', { base_image_checksum: 'sha256:nothex' });
  assert.is.not(result.exitCode, 0);
});

(hasPacker ? test : test.skip)('a variable holding HCL template syntax reaches Packer as plain text', async () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template syntax, on purpose
  const template = '${file("/etc/hostname")}%{ if true }x%{ endif }';
  const s = await stage({ box_version: template });
  try {
    const run = spawnSync('packer', ['console', `-var-file=${s.varFile}`, '.'], { cwd: s.templates, input: 'var.box_version\n', encoding: 'utf8' });
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stdout.trim(), template);
  } finally {
    await s.cleanup();
  }
});

test('the templates and provisioning scripts restate no box fact: they receive them (pkrvars, airy.env)', () => {
  const facts = boxFacts();
  const scripts = readdirSync(join(IMAGES_DIR, 'scripts')).map((f) => readFileSync(join(IMAGES_DIR, 'scripts', f), 'utf8')).join('\n');
  const templates = readdirSync(join(IMAGES_DIR, 'airy-core')).map((f) => readFileSync(join(IMAGES_DIR, 'airy-core', f), 'utf8')).join('\n');
  for (const literal of [facts.postgres.secret, facts.ports.nodePortRange, systemReserved(), BOX_TUNNEL_FILE, `-n ${facts.namespace} `, `=${facts.postgres.user} `]) {
    assert.not.ok(scripts.includes(literal), `a provisioning script restates ${literal}`);
  }
  assert.not.match(templates, /default\s*=\s*(4|8192)\b/, 'the VM size is not restated in the Packer variables');
});

(shellcheck ? test : test.skip)('the provisioning scripts are shellcheck-clean', () => {
  const scripts = ['base', 'container-runtime', 'kubernetes', 'istio', 'manifests', 'images', 'cleanup', 'minimize', 'provisioning', 'lifecycle', 'lib', 'first-nic', 'updates'];
  const run = spawnSync('shellcheck', ['-x', ...scripts.map((s) => join(IMAGES_DIR, 'scripts', `${s}.sh`))], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stdout);
});

test.run();
