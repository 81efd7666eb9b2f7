// What every dashboard page shares: building DOM from data (text only, through text nodes), the JSON API with its
// typed errors, the server's time, polling, and tables.
export const body = document.body;
export const main = document.getElementById('main');
export const refreshMs = Math.max(500, Number(body.dataset.refresh || '2') * 1000);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Number.POSITIVE_INFINITY)) {
    if (c === undefined || c === null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function iso(ms) {
  return ms === null || ms === undefined ? '-' : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function age(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 90) return `${s}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

export function dash(v) {
  return v === null || v === undefined ? '-' : v;
}

export async function api(path, init) {
  const res = await fetch(path, init);
  const json = await res.json().catch(() => ({ error: { code: 'internal', message: `HTTP ${res.status}` } }));
  if (!res.ok) throw new Error(json.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${res.status}`);
  return json;
}

export function post(path, payload) {
  return api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
}

export function terminalHref(fleet, terminalId) {
  return `/terminals/${encodeURIComponent(fleet)}/${encodeURIComponent(terminalId)}`;
}

export function showClock(at) {
  document.getElementById('clock').textContent = iso(at);
}

export function showError(where, err) {
  where.replaceChildren(el('p', { class: 'error', role: 'alert' }, String(err.message || err)));
}

export function poll(fn) {
  const run = () =>
    fn()
      .catch(() => undefined)
      .finally(() => setTimeout(run, refreshMs));
  run();
}

/** Replaces `where`'s content only when `data` differs from what it last showed: a poll that brings nothing new
 * leaves the page (and a button under the operator's pointer) alone. */
export function renderIf(where, data, build) {
  const key = JSON.stringify(data);
  if (where.dataset.shown === key) return;
  where.dataset.shown = key;
  where.replaceChildren(...[build()].flat());
}

export function table(headers, rows, attrs) {
  return el(
    'table',
    attrs || {},
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h) => el('th', {}, h)),
      ),
    ),
    el('tbody', {}, rows),
  );
}

/** Wraps a fetch so that only the answer to the latest call is used: an older poll still under way when the
 * operator acted must not paint its answer over the newer one (it resolves to undefined instead). */
export function latestOnly(fetcher) {
  let calls = 0;
  return async (...args) => {
    const mine = ++calls;
    const result = await fetcher(...args);
    return mine === calls ? result : undefined;
  };
}
