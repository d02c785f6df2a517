// /metrics and /readyz of a gateway with several workers are those of ONE
// gateway (docs/protocol.md section 1): with 10 plain clients open, every scrape
// (each on a new TCP connection, so on any worker) counts exactly 10
// connections, no `_total` counter goes down between two scrapes, and
// /readyz answers 200 every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoProblems, connect, contractSuite, request, room } from './lib.mjs';

/** Parses Prometheus text into a Map of "name{labels}" -> number. */
function parseMetrics(text) {
  const series = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (m) series.set(m[1], Number(m[2]));
  }
  return series;
}

contractSuite('metrics', {}, (ctx) => {
  test('10 open plain clients: every scrape counts 10 connections, counters never go down', async () => {
    const r = room('metrics');
    for (let i = 0; i < 10; i++) await connect(ctx, `room=${r}`);

    const scrapes = [];
    for (let i = 0; i < 10; i++) {
      const res = await request(ctx.gw.url, '/metrics');
      assert.equal(res.status, 200, `scrape ${i + 1}: GET /metrics ${res.status}`);
      scrapes.push(parseMetrics(res.body));
    }

    const problems = [];
    scrapes.forEach((s, i) => {
      const plain = s.get('chat_connections{kind="plain"}') ?? 0;
      const v1 = s.get('chat_connections{kind="v1"}') ?? 0;
      if (plain + v1 !== 10) problems.push(`scrape ${i + 1}: chat_connections plain=${plain} v1=${v1}, sum ${plain + v1}, want 10`);
    });
    for (let i = 1; i < scrapes.length; i++) {
      for (const [key, before] of scrapes[i - 1]) {
        if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*_total(\{|$)/.test(key)) continue;
        const now = scrapes[i].get(key);
        if (now === undefined) problems.push(`scrape ${i + 1}: ${key} vanished (was ${before})`);
        else if (now < before) problems.push(`scrape ${i + 1}: ${key} went down ${before} -> ${now}`);
      }
    }
    assertNoProblems(problems);
  });

  test('GET /readyz answers 200 in 10 consecutive requests', async () => {
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await request(ctx.gw.url, '/readyz')).status);
    assert.deepEqual(statuses, Array(10).fill(200));
  });
});
