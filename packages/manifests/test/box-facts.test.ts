import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BOX_PLATFORM_OPTIONS, boxFacts, boxFactsEnv, PORT_CHAIN, platformResources, resolveOptions, systemReserved } from '../src/index.ts';
import { LOCAL_VM } from '../src/sizing.ts';

test('the box facts are the platform model’s: VM, host, namespace, database Secret, ports, requests', () => {
  const facts = boxFacts();
  const config = resolveOptions(BOX_PLATFORM_OPTIONS);
  assert.is(facts.vm.cpus, LOCAL_VM.cpus);
  assert.is(facts.host, config.ingress.hosts[0]);
  assert.is(facts.namespace, config.namespace);
  assert.is(facts.postgres.secret, config.postgres.secret.name);
  assert.equal(facts.ports.http, { host: PORT_CHAIN.http.host, vm: PORT_CHAIN.http.vm });
  assert.equal(facts.resources.requests, platformResources(BOX_PLATFORM_OPTIONS).requests);
});

test('the env file reads back in bash as the same facts, and refuses a value with shell syntax', () => {
  const facts = boxFacts();
  const run = spawnSync('bash', ['-c', 'set -a; eval "$1"; echo "$AIRY_NAMESPACE|$AIRY_POSTGRES_SECRET|$AIRY_NODE_PORT_RANGE|$AIRY_VM_MEMORY_MIB|$AIRY_SYSTEM_RESERVED|$AIRY_NGROK_SECRET"', '_', boxFactsEnv(facts)], {
    encoding: 'utf8',
  });
  assert.is(
    run.stdout.trim(),
    `${facts.namespace}|${facts.postgres.secret}|${facts.ports.nodePortRange}|${facts.vm.memoryMiB}|${systemReserved()}|${facts.ngrok.secret}`,
  );
  assert.throws(() => boxFactsEnv({ ...facts, namespace: "airy'; rm -rf /; '" }), /holds characters a provisioning script must not get/);
});

test.run();
