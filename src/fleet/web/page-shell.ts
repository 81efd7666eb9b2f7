/**
 * The HTML around each dashboard page: escaped text only (terminal ids and fleet names come from the wire), the
 * page's name and parameters in data attributes for the script, no inline script (so a strict Content Security
 * Policy holds: scripts and styles only from this server).
 */
export type PageName = 'table' | 'terminal' | 'alerts' | 'commands';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface PageOptions {
  page: PageName;
  title: string;
  heading: string;
  refreshSeconds: number;
  data?: Record<string, string>;
  /** Extra stylesheet and script URLs (the chart library on the terminal page). */
  styles?: string[];
  scripts?: string[];
}

const NAV: { page: PageName; href: string; label: string }[] = [
  { page: 'table', href: '/', label: 'Fleet' },
  { page: 'alerts', href: '/alerts', label: 'Alerts' },
  { page: 'commands', href: '/commands', label: 'Commands' },
];

export function renderPage(o: PageOptions): string {
  const data = Object.entries({ page: o.page, refresh: String(o.refreshSeconds), ...(o.data ?? {}) })
    .map(([k, v]) => ` data-${k.replace(/[^a-z-]/g, '')}="${escapeHtml(v)}"`)
    .join('');
  const styles = ['/assets/dashboard.css', ...(o.styles ?? [])]
    .map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`)
    .join('');
  // The dashboard's script is a module (it runs after the page is parsed, after the deferred chart library).
  const scripts = [
    ...(o.scripts ?? []).map((src) => `<script src="${escapeHtml(src)}" defer></script>`),
    '<script type="module" src="/assets/dashboard.js"></script>',
  ].join('');
  const nav = NAV.map(
    (n) => `<a href="${n.href}"${n.page === o.page ? ' class="current"' : ''}>${escapeHtml(n.label)}</a>`,
  ).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)}</title>${styles}${scripts}</head>
<body${data}><header><span class="brand">${escapeHtml(o.heading)}</span><nav>${nav}</nav><span id="clock"></span></header>
<main id="main"><p class="loading">Loading…</p></main></body></html>
`;
}
