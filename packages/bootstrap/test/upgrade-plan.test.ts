/** The upgrade's plan, branch by branch, as data: the steps, what a failure leaves, and what the user is told. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type UpgradeFacts, upgradeDoneNote, upgradeFailure, upgradeFailureLine, upgradePlan } from '../src/upgrade-plan.ts';

const facts: UpgradeFacts = { from: '1.0.0', to: '2.0.0', vmExists: true, keepDatabase: true, boxAdded: false, wait: true };
const hints = { backup: '/i/backups/postgres-1.0.0.sql', dir: '/i' };
const restoreLine = 'airy-bootstrap restore --from /i/backups/postgres-1.0.0.sql --dir /i';
const before = (steps: string[], a: string, b: string) => steps.indexOf(a) >= 0 && steps.indexOf(a) < steps.indexOf(b);

test('database kept: the new box is fetched and added before the dump, the dump before the destroy, the restore last', () => {
  assert.equal(upgradePlan(facts), [
    'lock',
    'download',
    'box-add',
    'dump',
    'destroy-old',
    'vagrantfile',
    'up-new',
    'write-state',
    'remove-old-box',
    'wait-ready',
    'restore',
    'unlock',
  ]);
  assert.is(upgradeDoneNote(facts, hints), undefined);
});

test('database not kept: no dump and no restore; readiness is still waited for', () => {
  const steps = upgradePlan({ ...facts, keepDatabase: false });
  assert.not.ok(steps.includes('dump'));
  assert.not.ok(steps.includes('restore'));
  assert.ok(before(steps, 'download', 'destroy-old'));
  assert.ok(before(steps, 'write-state', 'wait-ready'));
});

test('--wait 0 with a database: dumped, not restored, and the old box is still removed (not leaked); the note says how to restore', () => {
  const noWait = { ...facts, wait: false };
  const steps = upgradePlan(noWait);
  assert.ok(steps.includes('dump'));
  assert.not.ok(steps.includes('wait-ready'));
  assert.not.ok(steps.includes('restore'));
  assert.ok(before(steps, 'write-state', 'remove-old-box'));
  assert.is(upgradeDoneNote(noWait, hints), `the platform was not waited for (--wait 0), so the database was not restored; once it is ready, ${restoreLine}`);
  assert.is(upgradeDoneNote({ ...noWait, keepDatabase: false }, hints), undefined);
});

test('no old VM: nothing to destroy; a box Vagrant already has is not added again', () => {
  const steps = upgradePlan({ ...facts, vmExists: false, keepDatabase: false, boxAdded: true });
  assert.equal(steps, ['lock', 'download', 'vagrantfile', 'up-new', 'write-state', 'remove-old-box', 'wait-ready', 'unlock']);
});

test('the lock is taken first and released last, and released after every failure once taken', () => {
  for (const f of [facts, { ...facts, keepDatabase: false }, { ...facts, wait: false }, { ...facts, vmExists: false }]) {
    const steps = upgradePlan(f);
    assert.is(steps[0], 'lock');
    assert.is(steps.at(-1), 'unlock');
    for (const step of steps.slice(1)) assert.is(upgradeFailure(step).cleanup.at(-1), 'unlock', step);
  }
  assert.equal(upgradeFailure('lock').cleanup, [], 'a lock not taken is not released');
});

test('download failed: nothing was changed, no cleanup touches the VM, and the line says start starts the old VM', () => {
  const steps = upgradePlan(facts);
  assert.equal(steps.slice(0, steps.indexOf('download')), ['lock'], 'only the lock comes before the download');
  assert.equal(upgradeFailure('download'), { outcome: 'old', cleanup: ['unlock'] });
  assert.is(
    upgradeFailureLine(facts, 'download', 'http://127.0.0.1:9/b.box: connection refused', hints),
    'getting the new box 2.0.0 failed: http://127.0.0.1:9/b.box: connection refused; nothing was changed: 1.0.0 is as it was, and airy-bootstrap start starts it',
  );
  for (const step of ['box-add', 'dump'] as const) assert.equal(upgradeFailure(step), { outcome: 'old', cleanup: ['unlock'] });
  assert.match(upgradeFailureLine(facts, 'dump', 'pod not found', hints), /^the database could not be saved: pod not found; nothing was changed/);
});

test('the new VM did not start: its half is destroyed and the old Vagrantfile put back; start makes the old version, the dump restores it', () => {
  assert.equal(upgradeFailure('up-new'), { outcome: 'old-gone', cleanup: ['destroy-new', 'old-vagrantfile', 'unlock'] });
  assert.is(
    upgradeFailureLine(facts, 'up-new', 'vagrant up failed: x', hints),
    `the VM of 2.0.0 did not start: vagrant up failed: x; the VM of 1.0.0 is gone, but the instance still names it: airy-bootstrap start makes it again (new and empty), then ${restoreLine}; or run airy-bootstrap upgrade again`,
  );
  // Without a database there is no dump to name.
  assert.not.match(upgradeFailureLine({ ...facts, keepDatabase: false }, 'up-new', 'x', hints), /restore/);
  // A Vagrantfile that does not validate never replaced the old one: nothing to put back.
  assert.equal(upgradeFailure('vagrantfile'), { outcome: 'old-gone', cleanup: ['unlock'] });
});

test('restore failed: the new version is the instance, the old box was already removed, and the line says how to restore', () => {
  const steps = upgradePlan(facts);
  assert.ok(before(steps, 'remove-old-box', 'restore'));
  assert.equal(upgradeFailure('restore'), { outcome: 'new', cleanup: ['unlock'] });
  assert.is(
    upgradeFailureLine(facts, 'restore', 'ERROR: relation missing', hints),
    `2.0.0 runs, but restoring the database failed: ERROR: relation missing; the dump of 1.0.0 is kept: once the platform is ready, ${restoreLine}`,
  );
});

test('not ready in time: the new version is the instance; with a database the dump is named, without one only the reason', () => {
  assert.equal(upgradeFailure('wait-ready'), { outcome: 'new', cleanup: ['unlock'] });
  assert.match(upgradeFailureLine(facts, 'wait-ready', 'not ready after 20m: kafka (x)', hints), /^2\.0\.0 runs: not ready after 20m: kafka \(x\); the dump of 1\.0\.0 is kept/);
  assert.is(upgradeFailureLine({ ...facts, keepDatabase: false }, 'wait-ready', 'not ready after 20m: kafka (x)', hints), '2.0.0 runs: not ready after 20m: kafka (x)');
});

test('a failed destroy of the old VM: the instance still names the old version', () => {
  assert.equal(upgradeFailure('destroy-old'), { outcome: 'old', cleanup: ['unlock'] });
  assert.match(upgradeFailureLine(facts, 'destroy-old', 'x', hints), /^removing the VM of 1\.0\.0 failed: x; the instance still names 1\.0\.0: airy-bootstrap start starts it/);
});

test.run();
