/**
 * The platform against the Airy Core release it claims to run (a fixture of facts from the release's charts), and
 * the box's guarantees: the ingress is reachable by construction, the box holds every image, the requests fit the
 * node, every Secret a pod reads exists.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AIRY_CORE_RELEASE, BOX_PLATFORM_OPTIONS, boxFacts, boxImages, KUBERNETES_IMAGES, type KubeObject, nodeBudget, PORT_CHAIN, type PlatformOptions, platformObjects, renderPlatform, resolveOptions } from '../src/index.ts';
import { BOX_TUNNEL_OPTIONS } from '../src/platform.ts';
import { COMPONENTS_INSTALLER, CORE_COMPONENTS } from '../src/airy-core.ts';
import { IMAGES, ISTIO_IMAGES } from '../src/versions.ts';
import { LOCAL_VM } from '../src/sizing.ts';
import { PortChainError, walkIngress } from '../src/ingress-walk.ts';
import { routes } from '../src/components/ingress.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read deep into rendered objects and the fixture.
type Any = any;
const FIXTURE: Any = JSON.parse(readFileSync(new URL('./fixtures/airy-core-0.54.0.json', import.meta.url), 'utf8'));
const box = renderPlatform(BOX_PLATFORM_OPTIONS);
const objects = platformObjects(box) as Any[];
// The release as a cluster of your own runs it: the box leaves its components installer out (see below).
const release = renderPlatform({ ...BOX_PLATFORM_OPTIONS, componentsInstaller: true });
const releaseObjects = platformObjects(release) as Any[];
const find = (list: Any[], kind: string, name: string): Any => list.find((o) => o.kind === kind && o.metadata?.name === name);
const appContainer = (d: Any) => d.spec.template.spec.containers.find((c: Any) => c.name === 'app');

test('the fixture and the platform name the same release', () => {
  assert.is(FIXTURE.source.tag, AIRY_CORE_RELEASE.tag);
  assert.is(FIXTURE.registry, AIRY_CORE_RELEASE.registry);
});

for (const c of FIXTURE.components) {
  test(`release ${c.name}: image, ConfigMaps, env, args, account, probe, init wait, Service (${c.from})`, () => {
    const deployment = find(releaseObjects, 'Deployment', c.name);
    assert.ok(deployment, `${c.name} is rendered`);
    const app = appContainer(deployment);
    assert.is(app.image, `${FIXTURE.registry}/${c.image}:${FIXTURE.imageTag}`);
    assert.equal(app.envFrom.map((e: Any) => e.configMapRef.name), c.envFrom, 'envFrom, in order');
    for (const [name, how] of Object.entries<Any>(c.env)) {
      const e = (app.env ?? []).find((x: Any) => x.name === name);
      assert.ok(e, `env ${name}`);
      if (how.value !== undefined) assert.is(e.value, how.value, name);
      if (how.field !== undefined) assert.is(e.valueFrom.fieldRef.fieldPath, how.field, name);
      if (how.resource !== undefined) assert.is(e.valueFrom.resourceFieldRef.resource, how.resource, name);
    }
    assert.equal(app.args, c.args);
    assert.is(deployment.spec.template.spec.serviceAccountName, c.serviceAccount);
    if (c.liveness) {
      const probe = app.livenessProbe;
      const [header, value] = c.liveness.httpGet.header.split(': ');
      assert.is(probe.httpGet.path, c.liveness.httpGet.path);
      assert.is(probe.httpGet.port, c.liveness.httpGet.port);
      assert.equal(probe.httpGet.httpHeaders, [{ name: header, value }]);
      for (const k of ['initialDelaySeconds', 'periodSeconds', 'failureThreshold']) assert.is(probe[k], c.liveness[k], k);
    }
    if (c.resources) assert.equal(app.resources, c.resources);
    for (const [path, configMap] of Object.entries<string>(c.mounts ?? {})) {
      const mount = app.volumeMounts.find((m: Any) => m.mountPath === path);
      const volume = deployment.spec.template.spec.volumes.find((v: Any) => v.name === mount.name);
      assert.is(volume.configMap.name, configMap);
    }
    const wait = (deployment.spec.template.spec.initContainers ?? []).find((i: Any) => i.name === 'wait');
    assert.is(Boolean(wait), c.initWait, 'init wait for Kafka');
    if (wait) {
      assert.equal(wait.command, ['/bin/sh', '/opt/provisioning/wait-for-minimum-kafkas.sh']);
      assert.equal(wait.envFrom, [{ configMapRef: { name: 'kafka-config' } }]);
      const volume = deployment.spec.template.spec.volumes.find((v: Any) => v.name === wait.volumeMounts[0].name);
      assert.is(volume.configMap.name, 'provisioning-scripts');
    }
    const service = find(releaseObjects, 'Service', c.name);
    assert.is(service.spec.ports[0].port, c.service.port);
    const target = app.ports.find((p: Any) => p.name === service.spec.ports[0].targetPort);
    assert.is(target.containerPort, c.service.targetPort);
    const labels = deployment.metadata.labels;
    for (const l of FIXTURE.componentLabels) assert.ok(labels[l], `label ${l}`);
    assert.is(deployment.spec.template.metadata.labels.app, c.name, 'the pod label the apps read (KUBERNETES_APP)');
  });
}

test('release: every mandatory component runs, with its component ConfigMap labelled and enabled', () => {
  for (const name of FIXTURE.mandatory) {
    const cm = find(releaseObjects, 'ConfigMap', name);
    assert.ok(cm, `${name} ConfigMap`);
    assert.is(cm.metadata.labels['core.airy.co/mandatory'], 'true');
    assert.is(cm.metadata.annotations['core.airy.co/enabled'], 'true');
  }
});

test('release: the shared ConfigMaps hold the release keys and values', () => {
  for (const [name, spec] of Object.entries<Any>(FIXTURE.configMaps)) {
    const cm = find(objects, 'ConfigMap', name);
    assert.ok(cm, name);
    assert.equal(Object.keys(cm.data ?? {}).filter((k) => spec.keys.includes(k)).sort(), [...spec.keys].sort(), `${name} keys`);
    for (const [k, v] of Object.entries(spec.values ?? {})) assert.is(cm.data[k], v, `${name}.${k}`);
    for (const k of Object.keys(spec.omitted ?? {})) assert.is(cm.data?.[k], undefined, `${name}.${k} is left out`);
  }
  const kafka = find(objects, 'ConfigMap', 'kafka-config').data;
  assert.match(kafka.KAFKA_BROKERS, /:9092$/);
  const script = find(objects, 'ConfigMap', 'provisioning-scripts').data['wait-for-minimum-kafkas.sh'];
  assert.match(script, 'nc -w 1 -z');
});

test('release: every topic with its partitions, compaction and segment settings', () => {
  const job = objects.find((o) => o.kind === 'Job');
  const script: string = job.spec.template.spec.containers[0].command[2];
  const compacted = Object.entries<string>(FIXTURE.topics.compactedConfig)
    .map(([k, v]) => `--config '${k}=${v}'`)
    .join(' ');
  for (const t of FIXTURE.topics.compacted) {
    assert.match(script, `--topic '${t}' --partitions ${FIXTURE.topics.partitions} --replication-factor 1 ${compacted}\n`);
  }
  for (const t of FIXTURE.topics.plain) {
    assert.match(script, new RegExp(`--topic '${t.replaceAll('.', '\\.')}' --partitions ${FIXTURE.topics.partitions} --replication-factor 1(\n|$)`));
  }
  assert.is(script.match(/--create/g)?.length, FIXTURE.topics.compacted.length + FIXTURE.topics.plain.length);
});

test('release: every route of its Ingress objects reaches the same Service, through the whole port chain', () => {
  for (const [path, service] of Object.entries<string>(FIXTURE.routes.rendered)) {
    const hops = walkIngress(release, { path, host: 'airy.core' });
    assert.is(hops.at(-1)?.at, `Deployment ${service}`, path);
  }
  // Paths of the release's optional components that are not rendered have no route (no catch-all: `/` is exact).
  for (const path of FIXTURE.routes.optionalNotRendered) {
    assert.throws(() => walkIngress(release, { path, host: 'airy.core' }), /no VirtualService route takes/, path);
  }
});

test('release: the box leaves the components installer out (it clones its catalog from GitHub at start); the option brings it back', () => {
  const installer = CORE_COMPONENTS.find((c) => c.name === COMPONENTS_INSTALLER) as Any;
  // The release's installer is told to clone this repository (its GitHandler does so on ApplicationReadyEvent).
  assert.equal(installer.env.find((e: Any) => e.name === 'CATALOG_URI'), { name: 'CATALOG_URI', value: 'https://github.com/airyhq/catalog.git' });
  for (const [kind, name] of [['Deployment', COMPONENTS_INSTALLER], ['Service', COMPONENTS_INSTALLER], ['ConfigMap', COMPONENTS_INSTALLER], ['ServiceAccount', 'airy-admin'], ['RoleBinding', 'airy-admin']] as const) {
    assert.not.ok(find(objects, kind, name), `the box renders no ${kind} ${name}`);
    assert.ok(find(releaseObjects, kind, name), `componentsInstaller: true renders ${kind} ${name}`);
  }
  for (const path of installer.routes.map((r: Any) => r.path)) {
    assert.throws(() => walkIngress(box, { path, host: 'airy.core' }), /no VirtualService route takes/, path);
  }
  assert.not.ok(boxImages().some((i) => i.includes(installer.image)), 'its image is not pre-pulled');
  assert.is(boxFacts().tiers.flatMap((t: Any) => t.workloads).includes(`deployment/${COMPONENTS_INSTALLER}`), false);
  // Every other mandatory component still runs in the box; and a cluster of your own keeps the installer by default.
  for (const c of CORE_COMPONENTS.filter((c) => c.name !== COMPONENTS_INSTALLER)) assert.ok(find(objects, 'Deployment', c.name), c.name);
  assert.ok(resolveOptions({}).core.components.some((c) => c.name === COMPONENTS_INSTALLER));
  assert.throws(() => resolveOptions({ componentsInstaller: 'no' as Any }), /componentsInstaller: must be true or false/);
});

test('release: the optional sources, when enabled, run both Deployments with credentials from their own Secret', () => {
  const platform = renderPlatform({ ...BOX_PLATFORM_OPTIONS, sources: ['facebook', 'google', 'twilio'] });
  const all = platformObjects(platform) as Any[];
  for (const [source, spec] of Object.entries<Any>(FIXTURE.sources)) {
    for (const d of spec.deployments) assert.ok(find(all, 'Deployment', d), d);
    const connector = appContainer(find(all, 'Deployment', spec.deployments[0]));
    for (const [name, key] of Object.entries(spec.credentials)) {
      const e = connector.env.find((x: Any) => x.name === name);
      assert.equal(e.valueFrom.secretKeyRef, { name: `sources-${source}`, key }, name);
    }
    assert.not.ok(find(objects, 'Deployment', spec.deployments[0]), `${source} is off by default (mandatory: false)`);
  }
  for (const [path, service] of Object.entries<string>(FIXTURE.routes.sources)) {
    assert.is(walkIngress(platform, { path, host: 'airy.core' }).at(-1)?.at, `Deployment ${service}`, path);
  }
  // A tunnel forwards with its own host name; only the webhook paths answer on it.
  assert.is(walkIngress(platform, { path: '/facebook', host: 'abc.ngrok-free.app' }).at(-1)?.at, 'Deployment sources-facebook-connector');
  assert.throws(() => walkIngress(platform, { path: '/users.list', host: 'abc.ngrok-free.app' }), (e: unknown) => e instanceof PortChainError);
});

test('port chain: host port → VM port → NodePort → Gateway → route → Service → container, for every route', () => {
  for (const r of routes(resolveOptions(BOX_PLATFORM_OPTIONS))) {
    const path = r.match === 'exact' ? r.path : `${r.path}x`;
    const hops = walkIngress(box, { path, host: 'airy.core' });
    assert.equal(hops.slice(0, 4).map((h) => h.port), [PORT_CHAIN.http.host, PORT_CHAIN.http.vm, PORT_CHAIN.http.nodePort, 80]);
    assert.is(hops.at(-1)?.at, `Deployment ${r.service}`, path);
  }
  const facts = boxFacts();
  assert.equal(facts.ports.http, { host: PORT_CHAIN.http.host, vm: PORT_CHAIN.http.vm });
  assert.equal(facts.ports.https, { host: PORT_CHAIN.https.host, vm: PORT_CHAIN.https.vm });
  const [low] = facts.ports.nodePortRange.split('-').map(Number);
  assert.ok((low as number) <= PORT_CHAIN.http.nodePort, 'the NodePort range allows the gateway’s ports');
});

test('port chain: a broken link is found, and named', () => {
  const broken = (edit: (p: Any) => void) => {
    const copy: Any = structuredClone(box);
    edit(copy);
    return () => walkIngress(copy, { path: '/conversations.list', host: 'airy.core' });
  };
  assert.throws(broken((p) => { p.istioOperator.spec.components.ingressGateways[0].k8s.service.ports[0].nodePort = 30080; }), /no ingress gateway NodePort is 80/);
  const objectsOf = (p: Any) => p.components.flatMap((c: Any) => c.objects);
  assert.throws(broken((p) => { find(objectsOf(p), 'Gateway', 'airy-core').spec.servers[0].port.number = 8080; }), /no Gateway listens on 80/);
  assert.throws(broken((p) => { find(objectsOf(p), 'Service', 'api-communication').spec.ports[0].port = 8080; }), /has no port 80/);
  assert.throws(broken((p) => { appContainer(find(objectsOf(p), 'Deployment', 'api-communication')).ports[0].name = 'web'; }), /has no port http/);
  assert.throws(() => walkIngress(box, { path: '/x', host: 'other.example' }), /no Gateway listens on 80 for other.example/);
});

/** Every image any pod of the rendered platform runs: containers, init containers, Jobs, and Istio's. */
function imagesRun(platform: ReturnType<typeof renderPlatform>): string[] {
  const found = new Set<string>();
  const walk = (value: Any, key?: string) => {
    if (Array.isArray(value)) for (const v of value) walk(v, key);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
    else if (key === 'image' && typeof value === 'string') found.add(value);
  };
  walk(platformObjects(platform));
  const op: Any = platform.istioOperator;
  found.add(`${op.spec.hub}/pilot:${op.spec.tag}`);
  if (op.spec.components.ingressGateways.some((g: Any) => g.enabled)) found.add(`${op.spec.hub}/proxyv2:${op.spec.tag}`);
  return [...found];
}

test('images: the box holds every image a rendered pod runs, its optional tunnel and Kubernetes’ own', () => {
  const held = new Set(boxImages());
  for (const options of [BOX_PLATFORM_OPTIONS, BOX_TUNNEL_OPTIONS] as PlatformOptions[]) {
    for (const image of imagesRun(renderPlatform(options))) assert.ok(held.has(image), `${image} is pre-pulled`);
  }
  for (const image of KUBERNETES_IMAGES) assert.ok(held.has(image), image);
  for (const image of [IMAGES.busybox, IMAGES.ngrok, ISTIO_IMAGES.pilot, ISTIO_IMAGES.proxy]) assert.ok(held.has(image), image);
  for (const image of held) assert.match(image, /^[a-z0-9.-]+\.[a-z]+\/[^:]+:[\w.-]+$/, `${image} is fully qualified and pinned`);
  // The check can fail: an image nobody pre-pulls is found.
  const extra = renderPlatform({ ...BOX_PLATFORM_OPTIONS, apps: [{ name: 'mine', image: 'docker.io/me/mine:1.0.0', port: 8080 }] });
  assert.ok(imagesRun(extra).some((i) => !held.has(i)));
});

test('sizing: the box’s requests fit its node, with Istio and Kubernetes’ own pods', () => {
  const budget = nodeBudget(BOX_PLATFORM_OPTIONS);
  assert.ok(budget.fits, JSON.stringify(budget.requests.total));
  assert.ok(nodeBudget(BOX_TUNNEL_OPTIONS).fits, 'with the tunnel too');
  assert.is(budget.allocatable.memoryBytes, LOCAL_VM.memoryMiB * 2 ** 20 - LOCAL_VM.reserved.memoryBytes);
  assert.is(budget.requests.istio.memoryBytes, (256 + 128) * 2 ** 20, 'istiod and the gateway, from the IstioOperator');
  const facts = boxFacts();
  const total = facts.resources.requests.memoryBytes + facts.vm.system.memoryBytes + facts.vm.reserved.memoryBytes;
  assert.ok(total <= facts.vm.memoryMiB * 2 ** 20, 'the facts bootstrap checks say the same');
  // The check can fail: a smaller VM does not fit.
  assert.not.ok(nodeBudget(BOX_PLATFORM_OPTIONS, { cpus: 2, memoryMiB: 4096 }).fits);
});

/** Every Secret a pod of `objects` reads: env, envFrom and volumes. */
function secretsRead(list: KubeObject[]): Set<string> {
  const names = new Set<string>();
  const walk = (value: Any) => {
    if (Array.isArray(value)) for (const v of value) walk(v);
    else if (value && typeof value === 'object') {
      if (value.secretKeyRef?.name) names.add(value.secretKeyRef.name);
      if (value.secretRef?.name) names.add(value.secretRef.name);
      if (value.secret?.secretName) names.add(value.secret.secretName);
      for (const v of Object.values(value)) walk(v);
    }
  };
  walk(list.map((o: Any) => o.spec));
  return names;
}

test('secrets: every Secret a box pod reads is rendered or created by the box at first boot', () => {
  const facts = boxFacts();
  const createdAtBoot = new Set([facts.postgres.secret]);
  const rendered = new Set(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name));
  for (const name of secretsRead(objects)) assert.ok(rendered.has(name) || createdAtBoot.has(name), `${name} exists`);
  assert.ok(secretsRead(objects).has(facts.postgres.secret), 'the check sees the database Secret');
  // The tunnel's pod reads the ngrok Secret: the box starts it only once bootstrap has handed over a token.
  const tunnel = secretsRead(platformObjects(renderPlatform(BOX_TUNNEL_OPTIONS)));
  assert.ok(tunnel.has(facts.ngrok.secret));
  assert.not.ok(secretsRead(objects).has(facts.ngrok.secret), 'no ngrok pod in the default set');
});

test.run();
