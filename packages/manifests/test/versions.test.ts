/** The pinned versions against the facts recorded about them: the ngrok agent inside ngrok's support window. */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMPONENT_VERSIONS, IMAGES, NGROK_AGENT_SUPPORT } from '../src/versions.ts';

const DAY = 24 * 3600 * 1000;

test('the pinned ngrok agent is of the minor whose support was recorded (3.19 reached its end of life 2026-02-17)', () => {
  const [major, minor] = COMPONENT_VERSIONS.ngrokAgent.split('.');
  assert.is(`${major}.${minor}`, NGROK_AGENT_SUPPORT.minor);
  assert.match(COMPONENT_VERSIONS.ngrokAgent, /^3\.\d+\.\d+$/);
});

test('that minor ends its support well after the day it was checked: a new pin is never one about to be refused', () => {
  const { released, activeUntil, endOfLife, checked } = NGROK_AGENT_SUPPORT;
  const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
  assert.ok(day(released) < day(activeUntil) && day(activeUntil) < day(endOfLife), 'released < active support < end of life');
  // ngrok's policy: 14 months of support, then 2 months to upgrade. Ask for at least 6 months ahead at the pin.
  assert.ok(day(endOfLife) - day(checked) >= 180 * DAY, `end of life ${endOfLife} is under 6 months after ${checked}`);
  assert.ok(day(checked) >= day(released), 'checked after the release');
});

test('the image and the rendered box deployment use the pinned agent, and nothing still names the old one', () => {
  assert.is(IMAGES.ngrok, `docker.io/ngrok/ngrok:${COMPONENT_VERSIONS.ngrokAgent}-alpine`);
  const rendered = readFileSync(new URL('../../../infrastructure/deployments/optional-ngrok.yaml', import.meta.url), 'utf8');
  assert.ok(rendered.includes(`image: ${IMAGES.ngrok}`), 'infrastructure/deployments/optional-ngrok.yaml is stale: npx projen render-deployments');
  const facts = readFileSync(new URL('../../bootstrap/src/box-facts.ts', import.meta.url), 'utf8');
  assert.ok(facts.includes(`"ngrokAgent": "${COMPONENT_VERSIONS.ngrokAgent}"`), 'bootstrap box-facts.ts is stale: npx projen box-facts');
  assert.not.ok(/3\.19\.1/.test(rendered + facts), 'the old agent 3.19.1 is still named');
});

test.run();
