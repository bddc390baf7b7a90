// `--serve [HOST:]PORT` on run, tui and watch: the live /metrics endpoint (src/metrics/serve.ts)
// of the snapshot the command has now. Loopback unless a host is named.
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { Argv } from 'yargs';
import { metricsServer } from '../metrics/serve.js';
import type { Snapshot } from '../metrics/snapshot.js';
import { UsageError } from '../usage-error.js';

export const serveOption = <T>(y: Argv<T>) =>
  y.option('serve', {
    type: 'string',
    describe: 'serve the current snapshot at http://[HOST:]PORT/metrics (default host 127.0.0.1)',
  });

export interface ServeArgs {
  serve?: string | undefined;
}

export interface ServeAddress {
  host: string;
  port: number;
}

const DEFAULT_HOST = '127.0.0.1';
/** A headless run's progress snapshots for --serve: at most this often, in wall ms. */
export const PROGRESS_MS = 250;

/** `9464`, `:9464`, `HOST:9464` or `[IPv6]:9464` (brackets required); port 0 takes a free port. */
export function parseServe(text: string): ServeAddress {
  const m = /^(?:(\[[^\]]*\]|[^:[\]\s/]*):)?(\d{1,5})$/.exec(text);
  const bracketed = m?.[1]?.startsWith('[');
  const host = bracketed ? m![1]!.slice(1, -1) : (m?.[1] ?? '');
  if (!m || Number(m[2]) > 65535 || (bracketed && isIP(host) !== 6))
    throw new UsageError(
      `invalid --serve '${text}': expected [HOST:]PORT, e.g. 9464 or 127.0.0.1:9464`,
    );
  return { host: host || DEFAULT_HOST, port: Number(m[2]) };
}

/** Whether a host name stays on this machine: localhost, 127.0.0.0/8, ::1. */
export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

/** The URL of an address: IPv6 hosts in brackets. */
const url = (host: string, port: number) =>
  `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}/metrics`;

/** Why listening failed, in words, by errno code. */
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the port is in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no such address on this machine',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved',
};

export interface Serving {
  close(): Promise<void>;
}

/**
 * Listen on `--serve`'s address, serving `current()`; once listening, one line on stderr with the
 * URL. An address that cannot be listened on is a usage error (exit 2), like a -o that cannot be
 * written.
 */
export async function serve(text: string, current: () => Snapshot | undefined): Promise<Serving> {
  const { host, port } = parseServe(text);
  const server = metricsServer(current);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: NodeJS.ErrnoException) => {
    const why = LISTEN_ERRORS[e.code ?? ''] ?? e.message;
    throw new UsageError(`cannot serve on ${host}:${port} (--serve ${text}): ${why}`);
  });
  // said once listening: an address that fails gets its error alone, on the first line
  if (!isLoopback(host))
    process.stderr.write(
      `cmascope: note: --serve ${text} is reachable from other machines: anyone who can reach ${host} can read the metrics\n`,
    );
  process.stderr.write(`cmascope: serving ${url(host, (server.address() as AddressInfo).port)}\n`);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a scraper's keep-alive connection would hold it open
      }),
  };
}
