/**
 * Hostile files and folders, through the CLI as a user runs it: each ends in one line with exit 2 (or a problem
 * naming the file, exit 1, for validate), quickly, and writes nothing it should not.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'airy-manifests-hostile-'));
let n = 0;
const file = (text: string, name = `f-${n++}.yaml`) => {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
};
// `timeout` so a regression that hangs (a FIFO read) fails instead of blocking the suite.
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const result = spawnSync('timeout', ['60', process.execPath, join(packageDir, 'bin/airy-manifests.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
};
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, stderr);
  assert.not.match(stderr, /unexpected error|\n\s+at /);
  return lines[0] as string;
}

test("a config file's profile is used when --profile is not given; an unknown one is refused", () => {
  // One password for all three renders, so they differ only by what the options say.
  const env = { AIRY_POSTGRES_PASSWORD: 'one-password-for-these-renders' };
  const production = run(['render', '--stdout', '--config', file('profile: production\ningress:\n  plainHttp: true\n')], env);
  assert.is(production.status, 0, production.stderr);
  const local = run(['render', '--stdout'], env);
  assert.is.not(production.stdout, local.stdout, 'the file chose the production profile');
  assert.equal(run(['render', '--stdout', '--profile', 'production', '--plain-http'], env).stdout, production.stdout);
  const unknown = run(['render', '--stdout', '--config', file('profile: staging\n')]);
  assert.is(unknown.status, 2);
  assert.match(oneLine(unknown.stderr), /invalid option profile: unknown value "staging"/);
});

test('a key no option has is refused in one line with the nearest one, at any depth: never silently the defaults', () => {
  const cases: [string, RegExp][] = [
    ['profle: production\n', /invalid option profle: not an option \(did you mean profile\?\)/],
    ['kafka:\n  broker: 3\n', /invalid option kafka.broker: not an option \(did you mean kafka.brokers\?\)/],
    ['apps:\n  - name: billing\n    image: example/billing:1.0.0\n    port: 9000\n    replica: 2\n', /invalid option apps\[0\].replica: not an option \(did you mean apps\[0\].replicas\?\)/],
    ['ingress:\n  tls:\n    secrt: x\n', /invalid option ingress.tls.secrt: not an option \(did you mean ingress.tls.secret\?\)/],
    ['frobnicate: 1\n', /invalid option frobnicate: not an option \(options here: profile, namespace/],
    // Keys that every object inherits are no options either, and the message lists the real ones.
    ['constructor:\n  x: 1\n', /invalid option constructor: not an option \(options here: profile, namespace, storageClass, kafka/],
    ['__proto__:\n  x: 1\n', /invalid option __proto__: not an option \(options here: profile, namespace, storageClass, kafka/],
    ['kafka:\n  toString: 3\n', /invalid option kafka.toString: not an option \(options here: mode, brokers, controllers/],
  ];
  for (const [yaml, pattern] of cases) {
    const r = run(['render', '--stdout', '--config', file(yaml)]);
    assert.is(r.status, 2, yaml);
    assert.match(oneLine(r.stderr), pattern);
  }
});

test('production: no plain HTTP by omission; --tls-secret, --cert-manager-issuer or --plain-http says which', () => {
  const env = { AIRY_POSTGRES_PASSWORD: 'one-password-for-these-renders' };
  const none = run(['render', '--stdout', '--profile', 'production'], env);
  assert.is(none.status, 2);
  assert.match(oneLine(none.stderr), /the production profile needs a certificate source: --tls-secret NAME, --cert-manager-issuer NAME, or --plain-http/);
  assert.is(none.stdout, '', 'nothing rendered');
  for (const choice of [['--tls-secret', 'airy-tls'], ['--cert-manager-issuer', 'letsencrypt'], ['--plain-http']]) {
    const r = run(['render', '--stdout', '--profile', 'production', '--host', 'airy.example.com', ...choice], env);
    assert.is(r.status, 0, r.stderr);
  }
  const both = run(['render', '--stdout', '--profile', 'production', '--tls-secret', 'airy-tls', '--plain-http'], env);
  assert.is(both.status, 2);
  assert.match(oneLine(both.stderr), /ingress.plainHttp: cannot be true with ingress.tls/);
  // The local profile keeps its plain HTTP default: one machine, reached through airy.core.
  assert.is(run(['render', '--stdout', '--profile', 'local'], env).status, 0);
});

test("a config file's values are checked like flags: wrong types are one line, exit 2", () => {
  const cases: [string, RegExp][] = [
    ['ingress:\n  hosts: [42]\n', /ingress\.hosts\[0\]: must be a string, got 42/],
    ['ingress:\n  hosts: ["bad host"]\n', /ingress\.hosts\[0\]: "bad host" is not a host name/],
    ['apps:\n  - name: x\n    image: 5\n    port: 80\n', /apps\[0\]\.image: must be a string, got 5/],
    ['namespace: 7\n', /namespace: must be a string, got 7/],
    ['topics:\n  - name: [a]\n', /topics\[0\]\.name: must be a string/],
    ['storageClass: {a: 1}\n', /storageClass: must be a string/],
  ];
  for (const [text, pattern] of cases) {
    const result = run(['render', '--stdout', '--config', file(text)]);
    assert.is(result.status, 2, `${text}\n${result.stderr}`);
    assert.match(oneLine(result.stderr), pattern);
  }
  const env = run(['render', '--stdout', '--config', file('apps:\n  - name: x\n    image: a/b:1\n    port: 80\n    env: {RETRIES: 5}\n')]);
  assert.is(env.status, 0, env.stderr);
  assert.match(env.stdout, /name: RETRIES\n\s+value: "5"/);
});

test('--ngrok-domain and --storage-class take a name of their language only: newlines, paths and YAML are one line, exit 2', () => {
  const env = { AIRY_POSTGRES_PASSWORD: 'one-password-for-these-renders' };
  for (const [flag, value, why] of [
    ['--ngrok-domain', 'airy.ngrok.app\n  evil: true', /ngrok\.domain: .* is not a host name/],
    ['--ngrok-domain', '../../etc/passwd', /ngrok\.domain: .* is not a host name/],
    ['--ngrok-domain', 'localhost', /ngrok\.domain: .* is not a host name/],
    ['--storage-class', 'fast\nkind: Secret', /storageClass: .* is not a Kubernetes name/],
    ['--storage-class', '/dev/sda', /storageClass: .* is not a Kubernetes name/],
    ['--storage-class', 'Fast_SSD', /storageClass: .* is not a Kubernetes name/],
  ] as const) {
    const out = run(['render', '--stdout', flag, value], env);
    assert.is(out.status, 2, `${flag} ${JSON.stringify(value)}: ${out.stderr}`);
    assert.match(oneLine(out.stderr), why);
    assert.is(out.stdout, '');
  }
  const good = run(['render', '--stdout', '--ngrok-domain', 'airy-demo.ngrok.app', '--storage-class', 'fast-ssd.example.com'], env);
  assert.is(good.status, 0, good.stderr);
  assert.match(good.stdout, /storageClassName: fast-ssd\.example\.com/);
  assert.match(good.stdout, /airy-demo\.ngrok\.app/);
});

test('apps[].routes take a URL path only: newlines, quotes and . or .. segments are one line, exit 2', () => {
  const env = { AIRY_POSTGRES_PASSWORD: 'one-password-for-these-renders' };
  const app = (route: string) => `apps:\n  - name: billing\n    image: example/billing:1.4.2\n    port: 9000\n    routes: [${JSON.stringify(route)}]\n`;
  for (const [route, why] of [
    ['/billing\n  evil: true', /apps\[0\]\.routes\[0\]: .* is not a URL path/],
    ['/billing /x', /is not a URL path/],
    ["/bill'ing", /is not a URL path/],
    ['/billing/%zz', /is not a URL path/],
    ['/billing/../api-admin', /has a \. or \.\. segment/],
    ['/billing/..', /has a \. or \.\. segment/],
    ['/./billing', /has a \. or \.\. segment/],
    ['/billing/%2E%2e/users', /has a \. or \.\. segment/],
    ['billing', /must start with \//],
  ] as const) {
    const out = run(['render', '--stdout', '--config', file(app(route))], env);
    assert.is(out.status, 2, `${JSON.stringify(route)}: ${out.stderr}`);
    assert.match(oneLine(out.stderr), why);
    assert.is(out.stdout, '');
  }
  const good = run(['render', '--stdout', '--config', file(app('/billing/v1.2/invoices'))], env);
  assert.is(good.status, 0, good.stderr);
  assert.match(good.stdout, /prefix: \/billing\/v1\.2\/invoices/);
});

test('a YAML alias bomb is refused quickly, naming the file', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
  const path = file(`${bomb}\n`, 'bomb.yaml');
  const config = run(['render', '--stdout', '--config', path]);
  assert.is(config.status, 2, config.stderr);
  assert.match(oneLine(config.stderr), /bomb\.yaml: not valid YAML: .*alias/i);
  const validate = run(['validate', path]);
  assert.is(validate.status, 1, validate.stderr);
  assert.match(validate.stdout, /bomb\.yaml:0:\$: YAML: .*alias/i);
  assert.not.match(validate.stderr, /unexpected error/);
});

test('hostile YAML inside the size limits is refused or read in seconds, in one line: nesting, aliases, keys', () => {
  // 8 MiB of flow nesting (the parser alone exhausts a 4 GB heap): a problem of the file, found before parsing.
  const flow = join(root, 'flow.yaml');
  writeFileSync(flow, Buffer.alloc(8 * 2 ** 20 - 1, '['));
  const nested = run(['validate', flow]);
  assert.is(nested.status, 1, nested.stderr);
  assert.match(nested.stdout, /flow\.yaml:0:\$: YAML: flow collections nested deeper than 64 levels/);
  assert.not.match(nested.stderr, /unexpected error|heap/i);
  // Thousands of anchor and alias pairs (each alias resolved by walking the document: minutes).
  const pairs = file(Array.from({ length: 40_000 }, (_, i) => `- &a${i} x\n- *a${i}\n`).join(''), 'anchors.yaml');
  const aliased = run(['validate', pairs]);
  assert.is(aliased.status, 1, aliased.stderr);
  assert.match(aliased.stdout, /anchors\.yaml:0:\$: YAML: more than 100 aliases/);
  const config = run(['render', '--stdout', '--config', pairs]);
  assert.is(config.status, 2, config.stderr);
  assert.match(oneLine(config.stderr), /anchors\.yaml: not valid YAML: more than 100 aliases/);
  // 1 MiB of keys in a config file (the parser's pairwise check: 90 s) is read, and its first key refused.
  const keys = file(Array.from({ length: 100_000 }, (_, i) => `key${i}: v`).join('\n').slice(0, 2 ** 20 - 16), 'keys.yaml');
  const many = run(['render', '--stdout', '--config', keys]);
  assert.is(many.status, 2, many.stderr);
  assert.match(oneLine(many.stderr), /key0: not an option/);
  const twice = run(['render', '--stdout', '--config', file('profile: local\nnamespace: a\nprofile: production\n', 'twice.yaml')]);
  assert.is(twice.status, 2, twice.stderr);
  assert.match(oneLine(twice.stderr), /twice\.yaml: not valid YAML: Map keys must be unique: "profile" appears twice/);
});

test('file names that are not UTF-8: validate reads the file they name, render refuses a folder it cannot name', () => {
  // Node can pass such names neither as arguments nor as strings: the shell makes them, and passes them on.
  const sh = (script: string) => {
    const result = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', AIRY_POSTGRES_PASSWORD: 'one-password-for-these-renders' } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const cli = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(packageDir, 'bin/airy-manifests.js'))}`;
  const dir = join(root, 'names');
  mkdirSync(dir);
  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: airy\ndata:\n  a: b\n';
  writeFileSync(join(dir, 'good.yaml'), cm);
  // A second ConfigMap of the same name, in a file named with the byte 0xff: a problem that names that file.
  writeFileSync(join(root, 'second.yaml'), cm);
  const made = sh(`mv "${root}/second.yaml" "${dir}/$(printf 'n\\377.yaml')"`);
  assert.is(made.status, 0, made.stderr);
  const validate = run(['validate', dir]);
  assert.is(validate.status, 1, validate.stderr);
  assert.match(validate.stdout, /names\/n\\xff\.yaml:0:metadata\.name: .*ConfigMap airy\/settings/);
  assert.match(validate.stderr, /2 files/);
  // --out with such a byte: Node would read it as U+FFFD, another folder; refused, and no folder is made.
  const out = sh(`${cli} render --out "${root}/out$(printf '\\377')"`);
  assert.is(out.status, 2, out.stderr);
  assert.match(oneLine(out.stderr), /--out .*out\uFFFD: the name is not valid UTF-8/);
  assert.not.ok(existsSync(join(root, 'out\uFFFD')));
  assert.is(readdirSync(root).filter((n) => n.startsWith('out')).length, 0);
  // A re-render removes a stale generated file whatever its name's bytes.
  const rendered = join(root, 'rendered');
  const first = run(['render', '--out', rendered], { AIRY_POSTGRES_PASSWORD: 'one-password-for-these-renders' });
  assert.is(first.status, 0, first.stderr);
  const stale = sh(`cp "${rendered}/namespace.yaml" "${rendered}/$(printf 'old\\377.yaml')" && ls "${rendered}" | grep -c old`);
  assert.is(stale.stdout.trim(), '1');
  const again = run(['render', '--out', rendered], { AIRY_POSTGRES_PASSWORD: 'one-password-for-these-renders' });
  assert.is(again.status, 0, again.stderr);
  assert.is(sh(`ls "${rendered}" | grep -c old`).stdout.trim(), '0');
});

test('validate refuses a file larger than any manifest without parsing it', () => {
  const path = join(root, 'huge.yaml');
  writeFileSync(path, Buffer.alloc(9 * 2 ** 20, 'a: b\n'));
  const result = run(['validate', path]);
  assert.is(result.status, 2, result.stderr);
  assert.match(oneLine(result.stderr), /huge\.yaml: 9437184 bytes, more than the 8388608 a manifest file may have/);
});

test('render refuses / , a foreign non-empty folder, and a FIFO or folder where one of its files goes', () => {
  assert.match(oneLine(run(['render', '--out', '/']).stderr), /will not write \/: it is the root folder/);
  const foreign = join(root, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  const refused = run(['render', '--out', foreign]);
  assert.is(refused.status, 2);
  assert.match(oneLine(refused.stderr), /it is not empty and holds no earlier render/);
  assert.equal(readdirSync(foreign), ['notes.txt']);

  const out = join(root, 'render');
  assert.is(run(['render', '--out', out]).status, 0);
  rmSync(join(out, 'kafka.yaml'));
  spawnSync('mkfifo', [join(out, 'kafka.yaml')]);
  const fifo = run(['render', '--out', out]);
  assert.is(fifo.status, 2, fifo.stderr);
  assert.match(oneLine(fifo.stderr), /kafka\.yaml: it is not a plain file: remove it first/);
  rmSync(join(out, 'kafka.yaml'));
  mkdirSync(join(out, 'kafka.yaml'));
  assert.match(oneLine(run(['render', '--out', out]).stderr), /kafka\.yaml: it is not a plain file/);
  spawnSync('mkfifo', [join(root, 'fifo.yaml')]);
  assert.match(oneLine(run(['validate', join(root, 'fifo.yaml')]).stderr), /fifo\.yaml: not a plain file/);
});

test('the Secret file is created 0600; a re-render keeps the password; it is never printed', () => {
  const out = join(root, 'secret');
  const first = run(['render', '--out', out]);
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stderr, /holds a newly generated password/);
  const secretFile = readdirSync(out).find((f) => readFileSync(join(out, f), 'utf8').includes('kind: Secret')) as string;
  assert.ok(secretFile);
  assert.is(statSync(join(out, secretFile)).mode & 0o777, 0o600);
  assert.is(statSync(join(out, 'kustomization.yaml')).mode & 0o777, 0o644);
  const password = /POSTGRES_PASSWORD: (\S+)/.exec(readFileSync(join(out, secretFile), 'utf8'))?.[1] as string;
  assert.ok(password && password.length >= 16);

  const second = run(['render', '--out', out]);
  assert.is(second.status, 0, second.stderr);
  assert.match(second.stderr, /holds the password of the earlier render in .* \(kept\)/);
  assert.match(readFileSync(join(out, secretFile), 'utf8'), new RegExp(`POSTGRES_PASSWORD: ${password}`));
  const given = run(['render', '--out', out], { AIRY_POSTGRES_PASSWORD: 'a-password-given-by-env-1234' });
  assert.match(given.stderr, /holds AIRY_POSTGRES_PASSWORD/);
  for (const r of [first, second, given]) assert.not.ok(`${r.stdout}${r.stderr}`.includes(password) || `${r.stderr}`.includes('a-password-given-by-env-1234'));
  assert.not.ok(existsSync(join(out, `${secretFile}.tmp`)));
});

test("validate: control characters in a manifest's names reach the terminal only as visible escapes", () => {
  // YAML's \e is ESC, \a BEL and \x9b the C1 CSI: a title-setting OSC and an OSC 52 clipboard write.
  const evil = '"x\\e]0;owned\\a\\e]52;c;ZXZpbA==\\a\\x9b2J"';
  const path = file(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${evil}\n  namespace: ${evil}\ndata:\n  ${evil}: ${evil}\n`);
  for (const args of [['validate', path], ['validate', '--json', path]]) {
    const result = run(args);
    assert.is(result.status, 1, result.stderr);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the test
    assert.not.match(`${result.stdout}${result.stderr}`, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, JSON.stringify(result.stdout));
    assert.match(result.stdout, /\\x1b\]0;owned\\x07|\\u001b\]0;owned\\u0007/, result.stdout);
  }
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
