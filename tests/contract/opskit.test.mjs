// The ops kit names only metrics the gateway exports: every chat_* and
// process_* series in the Grafana dashboard (deploy/grafana) and in the alert
// rules (deploy/prometheus) is a family of a live gateway's GET /metrics
// (a histogram's _bucket, _sum and _count included). Fetched with node:http.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contractSuite, request } from './lib.mjs';
import { repoRoot } from '../browser/lib/stack.mjs';

const METRIC = /\b((?:chat|process)_[a-z_]+)\b/g;

function namesIn(texts) {
  const names = new Set();
  for (const text of texts) for (const m of text.matchAll(METRIC)) names.add(m[1]);
  return names;
}

function dashboardExprs() {
  const dashboard = JSON.parse(readFileSync(path.join(repoRoot, 'deploy/grafana/chat-gateway-dashboard.json'), 'utf8'));
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  for (const variable of dashboard.templating.list) if (variable.definition) exprs.push(variable.definition);
  return exprs;
}

function alertExprs() {
  const text = readFileSync(path.join(repoRoot, 'deploy/prometheus/chat-alerts.yml'), 'utf8');
  // The `expr:` values (single line or folded `>-` blocks), not the prose.
  const exprs = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*expr:\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    let expr = m[1] === '>-' ? '' : m[1];
    if (m[1] === '>-') {
      const indent = lines[i + 1].search(/\S/);
      while (i + 1 < lines.length && lines[i + 1].search(/\S/) >= indent && lines[i + 1].trim()) expr += ` ${lines[++i].trim()}`;
    }
    exprs.push(expr);
  }
  return exprs;
}

contractSuite('opskit', {}, (ctx) => {
  test('every metric the dashboard and the alert rules name is on /metrics', async () => {
    const res = await request(ctx.gw.url, '/metrics');
    assert.equal(res.status, 200);
    const families = new Map();
    for (const m of res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1], m[2]);
    const exported = new Set(families.keys());
    for (const [name, type] of families) {
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name + suffix);
    }
    const dashboard = namesIn(dashboardExprs());
    const alerts = namesIn(alertExprs());
    assert.ok(dashboard.size >= 10, `the dashboard names ${dashboard.size} metrics`);
    assert.ok(alerts.size >= 5, `the alerts name ${alerts.size} metrics`);
    const missing = [...new Set([...dashboard, ...alerts])].filter((name) => !exported.has(name));
    assert.deepEqual(missing, [], `not exported: ${missing.join(', ')}`);
  });
});
