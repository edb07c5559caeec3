import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect, onTestFinished } from 'vitest';
import { documentHash } from '../../src/core/hash.js';
import { buildApp } from '../../src/http/app.js';
import { openService, type Service } from '../../src/service/context.js';
import { defaultPolicyFile, initInstallation, mintToken } from '../../src/service/install.js';

export const fixtures = new URL('../fixtures/', import.meta.url).pathname;
export const shippedPolicy = defaultPolicyFile;

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as Record<string, unknown>;
}

/** A temporary directory removed when the current test ends. */
export function tempDir(prefix = 'countersign-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A clock tests can move: expiry and TOTP are checked against it, not the wall clock. */
export class TestClock {
  constructor(public current = new Date()) {}
  now = (): Date => new Date(this.current);
  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

export type InstallationOptions = {
  document?: Record<string, unknown>;
  policy?: Record<string, unknown>;
  policyEdit?: (policy: Record<string, unknown>) => void;
  /**
   * A JSON Schema file for the target. Unlike `countersign init`, the harness attaches none unless
   * asked: most tests exercise policy with documents OpenClaw's schema would refuse, and the
   * schema has its own tests (test/core/json-schema, test/e2e/schema).
   */
  schema?: string;
  clock?: TestClock;
  rateLimit?: boolean;
};

export type Harness = {
  dir: string;
  configPath: string;
  ownerToken: string;
  agentToken: string;
  service: Service;
  app: FastifyInstance;
  clock: TestClock;
  request: (method: string, url: string, token: string | null, body?: unknown) => Promise<LightMyRequestResponse>;
  currentHash: () => string;
  document: () => Record<string, unknown>;
  documentText: () => string;
  token: (input: Parameters<typeof mintToken>[1]) => string;
  auditKinds: () => string[];
  /** Listens on 127.0.0.1 (a free port) and returns the base URL: for tests that must cross a real socket. */
  listen: () => Promise<string>;
  /** `fetch` against the listening server (starts it on first use); JSON in, parsed JSON out. */
  http: (method: string, url: string, token: string | null, body?: unknown) => Promise<HttpReply>;
};

// biome-ignore lint/suspicious/noExplicitAny: tests read reply bodies field by field, as a client would
export type HttpReply = { status: number; body: any; text: string; headers: Headers };

/** A real installation: data directory, SQLite file, document on disk, and the fastify app (for inject). */
export async function installation(options: InstallationOptions = {}): Promise<Harness> {
  const dir = tempDir();
  const configPath = join(dir, 'openclaw.json');
  writeFileSync(configPath, `${JSON.stringify(options.document ?? fixture('openclaw.json'), null, 2)}\n`, {
    mode: 0o600,
  });
  let policyPath: string | undefined;
  if (options.policy || options.policyEdit) {
    const policy = options.policy ?? (JSON.parse(readFileSync(shippedPolicy, 'utf8')) as Record<string, unknown>);
    options.policyEdit?.(policy);
    policyPath = join(dir, 'policy.json');
    writeFileSync(policyPath, JSON.stringify(policy));
  }
  const data = join(dir, 'data');
  const installed = initInstallation(data, {
    config: configPath,
    policy: policyPath,
    schema: options.schema ?? null,
    demoDocument: {},
  });
  const clock = options.clock ?? new TestClock();
  const service = openService(data, { now: clock.now });
  const app = await buildApp(service, { logRequests: false, rateLimit: options.rateLimit ?? false });
  onTestFinished(async () => {
    await app.close();
    service.close();
  });
  let baseUrl: string | null = null;
  const listen = async (): Promise<string> => {
    baseUrl ??= await app.listen({ host: '127.0.0.1', port: 0 });
    return baseUrl;
  };
  const documentText = () => readFileSync(configPath, 'utf8');
  const document = () => JSON.parse(documentText()) as Record<string, unknown>;
  return {
    dir: data,
    configPath,
    ownerToken: installed.ownerToken,
    agentToken: installed.agentToken,
    service,
    app,
    clock,
    request: (method, url, token, body) =>
      app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    currentHash: () => documentHash(service.hashKey, document()),
    document,
    documentText,
    token: (input) => mintToken(service, input).token,
    auditKinds: () => service.audit.list({ limit: 1000 }).map((event) => event.kind),
    listen,
    http: async (method, url, token, body) => {
      const response = await fetch(`${await listen()}${url}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      return { status: response.status, body: parsed, text, headers: response.headers };
    },
  };
}

/** The agent proposes `patch`; unless it applied at once, the owner approves it (typing the phrase when asked). Returns the proposal id. */
export async function proposeAndApply(h: Harness, patch: unknown): Promise<string> {
  const proposed = await h.request('POST', '/v1/proposals', h.agentToken, { baseHash: h.currentHash(), patch });
  const card = proposed.json().proposal;
  if (proposed.json().status !== 'applied') {
    const approved = await h.request('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
      patchHash: card.patchHash,
      confirm: card.approval.confirmPhrase ?? undefined,
    });
    expect(approved.statusCode, approved.body).toBe(200);
  }
  return card.id;
}
