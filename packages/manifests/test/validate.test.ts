import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { runBin } from '../../../tools/testing/cli.ts';
import { formatProblem, type KubeObject, readManifests, validateDocuments } from '../src/index.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: fixtures are mutated freely.
type Any = any;

/** A small, valid app: a Deployment, its Service, a Secret and ConfigMap it reads, and an Istio route to it. */
function fixture(): Any[] {
  const container = {
    name: 'web',
    image: 'example/web:1.0.0',
    ports: [{ name: 'http', containerPort: 8080 }],
    env: [
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'web-secret', key: 'token' } } },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'web-config', key: 'mode' } } },
    ],
    readinessProbe: { httpGet: { path: '/', port: 'http' } },
    livenessProbe: { httpGet: { path: '/', port: 'http' } },
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
  };
  return [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-secret', namespace: 'demo' }, stringData: { token: 'x' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: 'demo' }, data: { mode: 'fast' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'demo' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'demo' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: 'demo' },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'web', namespace: 'demo' },
      spec: {
        hosts: ['*'],
        gateways: ['gw'],
        http: [{ route: [{ destination: { host: 'web.demo.svc.cluster.local', port: { number: 80 } } }] }],
      },
    },
  ];
}

const DEPLOYMENT = 2;
const SERVICE = 3;
const VIRTUAL_SERVICE = 5;

async function problemsOf(objects: Any[]): Promise<string[]> {
  const docs = objects.map((object: KubeObject, index) => ({ file: 'f.yaml', index, object }));
  return (await validateDocuments(docs)).problems.map(formatProblem);
}

test('the fixture itself is clean', async () => {
  assert.equal(await problemsOf(fixture()), []);
});

const broken: [string, (f: Any[]) => void, string][] = [
  [
    'schema: a wrong type',
    (f) => {
      f[DEPLOYMENT].spec.replicas = 'two';
    },
    'f.yaml:2:spec.replicas: must be integer',
  ],
  [
    'a Service selector matching no pod template',
    (f) => {
      f[SERVICE].spec.selector = { app: 'wbe' };
    },
    'f.yaml:3:spec.selector: selector app=wbe matches no pod template in namespace demo',
  ],
  [
    'a Service targetPort missing on the container',
    (f) => {
      f[SERVICE].spec.ports[0].targetPort = 9090;
    },
    'f.yaml:3:spec.ports[0].targetPort: target port 9090 is not a port of the selected containers',
  ],
  [
    'a VirtualService destination that is no Service',
    (f) => {
      f[VIRTUAL_SERVICE].spec.http[0].route[0].destination.host = 'api.demo.svc.cluster.local';
    },
    'f.yaml:5:spec.http[0].route[0].destination.host: Service demo/api does not exist',
  ],
  [
    'a VirtualService destination port the Service lacks',
    (f) => {
      f[VIRTUAL_SERVICE].spec.http[0].route[0].destination.port.number = 8081;
    },
    'f.yaml:5:spec.http[0].route[0].destination.port.number: Service demo/web has no port 8081',
  ],
  [
    'a VirtualService naming a missing Gateway',
    (f) => {
      f[VIRTUAL_SERVICE].spec.gateways = ['other'];
    },
    'f.yaml:5:spec.gateways[0]: Gateway demo/other does not exist',
  ],
  [
    'a secretKeyRef to a missing Secret',
    (f) => {
      f[DEPLOYMENT].spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name = 'nope';
    },
    'f.yaml:2:spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef: Secret demo/nope does not exist: add it, or mark the reference optional (or list it in the pod annotation airy.co/external-secrets)',
  ],
  [
    'a secretKeyRef to a missing key',
    (f) => {
      f[DEPLOYMENT].spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.key = 'password';
    },
    'f.yaml:2:spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef: Secret demo/web-secret has no key "password"',
  ],
  [
    'a configMapKeyRef to a missing ConfigMap',
    (f) => {
      f.splice(1, 1, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', namespace: 'demo' }, data: {} });
    },
    'f.yaml:2:spec.template.spec.containers[0].env[1].valueFrom.configMapKeyRef: ConfigMap demo/web-config does not exist: add it, or mark the reference optional',
  ],
  [
    'a container without probes',
    (f) => {
      delete f[DEPLOYMENT].spec.template.spec.containers[0].readinessProbe;
    },
    'f.yaml:2:spec.template.spec.containers[0].readinessProbe: container web has no readiness probe',
  ],
  [
    'a container without limits',
    (f) => {
      delete f[DEPLOYMENT].spec.template.spec.containers[0].resources.limits;
    },
    'f.yaml:2:spec.template.spec.containers[0].resources.limits: container web sets no limits for cpu and memory',
  ],
  [
    'two objects with one kind, namespace and name',
    (f) => {
      f.push(structuredClone(f[SERVICE]));
    },
    'f.yaml:6:metadata.name: Service demo/web is already defined at f.yaml:3',
  ],
  [
    'an image on latest',
    (f) => {
      f[DEPLOYMENT].spec.template.spec.containers[0].image = 'example/web:latest';
    },
    'f.yaml:2:spec.template.spec.containers[0].image: image "example/web:latest" uses latest: pin an exact tag',
  ],
  [
    'an image without a tag',
    (f) => {
      f[DEPLOYMENT].spec.template.spec.containers[0].image = 'registry:5000/web';
    },
    'f.yaml:2:spec.template.spec.containers[0].image: image "registry:5000/web" has no tag: pin an exact tag',
  ],
  [
    'a name the API server refuses (not a DNS-1123 subdomain)',
    (f) => {
      f.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Web_Config', namespace: 'demo' }, data: {} });
    },
    'f.yaml:6:metadata.name: "Web_Config" is not a valid ConfigMap name: it must be a DNS-1123 subdomain (lowercase letters, digits, "-" and ".", at most 253)',
  ],
  [
    'a Service name that is no DNS-1035 label (a dot, or a leading digit)',
    (f) => {
      f.push({ ...structuredClone(f[SERVICE]), metadata: { name: '1web', namespace: 'demo' } });
    },
    'f.yaml:6:metadata.name: "1web" is not a valid Service name: it must be a DNS-1035 label (lowercase letters, digits and "-", starting with a letter, at most 63)',
  ],
  [
    "a Deployment whose selector does not select its own template",
    (f) => {
      f[DEPLOYMENT].spec.selector.matchLabels.tier = 'front';
    },
    "f.yaml:2:spec.selector.matchLabels.tier: selects tier=front, which the pod template's labels do not have: the API server refuses it",
  ],
];

for (const [name, breakIt, expected] of broken) {
  test(`caught: ${name}`, async () => {
    const f = fixture();
    breakIt(f);
    assert.equal(await problemsOf(f), [expected]);
  });
}

test('optional references and Secrets declared external are accepted', async () => {
  const f = fixture();
  const env = f[DEPLOYMENT].spec.template.spec.containers[0].env;
  env[0].valueFrom.secretKeyRef = { name: 'made-by-installer', key: 'k' };
  env[1].valueFrom.configMapKeyRef = { name: 'maybe', key: 'k', optional: true };
  f[DEPLOYMENT].spec.template.metadata.annotations = { 'airy.co/external-secrets': 'made-by-installer' };
  assert.equal(await problemsOf(f), []);
});

test('CLI: validate prints file:document:path lines and exits 1; clean input exits 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-validate-'));
  try {
    const good = fixture();
    writeFileSync(join(dir, 'good.yaml'), good.map((o) => stringify(o)).join('---\n'));
    const clean = runBin(packageDir, ['validate', dir]);
    assert.is(clean.status, 0, clean.stdout + clean.stderr);
    assert.is(clean.stdout, '');

    const bad = fixture();
    bad[SERVICE].spec.selector = { app: 'none' };
    writeFileSync(join(dir, 'bad.yaml'), `${bad.map((o) => stringify(o)).join('---\n')}---\nkind: [broken\n`);
    const run = runBin(packageDir, ['validate', join(dir, 'bad.yaml')], { cwd: dir });
    assert.is(run.status, 1);
    const lines = run.stdout.trim().split('\n');
    assert.ok(lines.some((l) => l.startsWith('bad.yaml:3:spec.selector: ')), run.stdout);
    assert.ok(lines.some((l) => /^bad\.yaml:6:\$: YAML: /.test(l)), run.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readManifests: a missing path is bad input, not a problem', async () => {
  await readManifests(['/nonexistent/airy.yaml']).then(
    () => assert.unreachable('should have thrown'),
    (e: Error) => assert.match(e.message, 'cannot read /nonexistent/airy.yaml: no such file or folder'),
  );
  const run = runBin(packageDir, ['validate', '/nonexistent/airy.yaml']);
  assert.is(run.status, 2);
  assert.is(run.stderr.trim().split('\n').length, 1);
});

test('one pod walk: validate and the escalation check name the same place in a Pod, a Deployment and a CronJob', async () => {
  const { escalations } = await import('../src/index.ts');
  const pod = { hostNetwork: true, containers: [{ name: 'c', image: 'busybox' }] };
  const objects: [KubeObject, string][] = [
    [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: pod }, 'spec'],
    [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: pod } } }, 'spec.template.spec'],
    [{ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: { spec: pod } } } } }, 'spec.jobTemplate.spec.template.spec'],
  ];
  for (const [object, path] of objects) {
    const docs = [{ file: 'f', index: 0, object }];
    const image = (await validateDocuments(docs)).problems.find((p) => p.message.includes('has no tag'));
    assert.is(image?.path, `${path}.containers[0].image`, object.kind);
    assert.is(escalations(docs).find((p) => p.message.includes('hostNetwork'))?.path, `${path}.hostNetwork`, object.kind);
  }
});

test.run();
