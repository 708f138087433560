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

test.run();
