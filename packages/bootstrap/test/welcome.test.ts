import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { welcomeText } from '../src/instance-view.ts';

test('the welcome names the public webhook URLs while the tunnel is online, else the local ones', () => {
  const state = { catalog: 'file:///c', boxName: 'airy/core', version: '1.2.0', provider: 'libvirt', sha256: 'x', cpus: 4, memoryMiB: 8192, privateNetwork: true } as const;
  const tunnel = {
    state: 'online',
    url: 'https://abc.ngrok.app',
    startedAt: 1,
    reconnects: 0,
    pid: 1,
    target: 'http://127.0.0.1:8080',
    inspector: 'http://127.0.0.1:4040',
    webhooks: { facebook: 'https://abc.ngrok.app/facebook', google: 'https://abc.ngrok.app/google', twilio: 'https://abc.ngrok.app/twilio' },
  } as const;
  // A box that runs every source, to see the tunnel's URLs; the real box runs none (below).
  const all = ['facebook', 'google', 'twilio'].map((source) => ({ source, secret: `sources-${source}`, installed: true }));
  const online = welcomeText(state, '/home/u/.airy/core', tunnel, false, all);
  assert.match(online, /^Airy Core 1\.2\.0 is running \(libvirt, 4 CPUs, 8192 MiB\)\./);
  assert.match(online, /webhook {3}facebook: https:\/\/abc\.ngrok\.app\/facebook \(public, through airy-tunnel\)/);
  assert.match(online, /kubectl -n airy get pods/);
  // The release's frontends and API, where its ingress puts them.
  assert.match(online, /UI {8}http:\/\/airy\.core\/control-center\/\n/);
  assert.match(online, /inbox {5}http:\/\/airy\.core\/inbox\/\n/);
  assert.match(online, /API {7}http:\/\/airy\.core\/ \(POST \/conversations\.list/);
  assert.match(online, /airy\.core must resolve to 192\.168\.56\.10: add "192\.168\.56\.10 airy\.core" to your hosts file/);
  assert.not.match(welcomeText(state, '/home/u/.airy/core', tunnel, true, all), /must resolve/, 'no hint once the line is there');
  assert.match(online, /inspector http:\/\/127\.0\.0\.1:4040 \(every webhook delivery/);
  for (const gone of [undefined, { ...tunnel, state: 'stopped' } as const]) {
    const local = welcomeText(state, '/home/u/.airy/core', gone, false, all);
    assert.match(local, /webhook {3}twilio: http:\/\/airy\.core\/twilio \(make it public with airy-tunnel start\)/);
    assert.not.match(local, /ngrok/);
  }
});

test("the box's own facts: a source the box does not run is said to answer 404, with how to turn it on", () => {
  const state = { catalog: 'file:///c', boxName: 'airy/core', version: '1.2.0', provider: 'libvirt', sha256: 'x', cpus: 4, memoryMiB: 8192, privateNetwork: true } as const;
  const text = welcomeText(state, '/home/u/.airy/core');
  assert.match(
    text,
    /webhook {3}facebook: http:\/\/airy\.core\/facebook \(not installed in this box, answers 404; on a cluster of your own: render the platform with sources: \[facebook\] and create the Secret sources-facebook with its credentials\)/,
  );
});

test.run();
