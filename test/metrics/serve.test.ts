// The /metrics endpoint (src/metrics/serve.ts): content negotiation as Prometheus does it, the
// bytes of -f prom / -f openmetrics, and the answers to everything else.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exporter } from '../../src/metrics/exporters.js';
import { metricsServer, negotiate } from '../../src/metrics/serve.js';
import type { Snapshot } from '../../src/metrics/snapshot.js';
import { defaultRun } from './fixture.js';

/** What Prometheus 2.42 sends when it scrapes (scrape/scrape.go acceptHeader). */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('negotiate', () => {
  it.each([
    [PROMETHEUS_ACCEPT, 'openmetrics'],
    [undefined, 'prom'],
    ['', 'prom'],
    ['*/*', 'prom'],
    ['text/plain', 'prom'],
    ['text/plain;version=0.0.4', 'prom'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text; version=0.0.1', 'openmetrics'],
    ['Application/OpenMetrics-Text;Version=1.0.0', 'openmetrics'],
    // an OpenMetrics version it does not speak is passed over
    ['application/openmetrics-text;version=2.0.0,text/plain;q=0.1', 'prom'],
    ['text/plain;version=0.0.5,application/openmetrics-text;q=0.2', 'openmetrics'],
    // the highest q wins, whatever the order; q=0 is "not acceptable"
    ['text/plain;q=0.5,application/openmetrics-text;q=0.9', 'openmetrics'],
    ['application/openmetrics-text;q=0.4,text/plain;q=0.5', 'prom'],
    ['application/openmetrics-text;q=0', 'prom'],
    ['application/json', 'prom'],
  ] as const)('%s → %s', (accept, format) => {
    expect(negotiate(accept)).toBe(format);
  });
});

describe('the endpoint', () => {
  let current: Snapshot | undefined;
  const server = metricsServer(() => current);
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('answers 503 until there is a snapshot', async () => {
    current = undefined;
    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(503);
    expect(await r.text()).toBe('no snapshot yet: the workload is starting\n');
  });

  it('serves the current snapshot as -f prom writes it, unless OpenMetrics is asked for', async () => {
    current = defaultRun().intervals[2]!;
    const prom = await fetch(`${base}/metrics`);
    expect(prom.status).toBe(200);
    expect(prom.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await prom.text()).toBe(exporter('prom').end(current));

    const om = await fetch(`${base}/metrics?x=1`, { headers: { accept: PROMETHEUS_ACCEPT } });
    expect(om.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    expect(await om.text()).toBe(exporter('openmetrics').end(current));

    current = defaultRun().final; // the next scrape sees the next snapshot
    const later = await (await fetch(`${base}/metrics`)).text();
    expect(later).toBe(exporter('prom').end(current));
    expect(later).toContain('\ncmascope_sim_time_seconds 20\n');
  });

  it('answers HEAD with the headers only', async () => {
    current = defaultRun().final;
    const r = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('content-length'))).toBe(
      Buffer.byteLength(exporter('prom').end(current)),
    );
    expect(await r.text()).toBe('');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    current = defaultRun().final;
    for (const path of ['/', '/metric', '/metrics/', '/api/v1/query']) {
      const r = await fetch(`${base}${path}`);
      expect(r.status, path).toBe(404);
      expect(await r.text()).toBe('not found: the metrics are at /metrics\n');
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await fetch(`${base}/metrics`, { method, body: method === 'DELETE' ? null : 'x' });
      expect(r.status, method).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
      expect(await r.text()).toBe(`method ${method} not allowed: GET or HEAD\n`);
    }
  });
});
