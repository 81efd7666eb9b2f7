// The dashboard's browser side: fetches the JSON API and builds the pages with DOM calls only (text through
// textContent, never innerHTML), so nothing a terminal publishes can become markup. Times shown are the server's
// ("at" in every answer), so a page says what the service knows, not what the browser's clock thinks.
// Loaded as a module (type="module"); uPlot is the global its own script defines on the terminal page.
import {
  age,
  api,
  latestOnly,
  body,
  dash,
  el,
  iso,
  main,
  poll,
  post,
  renderIf,
  showClock,
  showError,
  table,
  terminalHref,
} from './common.js';

// ---- fleet table --------------------------------------------------------------------------------------------

const STATUSES = ['healthy', 'degraded', 'locked', 'anomalous', 'silent', 'offline'];

function fleetTable(data) {
  const rows = data.rows.map((r) =>
    el(
      'tr',
      { 'data-key': r.key },
      el('td', {}, el('a', { href: terminalHref(r.fleet, r.terminalId) }, r.key)),
      el('td', {}, el('span', { class: `badge status-${r.status}` }, r.status)),
      el('td', {}, `${age(data.at - r.lastSeenAt)} ago`),
      el('td', {}, dash(r.state)),
      el('td', { class: 'num' }, r.missing > 0 ? `${r.gaps} (${r.missing} lost)` : r.gaps),
      el('td', { class: 'num' }, r.restarts),
      el('td', { class: 'num' }, dash(r.outboxDepth)),
      el('td', { class: 'num' }, dash(r.safDepth)),
      el('td', { class: 'num' }, dash(r.pendingReversals)),
      el('td', {}, dash(r.firmware)),
      el('td', { class: 'why' }, r.reasons.join('; ') || '-'),
    ),
  );
  return rows.length === 0
    ? el('p', { class: 'empty' }, 'No terminal matches.')
    : table(
        [
          'Terminal',
          'Status',
          'Last seen',
          'State',
          'Gaps',
          'Restarts',
          'Outbox',
          'SAF',
          'Reversals',
          'Firmware',
          'Why',
        ],
        rows,
        { id: 'fleet-table' },
      );
}

function tablePage() {
  const params = new URLSearchParams(location.search);
  const query = {
    status: params.get('status') || '',
    fleet: params.get('fleet') || '',
    q: params.get('q') || '',
    page: Number(params.get('page') || '1'),
  };
  const summary = el('div', { id: 'summary', class: 'summary' });
  const status = el('select', { id: 'filter-status', name: 'status' }, el('option', { value: '' }, 'any status'));
  for (const s of STATUSES) status.append(el('option', { value: s }, s));
  const fleet = el('select', { id: 'filter-fleet', name: 'fleet' }, el('option', { value: '' }, 'every fleet'));
  const text = el('input', { id: 'filter-text', name: 'q', type: 'search', placeholder: 'terminal, firmware, reason' });
  const form = el(
    'form',
    { id: 'filters', class: 'filters' },
    status,
    fleet,
    text,
    el('button', { type: 'submit' }, 'Filter'),
  );
  const result = el('div', { id: 'table' });
  const pager = el('div', { id: 'pager', class: 'pager' });
  main.replaceChildren(summary, form, result, pager);
  status.value = query.status;
  text.value = query.q;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    query.status = status.value;
    query.fleet = fleet.value;
    query.q = text.value.trim();
    query.page = 1;
    load();
  });

  // A poll already under way when the operator pages or filters must not paint its older answer over the new one.
  let latest = 0;
  async function load() {
    const mine = ++latest;
    const p = new URLSearchParams();
    for (const k of ['status', 'fleet', 'q']) if (query[k]) p.set(k, query[k]);
    if (query.page > 1) p.set('page', String(query.page));
    history.replaceState(null, '', p.toString() ? `/?${p}` : '/');
    let data;
    try {
      data = await api(`/api/terminals?${p}`);
    } catch (err) {
      if (mine === latest) showError(result, err);
      return;
    }
    if (mine !== latest) return;
    showClock(data.at);
    renderIf(summary, [data.size, data.counts], () => [
      el('span', { class: 'size' }, `${data.size.toLocaleString('en')} terminals`),
      ...STATUSES.map((s) => el('span', { class: `chip status-${s}` }, `${data.counts[s]} ${s}`)),
    ]);
    if (fleet.options.length !== data.fleets.length + 1) {
      fleet.replaceChildren(
        el('option', { value: '' }, 'every fleet'),
        ...data.fleets.map((f) => el('option', { value: f }, f)),
      );
    }
    fleet.value = query.fleet;
    renderIf(result, [data.at, data.rows], () => fleetTable(data));
    const pages = Math.max(1, Math.ceil(data.total / data.pageSize));
    const first = data.total === 0 ? 0 : data.offset + 1;
    prev.disabled = query.page <= 1;
    next.disabled = query.page >= pages;
    range.textContent = `${first}–${data.offset + data.rows.length} of ${data.total} · page ${data.page} of ${pages}`;
  }
  const go = (step) => () => {
    query.page += step;
    load();
  };
  const prev = el('button', { id: 'prev', type: 'button', disabled: true, onclick: go(-1) }, '‹ Previous');
  const range = el('span', { id: 'range' });
  const next = el('button', { id: 'next', type: 'button', disabled: true, onclick: go(1) }, 'Next ›');
  pager.replaceChildren(prev, range, next);
  poll(load);
}

// ---- one terminal -------------------------------------------------------------------------------------------

function kv(pairs) {
  return el(
    'dl',
    { class: 'kv' },
    pairs.map(([k, v]) => [el('dt', {}, k), el('dd', {}, dash(v))]),
  );
}

function drawChart(where, charts) {
  where.replaceChildren();
  if (charts.x.length === 0) {
    where.append(el('p', { class: 'empty' }, 'No Health in the history yet.'));
    return;
  }
  const opts = {
    width: 900,
    height: 240,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { show: false },
    legend: { live: false },
    series: [
      {},
      { label: 'pending reversals', stroke: '#c0392b', width: 2 },
      { label: 'store-and-forward', stroke: '#2471a3', width: 2 },
      { label: 'outbox', stroke: '#7d3c98', width: 2 },
      { label: 'host RTT (ms)', stroke: '#1e8449', width: 1, scale: 'ms' },
    ],
    axes: [{}, { label: 'count' }, { side: 1, scale: 'ms', label: 'ms', grid: { show: false } }],
  };
  new uPlot(opts, [charts.x, charts.pendingReversals, charts.safDepth, charts.outboxDepth, charts.hostRttMs], where);
  where.dataset.drawn = String(charts.x.length);
}

function commandForm(commands, fixed, onSent) {
  const fleet = el('input', { id: 'command-fleet', name: 'fleet', placeholder: 'fleet', required: true });
  const terminal = el('input', { id: 'command-terminal', name: 'terminalId', placeholder: 'terminal', required: true });
  const name = el(
    'select',
    { id: 'command-name', name: 'name' },
    commands.map((c) => el('option', { value: c }, c)),
  );
  const status = el('span', { id: 'command-status', class: 'note' });
  if (fixed) {
    fleet.value = fixed.fleet;
    terminal.value = fixed.terminalId;
  }
  const form = el(
    'form',
    { id: 'command-form', class: 'filters' },
    fixed ? [] : [fleet, terminal],
    name,
    el('button', { type: 'submit' }, 'Send command'),
    status,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await post('/api/commands', { fleet: fleet.value, terminalId: terminal.value, name: name.value });
      status.textContent = `${r.entry.name} sent to ${r.entry.fleet}/${r.entry.terminalId}`;
      onSent();
    } catch (err) {
      status.textContent = String(err.message || err);
    }
  });
  return form;
}

function auditTable(entries) {
  if (entries.length === 0) return el('p', { class: 'empty' }, 'No command sent from here yet.');
  return table(
    ['When', 'Who', 'Terminal', 'Command', 'Result', 'Detail'],
    entries.map((a) =>
      el(
        'tr',
        { 'data-command-id': a.commandId },
        el('td', {}, iso(a.at)),
        el('td', {}, a.by),
        el('td', {}, `${a.fleet}/${a.terminalId}`),
        el('td', {}, a.name),
        el('td', {}, el('span', { class: `badge outcome-${a.outcome}` }, a.outcome)),
        el('td', {}, a.detail || '-'),
      ),
    ),
    { id: 'audit-table' },
  );
}

function terminalPage() {
  const fleet = body.dataset.fleet;
  const terminalId = body.dataset.terminal;
  const base = `/api/terminals/${encodeURIComponent(fleet)}/${encodeURIComponent(terminalId)}`;
  const current = el('section', { id: 'current' });
  const chart = el('div', { id: 'chart' });
  const timeline = el('section', { id: 'timeline' });
  const audit = el('div', { id: 'audit' });
  const alerts = el('div', { id: 'terminal-alerts' });
  const auditUrl = `/api/commands?fleet=${encodeURIComponent(fleet)}&terminal=${encodeURIComponent(terminalId)}`;
  const fetchAudit = latestOnly(() => api(auditUrl));
  const loadAudit = async () => {
    const a = await fetchAudit();
    if (a) renderIf(audit, a.audit, () => auditTable(a.audit));
  };
  main.replaceChildren(
    el('h1', {}, `${fleet}/${terminalId}`),
    current,
    el('h2', {}, 'Health over time'),
    chart,
    el('h2', {}, 'Alerts'),
    alerts,
    el('h2', {}, 'Commands'),
    el('div', { id: 'command-slot' }),
    audit,
    el('h2', {}, 'Timeline'),
    timeline,
  );
  api(auditUrl).then((a) => {
    renderIf(audit, a.audit, () => auditTable(a.audit));
    document.getElementById('command-slot').replaceWith(commandForm(a.commands, { fleet, terminalId }, loadAudit));
  });
  let lastTimeline = '';
  poll(async () => {
    try {
      const { at, view } = await api(base);
      showClock(at);
      const h = view.health;
      current.replaceChildren(
        kv([
          ['Status', view.status],
          ['Why', view.reasons.join('; ') || '-'],
          ['Last seen', `${iso(view.lastSeenAt)} (${age(at - view.lastSeenAt)} ago)`],
          ['Connection', view.connection],
          ['Firmware', view.birth ? view.birth.firmwareVersion : null],
          ['Model', view.birth ? view.birth.model : null],
          ['State', h ? h.state : null],
          ['Pending reversals', h ? h.pendingReversals : null],
          ['Store-and-forward', h ? `${h.storeAndForward.depth} queued` : null],
          ['Outbox', h ? h.outboxDepth : null],
          ['Gaps', `${view.sequence.gaps} (${view.sequence.missing} lost)`],
          ['Restarts', view.restarts],
          ['Boot', view.bootId],
        ]),
      );
    } catch (err) {
      showError(current, err);
    }
    const t = await api(`${base}/timeline`);
    const key = JSON.stringify(t);
    if (key !== lastTimeline) {
      lastTimeline = key;
      if (!t.configured) {
        chart.replaceChildren(el('p', { class: 'empty', id: 'history-missing' }, 'History not configured.'));
        timeline.replaceChildren(
          el('p', { class: 'empty' }, 'History not configured: only the current view is known.'),
        );
      } else {
        drawChart(chart, t.charts);
        timeline.replaceChildren(
          t.items.length === 0
            ? el('p', { class: 'empty' }, 'Nothing stored yet.')
            : el(
                'ol',
                { class: 'timeline' },
                t.items.map((i) =>
                  el(
                    'li',
                    { class: `kind-${i.kind}${i.anomaly ? ' anomaly' : ''}${i.historical ? ' historical' : ''}` },
                    el('time', {}, iso(i.receivedAt)),
                    el('span', { class: 'kind' }, i.kind),
                    i.summary,
                    i.historical ? el('span', { class: 'note' }, ' (from backlog)') : null,
                  ),
                ),
              ),
        );
      }
    }
    const a = await api(`/api/alerts?fleet=${encodeURIComponent(fleet)}&terminal=${encodeURIComponent(terminalId)}`);
    renderIf(alerts, a.alerts, () => alertTable(a.alerts, () => undefined));
    await loadAudit();
  });
}

// ---- alerts and commands ------------------------------------------------------------------------------------

function alertTable(alerts, reload) {
  if (alerts.length === 0) return el('p', { class: 'empty' }, 'No alert.');
  return table(
    ['Raised', 'Terminal', 'Rule', 'State', 'Detail', 'Acknowledged', ''],
    alerts.map((a) =>
      el(
        'tr',
        { 'data-alert-id': a.id },
        el('td', {}, iso(a.raisedAt)),
        el('td', {}, el('a', { href: terminalHref(a.fleet, a.terminalId) }, `${a.fleet}/${a.terminalId}`)),
        el('td', {}, a.rule),
        el('td', {}, el('span', { class: `badge alert-${a.state}` }, a.state)),
        el('td', {}, a.message),
        el('td', {}, a.acknowledgedBy ? `${a.acknowledgedBy}, ${iso(a.acknowledgedAt)}` : '-'),
        el(
          'td',
          {},
          a.acknowledgedAt === null
            ? el(
                'button',
                {
                  type: 'button',
                  class: 'ack',
                  onclick: async () => {
                    await post(`/api/alerts/${encodeURIComponent(a.id)}/ack`, {});
                    reload();
                  },
                },
                'Acknowledge',
              )
            : null,
        ),
      ),
    ),
    { class: 'alerts' },
  );
}

function alertsPage() {
  const list = el('div', { id: 'alerts' });
  main.replaceChildren(el('h1', {}, 'Alerts'), list);
  const fetchAlerts = latestOnly(() => api('/api/alerts'));
  const load = async () => {
    const a = await fetchAlerts();
    if (!a) return;
    showClock(a.at);
    renderIf(list, a.alerts, () => alertTable(a.alerts, load));
  };
  poll(load);
}

function commandsPage() {
  const audit = el('div', { id: 'audit' });
  const fetchAudit = latestOnly(() => api('/api/commands'));
  const load = async () => {
    const a = await fetchAudit();
    if (!a) return;
    showClock(a.at);
    renderIf(audit, a.audit, () => auditTable(a.audit));
  };
  main.replaceChildren(
    el('h1', {}, 'Fleet commands'),
    el('div', { id: 'command-slot' }),
    el('h2', {}, 'Audit trail'),
    audit,
  );
  api('/api/commands').then((a) =>
    document.getElementById('command-slot').replaceWith(commandForm(a.commands, null, load)),
  );
  poll(load);
}

const PAGES = { table: tablePage, terminal: terminalPage, alerts: alertsPage, commands: commandsPage };
(PAGES[body.dataset.page] || tablePage)();
