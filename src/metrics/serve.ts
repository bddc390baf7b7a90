// The live /metrics endpoint (`--serve`): the current snapshot in Prometheus text 0.0.4, or in
// OpenMetrics 1.0.0 when the scraper's Accept header prefers it, rendered on every scrape by the
// same code as `-f prom` and `-f openmetrics` (docs/architecture.md "The live endpoint").
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { openMetricsText, prometheusText } from './exposition.js';
import type { Snapshot } from './snapshot.js';

export const PROM_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * The format an Accept header asks for, as Prometheus' client_golang negotiates it
 * (expfmt.NegotiateIncludingOpenMetrics): the media ranges by falling q, the first that is
 * OpenMetrics (version 1.0.0, 0.0.1 or none) or text/plain (version 0.0.4 or none) wins; else
 * Prometheus text.
 */
export function negotiate(accept: string | undefined): 'prom' | 'openmetrics' {
  const ranges = (accept ?? '')
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((p) => p.trim());
      const param = (name: string) =>
        params
          .map((p) => p.split('=').map((x) => x.trim()))
          .find(([k]) => k?.toLowerCase() === name)?.[1];
      const q = Number(param('q') ?? '1');
      return { type: type.toLowerCase(), version: param('version') ?? '', q };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q); // stable: equal q keep the header's order
  for (const r of ranges) {
    if (r.type === 'application/openmetrics-text' && ['', '1.0.0', '0.0.1'].includes(r.version))
      return 'openmetrics';
    if (r.type === 'text/plain' && ['', '0.0.4'].includes(r.version)) return 'prom';
  }
  return 'prom';
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const PLAIN = 'text/plain; charset=utf-8';

/** The answer to one request: GET (or HEAD) /metrics, the snapshot `current()` returns now. */
function answer(req: IncomingMessage, current: () => Snapshot | undefined): Reply {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics')
    return { status: 404, type: PLAIN, body: 'not found: the metrics are at /metrics\n' };
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return {
      status: 405,
      type: PLAIN,
      body: `method ${req.method} not allowed: GET or HEAD\n`,
      headers: { Allow: 'GET, HEAD' },
    };
  const s = current();
  if (!s) return { status: 503, type: PLAIN, body: 'no snapshot yet: the workload is starting\n' };
  return negotiate(req.headers.accept) === 'openmetrics'
    ? { status: 200, type: OPENMETRICS_CONTENT_TYPE, body: openMetricsText(s) }
    : { status: 200, type: PROM_CONTENT_TYPE, body: prometheusText(s) };
}

/** An HTTP server for /metrics, not yet listening. */
export function metricsServer(current: () => Snapshot | undefined): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const r = answer(req, current);
    res.writeHead(r.status, {
      'Content-Type': r.type,
      'Content-Length': Buffer.byteLength(r.body),
      ...r.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : r.body);
  });
}
