/**
 * What a first boot of the box meets, checked as data: the release's JVMs sized from their limits, Kafka's tools
 * with a heap of their own, the request that says the API serves, the topics before the apps, and every NodePort
 * the box renders pinned.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BOX_PLATFORM_OPTIONS, PORT_CHAIN, boxFacts, boxFactsEnv, type PlatformOptions, platformObjects, renderPlatform, resolveOptions } from '../src/index.ts';
import { API_SERVER_PORTS, NODE_PORT_RANGE, VM_OWN_PORTS } from '../src/port-chain.ts';
import { BOX_TUNNEL_OPTIONS } from '../src/platform.ts';
import { CORE_API_READY, CORE_COMPONENTS, CORE_MANAGED_LABEL } from '../src/airy-core.ts';
import { KAFKA_CLIENT_HEAP, SPRING_MIN_OFF_HEAP_MIB, SPRING_MIN_WORKING_HEAP_MIB, springMemory } from '../src/components/jvm.ts';
import { lifecycleJobs } from '../src/lifecycle.ts';
import { routes } from '../src/components/ingress.ts';
import { parseMemory } from '../src/quantity.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read deep into rendered objects.
type Any = any;
const everything: PlatformOptions = { ...BOX_PLATFORM_OPTIONS, componentsInstaller: true, sources: ['facebook', 'google', 'twilio'] };
const profiles: [string, PlatformOptions][] = [
  ['local', everything],
  ['production', { ...everything, profile: 'production' }],
];
const MiB = 2 ** 20;
const env = (container: Any, name: string): string | undefined => container.env?.find((e: Any) => e.name === name)?.value;
const option = (options: string, flag: string) => Number(new RegExp(`${flag.replace(/[+]/g, '\\+')}(\\d+)`).exec(options)?.[1]);

for (const [profile, options] of profiles) {
  test(`jvm (${profile}): every release Java app has explicit JVM sizes that fit its limit with room off the heap`, () => {
    const deployments = (platformObjects(renderPlatform(options)) as Any[]).filter((o) => o.kind === 'Deployment' && o.metadata.labels?.[CORE_MANAGED_LABEL.key]);
    const java = new Set(CORE_COMPONENTS.filter((c) => c.kind === 'spring').map((c) => c.name));
    let seen = 0;
    for (const d of deployments) {
      const app = d.spec.template.spec.containers.find((c: Any) => c.name === 'app');
      const tool = env(app, 'JAVA_TOOL_OPTIONS');
      const isJava = java.has(d.metadata.name) || /-(connector|events-router)$/.test(d.metadata.name);
      if (!isJava) {
        assert.is(tool, undefined, `${d.metadata.name} is not a JVM`);
        continue;
      }
      seen++;
      assert.ok(tool, `${d.metadata.name} has no JAVA_TOOL_OPTIONS`);
      const limitMiB = parseMemory(app.resources.limits.memory) / MiB;
      const plan = springMemory(app.resources);
      const heap = option(tool as string, '-Xmx');
      assert.is(heap, plan.heapMiB, d.metadata.name);
      // Every region the JVM can cap is capped, and what it cannot (RocksDB, stacks, GC) keeps its room.
      const capped = heap + option(tool as string, '-XX:MaxMetaspaceSize=') + option(tool as string, '-XX:ReservedCodeCacheSize=') + option(tool as string, '-XX:MaxDirectMemorySize=');
      assert.ok(capped + SPRING_MIN_OFF_HEAP_MIB <= limitMiB, `${d.metadata.name}: ${capped} MiB capped + ${SPRING_MIN_OFF_HEAP_MIB} off-heap > ${limitMiB} MiB`);
      assert.ok(heap < limitMiB * 0.6, `${d.metadata.name}: a heap of ${heap} of ${limitMiB} MiB leaves too little for RocksDB`);
      // The JVM cannot read the CPU limit either (cgroup v2, OpenJDK 11.0.9).
      assert.is(option(tool as string, '-XX:ActiveProcessorCount='), Math.max(1, Math.ceil(Number.parseFloat(app.resources.limits.cpu))));
      assert.ok((tool as string).includes('-XX:+ExitOnOutOfMemoryError'));
      // Kafka Streams' record cache lives on that heap: sized from it (the release's 1000 MiB would not fit), and
      // the app keeps a working heap beside it.
      const cacheMiB = Number(env(app, 'KAFKA_CACHE_MAX_BYTES')) / MiB;
      assert.is(cacheMiB, plan.recordCacheMiB, `${d.metadata.name}: KAFKA_CACHE_MAX_BYTES`);
      assert.ok(Number.isInteger(cacheMiB) && cacheMiB >= 8, `${d.metadata.name}: a record cache of ${cacheMiB} MiB`);
      assert.ok(cacheMiB + SPRING_MIN_WORKING_HEAP_MIB <= heap, `${d.metadata.name}: ${cacheMiB} MiB cache + ${SPRING_MIN_WORKING_HEAP_MIB} MiB working > ${heap} MiB heap`);
    }
    assert.is(seen, CORE_COMPONENTS.filter((c) => c.kind === 'spring').length + 6, 'the five mandatory Spring apps and both Deployments of the three sources');
  });
}

/**
 * The pods a Deployment needs available to be `Available`, as the deployment controller reckons it
 * (`replicas - MaxUnavailable`; MaxUnavailable is 0 unless RollingUpdate, whose default is 25%, rounded down,
 * and 1 when both it and the surge resolve to 0).
 */
function neededForAvailable(d: Any): number {
  const replicas = d.spec.replicas ?? 1;
  const type = d.spec.strategy?.type ?? 'RollingUpdate';
  if (type !== 'RollingUpdate' || replicas === 0) return replicas;
  const resolve = (v: number | string | undefined, fallback: string, up: boolean) => {
    const value = v ?? fallback;
    if (typeof value === 'number') return value;
    const share = (Number.parseInt(value, 10) * replicas) / 100;
    return up ? Math.ceil(share) : Math.floor(share);
  };
  const surge = resolve(d.spec.strategy?.rollingUpdate?.maxSurge, '25%', true);
  let unavailable = resolve(d.spec.strategy?.rollingUpdate?.maxUnavailable, '25%', false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return replicas - Math.min(unavailable, replicas);
}

for (const [profile, options] of profiles) {
  test(`rollout (${profile}): a single-replica Deployment is Available only with its pod ready; singletons never run twice`, () => {
    const withApps: PlatformOptions = {
      ...options,
      ngrok: { enabled: true },
      apps: [
        { name: 'billing', image: 'example/billing:1.4.2', port: 9000, replicas: 1 },
        { name: 'search', image: 'example/search:2.0.0', port: 9000, replicas: 2 },
      ],
    };
    const deployments = (platformObjects(renderPlatform(withApps)) as Any[]).filter((o) => o.kind === 'Deployment');
    assert.ok(deployments.length >= 12, 'the release, its sources, the Schema Registry, ngrok and the users’ apps');
    for (const d of deployments) {
      const replicas = d.spec.replicas ?? 1;
      const needed = neededForAvailable(d);
      if (replicas === 1) assert.is(needed, 1, `${d.metadata.name}: Available with ${needed} of 1 pods ready`);
      else assert.ok(needed >= 1, `${d.metadata.name}: Available with no pod ready`);
      // One node: no surge (an upgrade rolls every Deployment at once; a second JVM beside each would not fit).
      if (profile === 'local') assert.is(d.spec.strategy?.type, 'Recreate', d.metadata.name);
    }
    // A second controller (no leader election) or ngrok agent (same domain) must never start beside the first.
    for (const name of ['airy-controller', 'api-components-installer', 'ngrok']) {
      assert.is(deployments.find((d) => d.metadata.name === name)?.spec.strategy?.type, 'Recreate', name);
    }
    if (profile === 'production') {
      const admin = deployments.find((d) => d.metadata.name === 'api-admin');
      assert.equal(admin.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } });
      assert.equal(deployments.find((d) => d.metadata.name === 'billing').spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
    }
  });
}

test('jvm: Kafka’s tools beside a broker (the topics Job, readiness) run with their own small heap, which fits beside the broker’s', () => {
  const objects = platformObjects(renderPlatform(BOX_PLATFORM_OPTIONS)) as Any[];
  const job = objects.find((o) => o.kind === 'Job');
  assert.is(env(job.spec.template.spec.containers[0], 'KAFKA_HEAP_OPTS'), KAFKA_CLIENT_HEAP);
  assert.is(boxFacts().kafka.clientHeap, KAFKA_CLIENT_HEAP);
  const broker = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'kafka').spec.template.spec.containers[0];
  const brokerHeap = option(env(broker, 'KAFKA_HEAP_OPTS') as string, '-Xmx');
  const limitMiB = parseMemory(broker.resources.limits.memory) / MiB;
  assert.ok(brokerHeap + option(KAFKA_CLIENT_HEAP, '-Xmx') <= limitMiB * 0.75, 'the broker and a probe fit in the broker’s container');
  // No shell syntax: the probe passes it through `kubectl exec -- env KAFKA_HEAP_OPTS=…`.
  assert.match(KAFKA_CLIENT_HEAP, /^[-A-Za-z0-9]+$/);
});

test('apps: the API readiness request is a route of the release’s api-admin, and the app tier is found by the release’s label', () => {
  const route = routes(resolveOptions(BOX_PLATFORM_OPTIONS)).find((r: Any) => r.path === CORE_API_READY.path || CORE_API_READY.path.startsWith(r.path));
  assert.ok(route, `${CORE_API_READY.path} is routed`);
  assert.is((route as Any).service, 'api-admin');
  assert.equal(boxFacts().apps, { selector: 'core.airy.co/managed=true', api: { method: 'POST', path: '/client.config', body: '{}', status: 200 } });
});

test('topics: the box knows the topics Job’s file, so provisioning reruns it and waits for it before the apps', () => {
  const platform = renderPlatform(BOX_PLATFORM_OPTIONS);
  assert.equal(lifecycleJobs(platform), [{ file: 'topics.yaml', component: 'kafka-topics' }]);
  assert.match(boxFactsEnv(), /^AIRY_JOBS='topics\.yaml:kafka-topics'$/m);
  const files = platform.components.map((c) => c.file);
  assert.ok(files.indexOf('topics.yaml') < files.indexOf('airy-core.yaml'), 'topics come before the apps');
});

test('node ports: every NodePort the box renders is pinned, inside the range, and the range holds none of the VM’s own ports', () => {
  const platform = renderPlatform({ ...BOX_TUNNEL_OPTIONS, sources: ['facebook', 'google', 'twilio'] });
  const services = (platformObjects(platform) as Any[]).filter((o) => o.kind === 'Service' && o.spec?.type && o.spec.type !== 'ClusterIP');
  const gateway = (platform.istioOperator as Any).spec.components.ingressGateways.flatMap((g: Any) => g.k8s.service.ports);
  const ports = [...services.flatMap((s) => s.spec.ports), ...gateway];
  assert.ok(ports.length >= 2, 'the gateway’s NodePorts are found');
  const [low, high] = NODE_PORT_RANGE.split('-').map(Number) as [number, number];
  for (const p of ports) {
    assert.type(p.nodePort, 'number', `${p.name} has no pinned nodePort: Kubernetes would pick one`);
    assert.ok(p.nodePort >= low && p.nodePort <= high, `${p.name}: ${p.nodePort} outside ${NODE_PORT_RANGE}`);
  }
  assert.equal(gateway.map((p: Any) => p.nodePort).sort((a: number, b: number) => a - b), [PORT_CHAIN.http.nodePort, PORT_CHAIN.https.nodePort]);
  // A Service a user adds gets any free port of the range: none may be one the VM itself listens on.
  for (const own of VM_OWN_PORTS) assert.ok(own < low || own > high, `${own} is in ${NODE_PORT_RANGE}`);
  assert.ok(VM_OWN_PORTS.includes(API_SERVER_PORTS.vm) && VM_OWN_PORTS.includes(10250) && VM_OWN_PORTS.includes(2379));
  assert.is(boxFacts().ports.nodePortRange, NODE_PORT_RANGE);
});

test('minikube home and volumes: one home Minikube takes as is, PersistentVolumes on the disk over the provisioner’s /tmp folder', () => {
  const facts = boxFacts();
  // Minikube uses MINIKUBE_HOME itself when its last element is ".minikube", else MINIKUBE_HOME/.minikube.
  assert.match(facts.minikubeHome, /^\/root\/\.minikube$/);
  assert.is(facts.volumes.provisioner, '/tmp/hostpath-provisioner', 'where minikube’s storage-provisioner writes (fixed in its code)');
  assert.match(facts.volumes.persistent, /^\/var\/lib\//, 'on the disk, not emptied at boot');
  const env = boxFactsEnv();
  for (const line of ["AIRY_MINIKUBE_HOME='/root/.minikube'", "AIRY_VOLUMES_DIR='/var/lib/airy/volumes'", "AIRY_PROVISIONER_DIR='/tmp/hostpath-provisioner'"]) assert.ok(env.includes(line), line);
});

test.run();
