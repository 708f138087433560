/**
 * The inspector in a real browser: Debian's chromium, driven by playwright-core. It opens the page, sees a delivery
 * appear live, opens its details (the signature is valid), clicks Replay and sees the replay listed. A screenshot is
 * written to test/output/inspector.png. Skipped, saying why, where chromium is not installed.
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tunnelFiles } from '@airy/cli-kit';
import { chromium } from 'playwright-core';
import { start } from '../src/start.ts';
import { systemClock } from '../src/supervisor.ts';

const CHROMIUM = '/usr/bin/chromium';
const ready = existsSync(CHROMIUM);
if (!ready) console.log(`skip: ${CHROMIUM} is not installed (bash tools/setup.sh installs it); the inspector's browser test is skipped`);

const output = fileURLToPath(new URL('./output', import.meta.url));
const SECRET = 'fb-secret-for-the-browser-test';

(ready ? test : test.skip)('the inspector in chromium: a live delivery, its details, replay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-inspector-browser-'));
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const controller = new AbortController();
  const printed: string[] = [];
  const running = start({
    target: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    noNgrok: true,
    secrets: { facebookAppSecret: SECRET },
    token: undefined,
    files: tunnelFiles(join(dir, 'state')),
    logBodies: true,
    clock: systemClock,
    signal: controller.signal,
    print: (l) => printed.push(l),
    log: (l) => printed.push(l),
  });
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    // Playwright gives the browser a fresh, empty profile of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    for (let i = 0; i < 100 && !printed.some((l) => l.startsWith('inspector: ')); i++) await new Promise((r) => setTimeout(r, 20));
    const at = (name: string) => (printed.find((l) => l.startsWith(`${name}: `)) ?? '').slice(name.length + 2);
    const opened = new URL(at('inspector'));
    assert.match(opened.hash, /^#token=/, 'the printed address carries the token');
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const offPage: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(opened.origin)) offPage.push(r.url());
    });
    // Without the token (another local user's browser) the page says what it needs and lists nothing.
    const stranger = await browser.newPage();
    await stranger.goto(`${opened.origin}/`);
    await stranger.locator('#no-token').waitFor();
    assert.match((await stranger.locator('#no-token').textContent()) ?? '', /needs the inspector token: open the address airy-tunnel start printed/);
    await stranger.close();

    await page.goto(opened.href);
    await page.waitForSelector('#count');
    assert.is(new URL(page.url()).hash, '', 'the token is taken out of the address bar');

    // A delivery arrives while the page is open: it appears without a reload.
    const body = JSON.stringify({ object: 'page', entry: [{ id: '1', messaging: [{ message: { text: 'hello' } }] }] });
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${at('proxy')}/facebook`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(body);
    });
    const row = page.locator('tbody tr', { hasText: '/facebook' });
    await row.first().waitFor();
    assert.match((await row.first().textContent()) ?? '', /facebook\s*POST\s*\/facebook\s*200.*valid/);

    await row.first().click();
    await page.locator('#detail h2', { hasText: '#1 POST /facebook' }).waitFor();
    const detail = (await page.locator('#detail').textContent()) ?? '';
    assert.match(detail, /\n {12}"text": "hello"/, 'the JSON body is pretty-printed');
    assert.match(detail, /HMAC-SHA256 of the body with the app secret matches/);

    await page.click('#replay');
    await page.locator('tbody tr', { hasText: 'replay of #1' }).waitFor();
    mkdirSync(output, { recursive: true });
    await page.screenshot({ path: join(output, 'inspector.png') });
    assert.ok(existsSync(join(output, 'inspector.png')));
    assert.equal(offPage, [], 'the page fetched nothing from anywhere else');
  } finally {
    await browser?.close();
    controller.abort();
    await running;
    await new Promise((r) => upstream.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
