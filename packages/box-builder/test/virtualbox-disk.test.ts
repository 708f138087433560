/**
 * N7: the VirtualBox build's disk. The OVA's ~10 GiB VMDK is imported as a VDI at a path of the build's own and
 * grown to the box's disk size before the build VM boots. VirtualBox cannot run here: the templates are read as
 * data and by Packer, and VBoxManage and Packer are stood in by scripts that record what they are given.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boxFacts } from '@airy/manifests';
import { startHttp } from '../../../tools/testing/http.ts';
import { buildBox } from '../src/build.ts';
import { findVagrantKey, localOva, removeDir, stagePayload, stageTemplates, writeVarFile } from '../src/packer.ts';
import { buildPeakBytes } from '../src/preflight.ts';
import { diskSizeMiB, ovaDiskUnit, sha256From } from '../src/virtualbox.ts';
import { exitCodeOf as exitOf } from '../../../tools/testing/reasons.ts';

const work = mkdtempSync(join(tmpdir(), 'airy-vbox-disk-'));
// The repository's templates, not the copy `compile` makes beside lib/.
const IMAGES_DIR = fileURLToPath(new URL('../../../images', import.meta.url));
const hasPacker = spawnSync('packer', ['version']).status === 0;
if (!hasPacker) console.log('skip: packer is not installed here (apt-get install packer); the template is not evaluated by Packer');

/** What `VBoxManage import OVA --dry-run` prints, in VirtualBox's format (VBoxManageAppliance.cpp), for a cloud OVA. */
function dryRun(disks: number[]): string {
  const lines = [
    '0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%',
    'Interpreting /tmp/ubuntu-24.04-server-cloudimg-amd64.ova...',
    'OK.',
    'Virtual system 0:',
    ' 0: Suggested OS type: "Ubuntu_64"',
    '    (change with "--vsys 0 --ostype <type>"; use "list ostypes" to list all possible values)',
    ' 1: Suggested VM name "ubuntu-noble-24.04-cloudimg"',
    '    (change with "--vsys 0 --vmname <name>")',
    ' 2: Number of CPUs: 2',
    ' 3: Guest memory: 1024 MB',
    ' 4: Network adapter: orig NAT, config 3, extra slot=0;type=NAT',
    ' 5: SCSI controller, type LsiLogic',
    '    (disable with "--vsys 0 --unit 5 --ignore")',
    ' 6: IDE controller, type PIIX4',
    '    (disable with "--vsys 0 --unit 6 --ignore")',
  ];
  for (const unit of disks) {
    lines.push(
      `${String(unit).padStart(2)}: Hard disk image: source image=ubuntu-noble-24.04-cloudimg.vmdk, target path=/root/VirtualBox VMs/ubuntu-noble-24.04-cloudimg/ubuntu-noble-24.04-cloudimg.vmdk, controller=5;channel=0`,
      `    (change target path with "--vsys 0 --unit ${unit} --disk path";`,
      `    disable with "--vsys 0 --unit ${unit} --ignore")`,
    );
  }
  return `${lines.join('\n')}\n`;
}

test('the disk size in MiB, from --disk-size as Packer takes it; anything else is refused', () => {
  assert.is(diskSizeMiB(`${boxFacts().vm.diskMiB}M`), boxFacts().vm.diskMiB);
  assert.is(diskSizeMiB('40960'), 40960);
  assert.is(diskSizeMiB('40G'), 40960);
  assert.is(diskSizeMiB('3g'), 3072);
  assert.is(diskSizeMiB('1T'), 1048576);
  for (const bad of ['', '0', '0M', '40 GB', '-5G', '1.5G', '40K', '40GiB']) assert.is(diskSizeMiB(bad), undefined, bad);
});

test('the OVA’s disk unit comes from VBoxManage’s import listing: one disk, or a problem in words', () => {
  assert.is(ovaDiskUnit(dryRun([7])), 7);
  assert.is(ovaDiskUnit(dryRun([11])), 11);
  assert.equal(ovaDiskUnit(dryRun([])), { problem: 'VBoxManage lists no hard disk in it' });
  assert.equal(ovaDiskUnit(dryRun([7, 8])), { problem: 'it has 2 hard disks; the build grows one' });
});

test('the OVA’s SHA-256 from Ubuntu’s SHA256SUMS (binary and text marks)', () => {
  const a = 'a'.repeat(64);
  const b = 'B'.repeat(64);
  const sums = `${a} *ubuntu-24.04-server-cloudimg-amd64.img\n${b} *ubuntu-24.04-server-cloudimg-amd64.ova\n${'c'.repeat(64)}  other.ova\n`;
  assert.is(sha256From(sums, 'ubuntu-24.04-server-cloudimg-amd64.ova'), 'b'.repeat(64));
  assert.is(sha256From(sums, 'other.ova'), 'c'.repeat(64));
  assert.is(sha256From(sums, 'missing.ova'), undefined);
});

test('the template: the OVA is imported as a VDI at the build’s own path, which is grown before anything else', () => {
  const sources = readFileSync(join(IMAGES_DIR, 'airy-core', 'sources.pkr.hcl'), 'utf8');
  const block = sources.slice(sources.indexOf('source "virtualbox-ovf"')).split(/\n}\n/)[0] ?? '';
  assert.match(block, /import_flags = \["--options", "importtovdi", "--vsys", "0", "--unit", "\$\{var\.ova_disk_unit\}", "--disk", local\.vbox_disk\]/);
  // Packer runs `vboxmanage` after the import and before the VM starts (its OVF builder's steps: StepImport, …,
  // StepVBoxManage, StepRun); the resize comes first in it, sized from the one home of the disk size.
  const vboxmanage = block.slice(block.indexOf('vboxmanage = ['));
  const first = /\[\s*\[([^\]]*)\]/.exec(vboxmanage)?.[1] ?? '';
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template syntax, on purpose
  assert.is(first, '"modifymedium", "disk", local.vbox_disk, "--resize", "${var.disk_mib}"');
  const variables = readFileSync(join(IMAGES_DIR, 'airy-core', 'variables.pkr.hcl'), 'utf8');
  assert.match(variables, /variable "disk_mib" \{\s*type\s+= number/);
});

(hasPacker ? test : test.skip)('Packer reads the disk’s path as a .vdi beside the source’s output folder (whose files become the box)', async () => {
  const dir = mkdtempSync(join(work, 'console-'));
  const templates = await stageTemplates(IMAGES_DIR, false);
  const payload = await stagePayload({ imagesDir: IMAGES_DIR, factsEnv: '', deployments: new Map(), images: [], contentManifest: '{}', sshPublicKey: 'ssh-ed25519 AAAA test' });
  try {
    const varFile = await writeVarFile(templates, {
      box_version: '1.0.0', cpus: 2, memory: 2048, disk_size: '40960M', disk_mib: 40960, ova_disk_unit: 9, kubernetes_version: 'v1', minikube_version: 'v1',
      istio_version: '1', crictl_version: 'v1', architecture: 'amd64', output_directory: join(dir, 'work'), payload_dir: payload,
      scripts_dir: join(IMAGES_DIR, 'scripts'), ssh_private_key_file: (await findVagrantKey()) ?? join(dir, 'key'),
    });
    const run = spawnSync('packer', ['console', `-var-file=${varFile}`, '.'], { cwd: templates, input: 'local.vbox_disk\nvar.disk_mib\n', encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
    assert.is(run.status, 0, run.stderr);
    const [disk, mib] = run.stdout.trim().split('\n').slice(-2);
    assert.is(disk, join(dir, 'work', 'airy-core-build.vdi'));
    assert.not.ok(disk?.startsWith(join(dir, 'work', 'virtualbox')), 'not among the files the box is made of');
    assert.is(mib, '40960');
  } finally {
    await Promise.all([removeDir(templates), removeDir(payload)]);
  }
});

test('a remote OVA is downloaded once, checked against its SHA256SUMS, and kept; a wrong one is refused and removed', async () => {
  const site = join(work, 'site');
  mkdirSync(site);
  const ova = randomBytes(256 * 1024);
  const sha = createHash('sha256').update(ova).digest('hex');
  writeFileSync(join(site, 'cloud.ova'), ova);
  writeFileSync(join(site, 'SHA256SUMS'), `${'0'.repeat(64)} *cloud.img\n${sha} *cloud.ova\n`);
  const http = await startHttp(site);
  const cache = join(work, 'cache');
  const lines: string[] = [];
  try {
    const got = await localOva(`${http.url}/cloud.ova`, `file:${http.url}/SHA256SUMS`, cache, (l) => lines.push(l));
    assert.equal(got, { path: join(cache, 'cloud.ova'), sha256: sha });
    assert.ok(readFileSync(got.path).equals(ova));
    const fetched = http.requests.filter((r) => r.includes('cloud.ova')).length;
    await localOva(`${http.url}/cloud.ova`, `sha256:${sha}`, cache, (l) => lines.push(l));
    assert.is(http.requests.filter((r) => r.includes('cloud.ova')).length, fetched, 'the kept copy is used');
    assert.is(lines.filter((l) => l.includes('downloading')).length, 1);

    const wrong = await localOva(`${http.url}/cloud.ova`, `sha256:${'f'.repeat(64)}`, join(work, 'cache-wrong'), () => undefined).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    assert.is(exitOf(wrong), 1);
    assert.match(wrong?.message ?? '', /its SHA-256 is [0-9a-f]{64}, not the f{64} published for it/);
    assert.equal(readdirSync(join(work, 'cache-wrong')), [], 'no file and no part left');
    const unlisted = await localOva(`${http.url}/cloud.ova`, `file:${http.url}/nothing`, cache, () => undefined).then(() => undefined, (e: unknown) => e as Error);
    assert.is(exitOf(unlisted), 1);
  } finally {
    await http.stop();
  }
});

const roomy = (() => {
  const fs = statfsSync(work);
  return fs.bavail * fs.bsize >= buildPeakBytes(false);
})();
if (!roomy) console.log(`skip: ${work} has less free disk than a build's preflight asks; the stand-in VirtualBox build is skipped`);

(roomy ? test : test.skip)('airy-box build --provider virtualbox: the OVA is read before Packer, and Packer gets its disk unit and the size', async () => {
  const calls = join(work, 'calls');
  const seen = join(work, 'seen');
  mkdirSync(seen);
  const bin = mkdtempSync(join(work, 'bin-'));
  const stand = (tool: string, body: string) => {
    writeFileSync(join(bin, tool), `#!/bin/bash\necho "${tool} $*" >> '${calls}'\n${body}\n`);
    chmodSync(join(bin, tool), 0o755);
  };
  writeFileSync(join(work, 'listing.txt'), dryRun([9]));
  stand('VBoxManage', `case $1 in --version) echo 7.0.20r163906 ;; import) [ "$3" = --dry-run ] && cat '${join(work, 'listing.txt')}' ;; esac`);
  stand(
    'packer',
    `case $1 in
  version) echo 'Packer v1.6.6' ;;
  build)
    vars=\${3#-var-file=}; cp "$vars" '${seen}/vars.json'
    out=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).output_directory)' "$vars")
    mkdir -p "$out" && head -c 65536 /dev/urandom > "$out/airy-core-1.0.0-virtualbox.box" ;;
esac`,
  );
  const site = join(work, 'site-build');
  mkdirSync(site);
  const ova = randomBytes(64 * 1024);
  const sha = createHash('sha256').update(ova).digest('hex');
  writeFileSync(join(site, 'ubuntu.ova'), ova);
  writeFileSync(join(site, 'SHA256SUMS'), `${sha} *ubuntu.ova\n`);
  const http = await startHttp(site);
  const key = join(work, 'key');
  writeFileSync(key, 'private');
  writeFileSync(`${key}.pub`, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9vb29vb29vb29vb29vb29vb29vb29vb29vb29vb29v test\n');
  const out = join(work, 'out');
  let buildCalls = '';
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  try {
    const result = await buildBox({
      provider: 'virtualbox',
      version: '1.0.0',
      outDir: out,
      accelerator: 'auto',
      baseImage: `${http.url}/ubuntu.ova`,
      baseImageChecksum: `file:${http.url}/SHA256SUMS`,
      skipDownloads: false,
      restrictNetwork: false,
      cpus: 2,
      memory: 2048,
      diskSize: `${boxFacts().vm.diskMiB}M`,
      sshKey: key,
      log: () => undefined,
      validateOnly: false,
    });
    assert.ok(existsSync(result.boxFile));
    buildCalls = readFileSync(calls, 'utf8');
    // --validate-only checks the templates: no download, no dry run (this OVA does not even exist).
    writeFileSync(calls, '');
    await buildBox({
      provider: 'virtualbox', version: '1.0.0', outDir: join(work, 'out-validate'), accelerator: 'auto', baseImage: `${http.url}/missing.ova`,
      baseImageChecksum: `sha256:${sha}`, skipDownloads: false, restrictNetwork: false, cpus: 2, memory: 2048, diskSize: '40G', sshKey: key,
      log: () => undefined, validateOnly: true,
    });
    assert.not.ok(readFileSync(calls, 'utf8').includes('VBoxManage import'));
    assert.not.ok(http.requests.some((r) => r.includes('missing.ova')));
  } finally {
    process.env.PATH = path;
    await http.stop();
  }
  const vars = JSON.parse(readFileSync(join(seen, 'vars.json'), 'utf8'));
  assert.is(vars.ova_disk_unit, 9);
  assert.is(vars.disk_mib, boxFacts().vm.diskMiB);
  assert.is(vars.base_image_ova, `file://${join(out, '.cache', 'ubuntu.ova')}`);
  assert.is(vars.base_image_ova_checksum, `sha256:${sha}`);
  const order = buildCalls.trim().split('\n').map((c) => c.split(' ').slice(0, 2).join(' '));
  assert.ok(order.indexOf('VBoxManage import') < order.indexOf('packer build'), order.join('\n'));
  assert.ok(buildCalls.includes(`VBoxManage import ${join(out, '.cache', 'ubuntu.ova')} --dry-run`));
});

test('a --disk-size the build cannot size its VirtualBox disk from is refused in one line (exit 2)', async () => {
  const error = await buildBox({
    provider: 'libvirt', version: '1.0.0', outDir: join(work, 'out-bad'), accelerator: 'tcg', skipDownloads: true, restrictNetwork: false,
    cpus: 1, memory: 512, diskSize: '40 GB', log: () => undefined, validateOnly: true,
  }).then(() => undefined, (e: unknown) => e as Error);
  assert.is(exitOf(error), 2);
  assert.match(error?.message ?? '', /--disk-size 40 GB: give MiB as a number, or with M, G or T/);
});

test.after(() => removeDir(work));
test.run();
