import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { carryOverCommands } from '../src/carry-over.ts';

// A private PostgreSQL server (Debian's postgresql package), on a socket in a temporary folder.
const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort() : [];
const bin = versions.length ? join('/usr/lib/postgresql', versions.at(-1) as string, 'bin') : '';
const root = process.getuid?.() === 0;
const postgresUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
const reason = !bin ? 'PostgreSQL is not installed (Debian package postgresql)' : root && postgresUser.status !== 0 ? 'no postgres user to run the server as' : '';
if (reason) console.log(`skip: ${reason}; the database carry-over is not run against a real server`);

const dir = mkdtempSync(join(tmpdir(), 'airy-carry-over-'));
const port = String(20000 + (process.pid % 20000));
/** Runs a server command as the postgres user when we are root (PostgreSQL refuses to run as root). */
const server = (command: string, args: string[]) => {
  const run = root ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { encoding: 'utf8' }) : spawnSync(join(bin, command), args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${command}: ${run.stderr}`);
};
/** Runs SQL as a role, on our server. */
const sql = (role: string, database: string, text: string) => {
  const run = spawnSync('psql', ['-h', dir, '-p', port, '-U', role, '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', text], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`psql: ${run.stderr}`);
  return run.stdout.trim();
};
/** Runs one of the carry-over's in-container commands the way the container does: sh, with POSTGRES_USER set. */
const inside = (command: string, io: { input?: string; output?: string }) =>
  spawnSync('sh', ['-c', io.output ? `${command} > "$OUT"` : command], {
    encoding: 'utf8',
    input: io.input === undefined ? undefined : readFileSync(io.input),
    env: { ...process.env, POSTGRES_USER: 'airy', PGHOST: dir, PGPORT: port, OUT: io.output ?? '' },
  });

test.before(() => {
  if (reason) return;
  if (root) chownSync(dir, Number(postgresUser.stdout.trim()), -1);
  server('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  server('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'server.log'), '-w', '-o', `-k ${dir} -p ${port} -c listen_addresses=''`, 'start']);
  sql('postgres', 'postgres', 'create role airy login');
});

test.after(() => {
  if (!reason && existsSync(join(dir, 'data', 'postmaster.pid'))) server('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
  rmSync(dir, { recursive: true, force: true });
});

(reason ? test.skip : test)("the upgrade's dump and restore carry the data into the new platform's database, which already has its schema", () => {
  const { dump, restore } = carryOverCommands();
  sql('postgres', 'postgres', 'create database airy_core owner airy');
  sql('airy', 'airy_core', "create table messages (id serial primary key, body text not null); insert into messages (body) values ('hello'), ('world'), ('ünïcode')");
  const file = join(dir, 'postgres-1.0.0.sql');
  const dumped = inside(dump.inside, { output: file });
  assert.is(dumped.status, 0, dumped.stderr);
  assert.not.match(readFileSync(file, 'utf8'), /CREATE ROLE|ALTER ROLE|PASSWORD/, 'no roles (the new VM has its own password)');

  // The new VM: a fresh database where the platform already made its tables, with rows of its own.
  sql('postgres', 'postgres', 'drop database airy_core');
  sql('postgres', 'postgres', 'create database airy_core owner airy');
  sql('airy', 'airy_core', "create table messages (id serial primary key, body text not null); insert into messages (body) values ('new')");
  const restored = inside(restore.inside, { input: file });
  assert.is(restored.status, 0, restored.stderr);
  assert.is(sql('airy', 'airy_core', 'select string_agg(body, \',\' order by id) from messages'), 'hello,world,ünïcode');
  // The sequence came along too: the next row does not collide.
  sql('airy', 'airy_core', "insert into messages (body) values ('after')");
  assert.is(sql('airy', 'airy_core', 'select max(id) from messages'), '4');
});

(reason ? test.skip : test)('a restore that fails halfway changes nothing (one transaction, stopped at the first error)', () => {
  const { restore } = carryOverCommands();
  const before = sql('airy', 'airy_core', "select string_agg(body, ',' order by id) from messages");
  const broken = join(dir, 'broken.sql');
  writeFileSync(broken, "delete from messages;\ninsert into messages (body) values ('x');\nselect 1/0;\n");
  const run = inside(restore.inside, { input: broken });
  assert.is.not(run.status, 0);
  assert.match(run.stderr, /division by zero/);
  assert.is(sql('airy', 'airy_core', "select string_agg(body, ',' order by id) from messages"), before);
});

test('the commands run inside the PostgreSQL pod of the platform namespace, as the user from its environment', () => {
  const { dump, restore } = carryOverCommands('airy', 'airy_core');
  assert.is(dump.inVm, `kubectl -n airy exec postgres-0 -- sh -c '${dump.inside}'`);
  assert.is(restore.inVm, `kubectl -n airy exec -i postgres-0 -- sh -c '${restore.inside}'`);
  for (const c of [dump.inside, restore.inside]) {
    assert.match(c, /-U "\$POSTGRES_USER"/);
    assert.not.match(c, /'/, 'fits in single quotes');
    assert.not.match(c, /PASSWORD|-W/, 'no password on a command line');
  }
});

test.run();
