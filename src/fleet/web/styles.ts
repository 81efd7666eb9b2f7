/** The dashboard's stylesheet: plain CSS, system fonts, no web fonts (screenshots stay the same from run to run). */
export const DASHBOARD_CSS = `
:root { --fg: #1c2833; --muted: #5d6d7e; --line: #d5d8dc; --bg: #ffffff; --head: #f4f6f7; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 8px 16px; background: #1b2631; color: #fff; }
header .brand { font-weight: bold; }
header nav a { color: #d6eaf8; margin-right: 16px; text-decoration: none; }
header nav a.current { color: #fff; border-bottom: 2px solid #f5b041; }
#clock { margin-left: auto; font-family: "DejaVu Sans Mono", monospace; color: #d6eaf8; }
main { padding: 12px 16px; }
h1 { font-size: 18px; margin: 4px 0 12px; }
h2 { font-size: 15px; margin: 18px 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; white-space: nowrap; }
th { background: var(--head); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.why { white-space: normal; color: var(--muted); }
.summary { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
.summary .size { font-weight: 600; margin-right: 8px; }
.chip, .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #eaeded; }
.status-healthy { background: #d5f5e3; } .status-degraded { background: #fcf3cf; } .status-locked { background: #f5b7b1; }
.status-anomalous { background: #fad7a0; } .status-silent { background: #d6dbdf; } .status-offline { background: #abb2b9; }
.alert-open { background: #f5b7b1; } .alert-acknowledged { background: #fcf3cf; } .alert-cleared { background: #d5f5e3; }
.outcome-ok { background: #d5f5e3; } .outcome-failed, .outcome-error, .outcome-timeout { background: #f5b7b1; }
.filters { display: flex; gap: 8px; align-items: center; margin: 8px 0; }
.filters input, .filters select, button { font: inherit; padding: 3px 6px; }
.pager { display: flex; gap: 12px; align-items: center; margin-top: 8px; }
.kv { display: grid; grid-template-columns: 160px 1fr; gap: 2px 12px; margin: 0; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; }
.timeline { list-style: none; padding: 0; margin: 0; }
.timeline li { padding: 2px 0; border-bottom: 1px solid var(--line); }
.timeline time { font-family: "DejaVu Sans Mono", monospace; margin-right: 8px; }
.timeline .kind { display: inline-block; width: 110px; color: var(--muted); }
.timeline li.anomaly { background: #fdedec; }
.timeline li.historical { color: var(--muted); }
.note, .empty, .loading { color: var(--muted); }
.error { color: #922b21; }
#chart { min-height: 40px; }
`;
