import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type KubeObject, type PlatformOptions, platformImages, platformObjects, platformResources, renderFiles, renderPlatform, validateDocuments, writeRendered } from '../src/index.ts';
import { EXTERNAL_SECRETS_ANNOTATION } from '../src/components/common.ts';
import { IMAGES } from '../src/versions.ts';

const PASSWORD = 'test-password-0123456789';
const MATRIX = [
  { profile: 'local', mode: 'kraft' },
  { profile: 'local', mode: 'zookeeper' },
  { profile: 'production', mode: 'kraft' },
  { profile: 'production', mode: 'zookeeper' },
] as const;

const optionsOf = (profile: 'local' | 'production', mode: 'kraft' | 'zookeeper'): PlatformOptions => ({
  profile,
  kafka: { mode },
  postgres: { password: PASSWORD },
});

// biome-ignore lint/suspicious/noExplicitAny: tests read deep into rendered objects.
type Any = any;
const find = (objects: KubeObject[], kind: string, name: string): Any =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name);
const env = (container: Any): Record<string, string> =>
  Object.fromEntries((container.env ?? []).filter((e: Any) => 'value' in e).map((e: Any) => [e.name, e.value]));
const workloads = (objects: KubeObject[]) =>
  objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind)) as Any[];

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const hasKubectl = kubectl.status === 0;
if (!hasKubectl) console.log('skip: kubectl is not installed here; the kubectl kustomize checks are skipped');

for (const { profile, mode } of MATRIX) {
  const name = `${profile}/${mode}`;
  const platform = renderPlatform(optionsOf(profile, mode));
  const objects = platformObjects(platform);

  test(`${name}: validation finds no problem`, async () => {
    const documents = objects.map((object, index) => ({ file: 'platform', index, object }));
    documents.push({ file: 'istio', index: 0, object: platform.istioOperator });
    const report = await validateDocuments(documents);
    assert.equal(report.problems, []);
    assert.equal(report.notes, []);
  });

  test(`${name}: output is byte-identical for the same input`, () => {
    const again = renderFiles(renderPlatform(optionsOf(profile, mode)));
    assert.equal([...again], [...renderFiles(platform)]);
  });

  test(`${name}: replication follows the broker count`, () => {
    const brokers = profile === 'production' ? 3 : 1;
    const kafka = find(objects, 'StatefulSet', 'kafka');
    assert.is(kafka.spec.replicas, brokers);
    const e = env(kafka.spec.template.spec.containers[0]);
    assert.is(e.KAFKA_DEFAULT_REPLICATION_FACTOR, String(brokers));
    assert.is(e.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, String(brokers));
    assert.is(e.KAFKA_MIN_INSYNC_REPLICAS, profile === 'production' ? '2' : '1');
    const job = objects.find((o) => o.kind === 'Job') as Any;
    assert.match(job.spec.template.spec.containers[0].command[2], `--replication-factor ${brokers}`);
  });

  test(`${name}: metadata quorum matches the mode`, () => {
    const kafka = find(objects, 'StatefulSet', 'kafka');
    const e = env(kafka.spec.template.spec.containers[0]);
    if (mode === 'zookeeper') {
      const zk = find(objects, 'StatefulSet', 'zookeeper');
      assert.is(zk.spec.replicas, profile === 'production' ? 3 : 1);
      assert.is(e.KAFKA_ZOOKEEPER_CONNECT.split(',').length, zk.spec.replicas);
      assert.is(e.KAFKA_PROCESS_ROLES, undefined);
      assert.is(env(zk.spec.template.spec.containers[0]).ZOOKEEPER_SERVERS.split(';').length, zk.spec.replicas);
    } else if (profile === 'production') {
      const controllers = find(objects, 'StatefulSet', 'kafka-controller');
      assert.is(controllers.spec.replicas, 3);
      assert.is(e.KAFKA_PROCESS_ROLES, 'broker');
      assert.is(e.KAFKA_CONTROLLER_QUORUM_VOTERS.split(',').length, 3);
      assert.match(e.KAFKA_CONTROLLER_QUORUM_VOTERS, /^1000@kafka-controller-0\./);
      assert.is(find(objects, 'StatefulSet', 'zookeeper'), undefined);
    } else {
      assert.is(e.KAFKA_PROCESS_ROLES, 'broker,controller');
      assert.is(e.KAFKA_CONTROLLER_QUORUM_VOTERS, '0@kafka-0.kafka-headless.airy.svc.cluster.local:9093');
      assert.is(find(objects, 'StatefulSet', 'kafka-controller'), undefined);
    }
  });

  test(`${name}: every container is secure, sized and pinned`, () => {
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      // The release's frontends are nginx started as root: the one exception, with only nginx's capabilities.
      const nginx = w.metadata.name.startsWith('frontend-');
      assert.is(pod.securityContext.runAsNonRoot, nginx ? undefined : true, `${w.metadata.name} runs as non-root`);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        assert.is(c.securityContext.allowPrivilegeEscalation, false, `${w.metadata.name}/${c.name}`);
        assert.equal(c.securityContext.capabilities.drop, ['ALL']);
        assert.equal(c.securityContext.capabilities.add, nginx ? ['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'] : undefined);
        for (const k of ['requests', 'limits']) for (const r of ['cpu', 'memory']) assert.ok(c.resources[k][r], `${c.name} ${k}.${r}`);
        assert.not.match(c.image, /:latest$/);
        assert.match(c.image, /:[\w.-]+$/);
      }
    }
  });

  test(`${name}: JVM heap is half the memory limit`, () => {
    const kafka = find(objects, 'StatefulSet', 'kafka').spec.template.spec.containers[0];
    const limitMiB = Number.parseInt(kafka.resources.limits.memory, 10) * (kafka.resources.limits.memory.endsWith('Gi') ? 1024 : 1);
    assert.is(env(kafka).KAFKA_HEAP_OPTS, `-Xms${limitMiB / 2}m -Xmx${limitMiB / 2}m`);
  });

  test(`${name}: only the namespace's pods reach the data stores`, () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as Any[];
    const guarded = policies.map((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/name']);
    for (const c of ['kafka', 'postgres', ...(mode === 'zookeeper' ? ['zookeeper'] : [])]) assert.ok(guarded.includes(c), c);
    for (const p of policies) assert.equal(p.spec.ingress, [{ from: [{ podSelector: {} }] }]);
  });

  test(`${name}: production spreads and protects, local does not`, () => {
    const kafka = find(objects, 'StatefulSet', 'kafka');
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget') as Any[];
    if (profile === 'production') {
      assert.ok(kafka.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution);
      const covered = pdbs.map((p) => p.metadata.name);
      for (const c of ['kafka', 'schema-registry', mode === 'zookeeper' ? 'zookeeper' : 'kafka-controller']) {
        assert.ok(covered.includes(c), `PDB for ${c}`);
      }
      assert.is(kafka.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '100Gi');
    } else {
      assert.is(kafka.spec.template.spec.affinity, undefined);
      assert.is(pdbs.length, 0);
    }
  });

  if (hasKubectl) {
    test(`${name}: kubectl kustomize accepts the rendered folder`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'airy-manifests-'));
      try {
        await writeRendered(dir, renderFiles(platform));
        const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
        assert.is(run.status, 0, run.stderr);
        const kinds = [...run.stdout.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
        assert.is(kinds.length, objects.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } else {
    test.skip(`${name}: kubectl kustomize accepts the rendered folder`, () => undefined);
  }
}


test('resources sum every replica of every long-running container', () => {
  const r = platformResources({ profile: 'production' });
  // 3 brokers at 1 CPU and 3 separate controllers at 250m each.
  assert.is(r.components.kafka?.requests.cpuMillicores, 3 * 1000 + 3 * 250);
  assert.is(r.components.topics, undefined, 'the topics Job runs once and is not counted');
  const sum = Object.values(r.components).reduce((a, c) => a + c.limits.memoryBytes, 0);
  assert.is(r.limits.memoryBytes, sum);
});

test('images: exactly the pinned images, sorted and unique, per mode', () => {
  const kraft = platformImages({ profile: 'local' });
  assert.equal(kraft, [...new Set(kraft)].sort());
  assert.ok(kraft.includes(IMAGES.kafka) && kraft.includes(IMAGES.schemaRegistry) && kraft.includes(IMAGES.postgres));
  assert.ok(kraft.includes(IMAGES.ngrok), 'local runs the ngrok agent');
  assert.ok(kraft.includes(IMAGES.busybox), 'the init containers are counted');
  assert.not.ok(kraft.includes(IMAGES.zookeeper));
  assert.ok(platformImages({ profile: 'local', kafka: { mode: 'zookeeper' } }).includes(IMAGES.zookeeper));
  assert.not.ok(platformImages({ profile: 'production' }).includes(IMAGES.ngrok), 'production has no ngrok agent');
});

test('postgres: a given password goes only into the Secret; an existing Secret is referenced, not rendered', () => {
  const given = platformObjects(renderPlatform({ postgres: { password: PASSWORD } }));
  const secret = find(given, 'Secret', 'postgres-credentials');
  assert.is(secret.stringData.POSTGRES_PASSWORD, PASSWORD);
  const elsewhere = JSON.stringify(given.filter((o) => o.kind !== 'Secret'));
  assert.not.ok(elsewhere.includes(PASSWORD), 'the password appears nowhere but the Secret');

  const existing = platformObjects(renderPlatform({ postgres: { existingSecret: 'my-db' } }));
  assert.is(existing.filter((o) => o.kind === 'Secret').length, 0);
  const pg = find(existing, 'StatefulSet', 'postgres');
  assert.is(pg.spec.template.metadata.annotations[EXTERNAL_SECRETS_ANNOTATION], 'my-db');
  assert.is(env(pg.spec.template.spec.containers[0]).POSTGRES_DB, 'airy_core');
});

test('topics: the platform list, compacted where needed, plus user topics', () => {
  const objects = platformObjects(renderPlatform({ topics: [{ name: 'my.topic', partitions: 3 }] }));
  const job = objects.find((o) => o.kind === 'Job') as Any;
  const script: string = job.spec.template.spec.containers[0].command[2];
  const compacted = "--config 'cleanup.policy=compact' --config 'min.compaction.lag.ms=86400000' --config 'segment.bytes=10485760'";
  for (const t of ['messages', 'metadata', 'tags']) {
    assert.match(script, `--topic 'application.communication.${t}' --partitions 10 --replication-factor 1 ${compacted}`);
  }
  assert.match(script, "--topic 'ops.application.logs' --partitions 10 --replication-factor 1\n");
  assert.match(script, "--topic 'my.topic' --partitions 3");
  assert.match(script, /--if-not-exists/);
  const other = platformObjects(renderPlatform({})).find((o) => o.kind === 'Job');
  assert.is.not(job.metadata.name, other?.metadata?.name, 'a changed topic list gets a new Job name');
});

test('apps: a user app gets a Deployment, a Service and a route, longest prefix first', () => {
  const objects = platformObjects(
    renderPlatform({ apps: [{ name: 'billing', image: 'example/billing:1.2.3', port: 9000, routes: ['/api/billing'] }] }),
  );
  assert.ok(find(objects, 'Deployment', 'billing'));
  assert.is(find(objects, 'Service', 'billing').spec.ports[0].port, 9000);
  const http = find(objects, 'VirtualService', 'airy-core').spec.http as Any[];
  const paths = http.map((r) => r.match[0].uri.prefix ?? r.match[0].uri.exact);
  assert.equal(http.at(-1).match, [{ uri: { exact: '/' } }]);
  assert.ok(paths.indexOf('/conversations.mark-read') < paths.indexOf('/conversations'), 'longest path first');
  assert.ok(paths.includes('/api/billing'));
  for (const p of ['/facebook', '/google', '/twilio']) assert.not.ok(paths.includes(p), `${p}: no source runs by default`);
  const withSources = platformObjects(renderPlatform({ sources: ['facebook', 'twilio'] }));
  const webhooks = find(withSources, 'VirtualService', 'airy-core-webhooks').spec;
  assert.equal(webhooks.hosts, ['*'], 'a tunnel forwards with its own host name');
  assert.equal(webhooks.http.map((r: Any) => r.match[0].uri.prefix), ['/facebook', '/twilio']);
  assert.equal(find(withSources, 'Gateway', 'airy-core').spec.servers[0].hosts, ['airy.core', '*']);
});

test('production with TLS: HTTPS on 443 from the certificate Secret, 80 redirects, the apps told https', async () => {
  const options: PlatformOptions = { profile: 'production', postgres: { password: PASSWORD }, ingress: { hosts: ['airy.example.com'], tls: { secret: 'my-cert' } } };
  const objects = platformObjects(renderPlatform(options));
  const [https, http] = find(objects, 'Gateway', 'airy-core').spec.servers;
  assert.equal(https, { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['airy.example.com'], tls: { mode: 'SIMPLE', credentialName: 'my-cert' } });
  assert.equal(http, { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['airy.example.com'], tls: { httpsRedirect: true } });
  assert.is(find(objects, 'ConfigMap', 'core-config').data.HOST, 'https://airy.example.com');
  assert.is(objects.find((o) => o.kind === 'Certificate'), undefined, 'your own Secret: no Certificate');
  const report = await validateDocuments(objects.map((object, index) => ({ file: 'tls', index, object })));
  assert.equal(report.problems, []);
  // Without TLS, plain HTTP on 80 and nothing else.
  const plain = find(platformObjects(renderPlatform({ profile: 'production', postgres: { password: PASSWORD } })), 'Gateway', 'airy-core');
  assert.is(plain.spec.servers.length, 1);
  assert.is(plain.spec.servers[0].tls, undefined);
});

test('production with cert-manager: a Certificate for the hosts, issued into the Secret the Gateway reads', async () => {
  const platform = renderPlatform({
    profile: 'production',
    postgres: { password: PASSWORD },
    ingress: { hosts: ['airy.example.com', 'api.example.com'], tls: { certManagerIssuer: 'letsencrypt' } },
  });
  const objects = platformObjects(platform);
  assert.is(objects.find((o) => o.kind === 'Certificate'), undefined, 'not in the platform’s namespace or kustomization');
  const certificate = platform.certificate as Any;
  assert.ok(renderFiles(platform).get('gateway-certificate.yaml')?.includes('kind: Certificate'));
  assert.equal(certificate.metadata.namespace, 'istio-system', 'beside the gateway, where Istio reads it');
  assert.equal(certificate.spec, {
    secretName: 'airy-core-tls',
    dnsNames: ['airy.example.com', 'api.example.com'],
    issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' },
  });
  assert.is(find(objects, 'Gateway', 'airy-core').spec.servers[0].tls.credentialName, 'airy-core-tls');
  const report = await validateDocuments(objects.map((object, index) => ({ file: 'tls', index, object })));
  assert.equal(report.problems, []);
  assert.throws(
    () => renderPlatform({ ingress: { hosts: ['*.example.com'], tls: { certManagerIssuer: 'letsencrypt' } } }),
    /cert-manager cannot issue a wildcard host/,
  );
  assert.throws(() => renderPlatform({ ingress: { tls: { secret: 'Not_A_Name' } } }), /ingress.tls.secret: must be a DNS label/);
});

test('ngrok: the agent forwards to the ingress gateway and reads its token from a Secret', () => {
  const objects = platformObjects(renderPlatform({ ngrok: { enabled: true, domain: 'airy.example.dev' } }));
  const config = find(objects, 'ConfigMap', 'ngrok-config').data['ngrok.yml'] as string;
  assert.match(config, 'url: https://airy.example.dev');
  assert.match(config, 'url: http://istio-ingressgateway.istio-system.svc.cluster.local:80');
  const container = find(objects, 'Deployment', 'ngrok').spec.template.spec.containers[0];
  assert.equal(container.env[0].valueFrom.secretKeyRef, { name: 'ngrok', key: 'authtoken' });
  assert.is(find(platformObjects(renderPlatform({ ngrok: { enabled: false } })), 'Deployment', 'ngrok'), undefined);
});

test('a storage class applies to every volume', () => {
  const objects = platformObjects(renderPlatform({ profile: 'production', storageClass: 'gp3' }));
  const claims = objects.flatMap((o: Any) => o.spec?.volumeClaimTemplates ?? []);
  assert.ok(claims.length >= 3);
  for (const c of claims) assert.is(c.spec.storageClassName, 'gp3');
});

test('bad options name the option and what it accepts', () => {
  assert.throws(() => renderPlatform({ profile: 'staging' as never }), /profile: unknown value "staging" \(allowed: local, production\)/);
  assert.throws(() => renderPlatform({ kafka: { brokers: 0 } }), /kafka.brokers: must be a whole number/);
  assert.throws(() => renderPlatform({ apps: [{ name: 'x', image: 'x/y:latest', port: 80 }] }), /apps\[0\].image/);
  assert.throws(() => renderPlatform({ postgres: { password: 'short' } }), /postgres.password/);
  assert.throws(() => renderPlatform({ kafka: { storage: 'lots' } }), /kafka.storage/);
});

test.run();
