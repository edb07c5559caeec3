import autocannon from 'autocannon';
import { ms } from './report.js';

/** autocannon records whole milliseconds: 0 means under one. */
export const latency = (value: number) => (value === 0 ? '< 1 ms' : ms(value));

export type Load = { requests: number; p50: number; p99: number; non2xx: number; errors: number; total: number };

/** One autocannon run: `connections` clients POSTing the same body for `seconds`. */
export async function post(
  url: string,
  token: string | null,
  body: string,
  options: { seconds: number; connections: number },
): Promise<Load> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: options.connections,
    duration: options.seconds,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return {
    requests: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

/** Warm the JIT for `warmup` seconds, then measure; any non-2xx answer or error fails the benchmark. */
export async function measurePost(
  url: string,
  token: string | null,
  body: string,
  options: { seconds: number; connections: number; warmup?: number },
): Promise<Load> {
  await post(url, token, body, { ...options, seconds: options.warmup ?? 2 });
  const result = await post(url, token, body, options);
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors out of ${result.total}`);
  }
  return result;
}
