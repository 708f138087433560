/**
 * The inspector's page: plain HTML, a little CSS and a script, all served inline by the inspector. The script lists
 * deliveries live (server-sent events, read with fetch so that they carry the token), filters them by source and
 * status, shows one's details, replays it and copies it as a curl command (redacted headers left out). The token
 * comes from the address the owner opened (`#token=…`, never sent to the server), kept for the tab's session.
 */

/** The page (no token in it: it is served to anyone on 127.0.0.1), with the proxy's address for curl. */
export function inspectorPage(proxyAddress: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>airy-tunnel inspector</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; color: #1d2733; }
  header { background: #1d2733; color: #fff; padding: 10px 16px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 16px; margin: 0; font-weight: 600; }
  main { display: grid; grid-template-columns: minmax(420px, 1fr) 1fr; height: calc(100vh - 44px); }
  #list { overflow: auto; border-right: 1px solid #dde3ea; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eef1f4; white-space: nowrap; }
  tbody tr { cursor: pointer; }
  tbody tr:hover, tbody tr.selected { background: #eef5ff; }
  .ok { color: #137333; } .bad { color: #b3261e; } .muted { color: #6b7785; }
  #detail { overflow: auto; padding: 12px 16px; }
  pre { background: #f6f8fa; padding: 8px; overflow: auto; }
  button { font: inherit; padding: 4px 10px; }
  .badge { border-radius: 8px; padding: 1px 6px; font-size: 12px; }
  .badge.ok { background: #e6f4ea; } .badge.bad { background: #fce8e6; }
</style>
</head>
<body>
<header>
  <h1>airy-tunnel inspector</h1>
  <label>source <select id="source"><option value="">all</option><option>facebook</option><option>google</option><option>twilio</option><option value="-">other</option></select></label>
  <label>status <select id="status"><option value="">all</option><option value="2">2xx</option><option value="3">3xx</option><option value="4">4xx</option><option value="5">5xx</option></select></label>
  <span id="count" class="muted"></span>
</header>
<main>
  <section id="list"><table><thead><tr><th>#</th><th>time</th><th>source</th><th>method</th><th>path</th><th>status</th><th>ms</th><th>signature</th></tr></thead><tbody id="rows"></tbody></table></section>
  <section id="detail"><p class="muted">Select a delivery.</p></section>
</main>
<script>
// The token travels after '#', which the browser never sends; kept for this tab, and taken out of the address bar.
const fromUrl = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromUrl) { sessionStorage.setItem('airy-inspector-token', fromUrl); history.replaceState(null, '', location.pathname); }
const token = sessionStorage.getItem('airy-inspector-token') || '';
const api = (path, init = {}) => fetch(path, { ...init, headers: { ...(init.headers || {}), 'x-airy-inspector-token': token } });
const proxy = ${JSON.stringify(proxyAddress)};
const deliveries = new Map();
let selected;
const el = (tag, attrs = {}, text) => { const e = document.createElement(tag); Object.assign(e, attrs); if (text !== undefined) e.textContent = text; return e; };
const visible = (d) => {
  const source = document.getElementById('source').value;
  const status = document.getElementById('status').value;
  if (source === '-' ? d.source : source && d.source !== source) return false;
  return !status || String(d.status).startsWith(status);
};
function signatureCell(d) {
  if (!d.signature) return el('span', { className: 'muted' }, 'not checked');
  return el('span', { className: 'badge ' + (d.signature.valid ? 'ok' : 'bad'), title: d.signature.reason }, d.signature.valid ? 'valid' : 'invalid');
}
function render() {
  const rows = document.getElementById('rows');
  rows.replaceChildren();
  const shown = [...deliveries.values()].filter(visible).reverse();
  for (const d of shown) {
    const tr = el('tr', { className: d.id === selected ? 'selected' : '' });
    tr.dataset.id = d.id;
    tr.append(
      el('td', {}, String(d.id) + (d.replayOf ? ' (replay of #' + d.replayOf + ')' : '')),
      el('td', {}, new Date(d.time).toLocaleTimeString()),
      el('td', {}, d.source || '-'),
      el('td', {}, d.method),
      el('td', {}, d.path),
      el('td', { className: d.status < 400 ? 'ok' : 'bad' }, String(d.status)),
      el('td', {}, String(d.latencyMs)),
    );
    const sig = el('td'); sig.append(signatureCell(d)); tr.append(sig);
    tr.addEventListener('click', () => { selected = d.id; render(); detail(d); });
    rows.append(tr);
  }
  document.getElementById('count').textContent = shown.length + ' of ' + deliveries.size + ' deliveries';
}
function pretty(body, headers) {
  const type = headers['content-type'] || '';
  try { if (type.includes('json')) return JSON.stringify(JSON.parse(body), null, 2); } catch {}
  if (type.includes('x-www-form-urlencoded')) return [...new URLSearchParams(body)].map(([k, v]) => k + ' = ' + v).join('\\n');
  return body;
}
function curl(d) {
  const quote = (s) => "'" + String(s).replaceAll("'", "'\\\\''") + "'";
  const parts = ['curl', '-X', d.method];
  for (const [k, v] of Object.entries(d.requestHeaders)) {
    if (v === '[redacted]' || ['host', 'content-length', 'connection'].includes(k)) continue;
    parts.push('-H', quote(k + ': ' + v));
  }
  if (d.body) parts.push('--data-binary', quote(d.body));
  parts.push(quote(proxy + d.path));
  return parts.join(' ');
}
function detail(d) {
  const box = document.getElementById('detail');
  box.replaceChildren();
  box.append(el('h2', {}, '#' + d.id + ' ' + d.method + ' ' + d.path + (d.replayOf ? ' (replay of #' + d.replayOf + ')' : '')));
  box.append(el('p', {}, 'status ' + d.status + ', ' + d.latencyMs + ' ms, ' + d.time));
  const sig = el('p'); sig.append('signature: ', signatureCell(d), ' ', el('span', { className: 'muted' }, d.signature ? d.signature.reason : 'no secret for this source was given to airy-tunnel'));
  box.append(sig);
  const replay = el('button', { id: 'replay' }, 'Replay');
  if (d.notReplayable) {
    replay.disabled = true;
    box.append(el('p', { className: 'muted', id: 'not-replayable' }, d.notReplayable));
  }
  replay.addEventListener('click', async () => {
    const res = await api('/api/deliveries/' + d.id + '/replay', { method: 'POST' });
    replay.textContent = res.ok ? 'Replayed' : 'Replay refused (' + res.status + ')';
  });
  const copy = el('button', { id: 'copy' }, 'Copy as curl');
  copy.addEventListener('click', async () => { await navigator.clipboard.writeText(curl(d)).catch(() => {}); copy.textContent = 'Copied'; });
  box.append(replay, ' ', copy);
  box.append(el('h3', {}, 'request headers'), el('pre', {}, JSON.stringify(d.requestHeaders, null, 2)));
  box.append(el('h3', {}, 'body'), el('pre', {}, d.body !== undefined ? pretty(d.body, d.requestHeaders) : d.notReplayable ? '(not kept: ' + d.notReplayable + ')' : '(bodies are shown with airy-tunnel start --log-bodies)'));
  box.append(el('h3', {}, 'response headers'), el('pre', {}, JSON.stringify(d.responseHeaders, null, 2)));
  box.append(el('h3', {}, 'curl'), el('pre', { id: 'curl' }, curl(d)));
}
document.getElementById('source').addEventListener('change', render);
document.getElementById('status').addEventListener('change', render);
function refused(status) {
  const box = document.getElementById('detail');
  box.replaceChildren(el('p', { id: 'no-token' }, status === 401
    ? 'This page needs the inspector token: open the address airy-tunnel start printed (http://127.0.0.1:PORT/#token=…).'
    : 'The inspector refused this page (' + status + ').'));
}
// Server-sent events over fetch (EventSource cannot send a header): one "event/data" block per delivery.
async function follow() {
  const res = await api('/api/events');
  if (!res.ok) return refused(res.status);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let end;
    while ((end = buffered.indexOf('\\n\\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = block.split('\\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\\n');
      if (/^event: delivery$/m.test(block) && data) { const d = JSON.parse(data); deliveries.set(d.id, d); render(); }
    }
  }
}
follow();
api('/api/deliveries').then(async (r) => {
  if (!r.ok) return refused(r.status);
  for (const d of await r.json()) deliveries.set(d.id, d);
  render();
});
</script>
</body>
</html>
`;
}
