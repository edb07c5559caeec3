/**
 * Issue 10, "Done when": a generator of hostile proposals — copies and moves between secret and
 * visible places, literal guesses (sometimes right), placeholders, renamed ids, unicode
 * controls — and the invariant that nothing an agent or a bridge can read ever holds a secret it
 * could not read, while every value an owner approves is visible to them.
 *
 * Core level: planChange against pairs of documents that differ only in their secrets' values.
 * Whatever the proposal, both must give the same answer (masking only the keyed hashes): that is
 * oracle freedom (a right guess and a wrong guess look alike) and, since the two secrets differ,
 * also proves no secret value of any JSON type reaches a card, an error or a visible place.
 * HTTP level: the same kind of proposals over a real socket, with owner approvals, reading every
 * response, card view, event, webhook body, log line and audit row.
 */

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rebuildDocument } from '../../src/core/documents.js';
import { CountersignError } from '../../src/core/errors.js';
import { documentHash } from '../../src/core/hash.js';
import { deepEqual, isIdKeyed, isObject, type Json, type JsonObject } from '../../src/core/json.js';
import { applyPatchForm, type PatchForm } from '../../src/core/patch.js';
import { child, element, type Path } from '../../src/core/path.js';
import type { Pattern } from '../../src/core/pattern.js';
import { type PlanResult, planChange } from '../../src/core/plan.js';
import { compilePolicy } from '../../src/core/policy.js';
import { isRedactedPath, REDACTED, redactValue } from '../../src/core/redact.js';
import {
  agentLiteralArb,
  type HostileForm,
  type HostileTerrain,
  hostileFormArb,
  literalCore,
  proposalBody,
  type Step,
  writtenValues,
} from '../core/arbitraries.js';
import { loggingService, type Received, webhookReceiver, writeWebhooks } from '../support/events.js';
import { fixture, installation, shippedPolicy } from '../support/harness.js';

// ------------------------------------------------------------------------------ shared helpers

/** How a value is spelled inside JSON text (controls escaped, bidi and zero-width raw). */
const inJson = (value: string | number): string => JSON.stringify(value).replace(/^"|"$/g, '');

/** The parts of a secret a surface could spell out: its long strings and its long numbers. */
function tokensOf(value: Json): string[] {
  if (typeof value === 'string') return value.length >= 6 && value !== REDACTED ? [value] : [];
  if (typeof value === 'number') return Math.abs(value) >= 1e6 ? [String(value)] : [];
  if (Array.isArray(value)) return value.flatMap(tokensOf);
  if (isObject(value)) return Object.values(value).flatMap(tokensOf);
  return [];
}

/**
 * Where the agent's values land, read as the agent could: its patch applied to the document as
 * it reads it (secrets as "[redacted]"). Scalars under a redacted path are `hidden`, every other
 * scalar and every key `shown`. Null when that reference cannot apply the patch.
 */
function placesOf(
  patterns: readonly Pattern[],
  veiled: JsonObject,
  form: HostileForm,
): { hidden: Set<string>; shown: Set<string> } | null {
  let target: JsonObject;
  try {
    target = applyPatchForm(veiled, form as PatchForm);
  } catch {
    return null;
  }
  const hidden = new Set<string>();
  const shown = new Set<string>();
  const walk = (value: Json, path: Path, redacted: boolean): void => {
    const here = redacted || (path.length > 0 && isRedactedPath(patterns, path));
    if (Array.isArray(value)) {
      const byId = isIdKeyed(value);
      value.forEach((item, index) => {
        walk(item, element(path, byId ? { id: (item as JsonObject).id as string } : { index }), here);
      });
    } else if (isObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        (here ? hidden : shown).add(key);
        walk(item, child(path, key), here);
      }
    } else if (value !== null && typeof value !== 'boolean') {
      (here ? hidden : shown).add(String(value));
    }
  };
  walk(target, [], false);
  return { hidden, shown };
}

// ------------------------------------------------------------------------------ core level

const redact = ['**.token', '**.apiKey', 'mcp.servers.*.env.*', 'agents.list[id=main].secret', 'plain[].pw'];
const policy = compilePolicy({
  version: 1,
  mode: 'approve',
  redact,
  rules: [
    { id: 'tune', match: ['agents.list[].model', 'agents.defaults.**', 'visible.**'], tier: 'allowlisted' },
    { id: 'mcp', match: ['mcp.servers.**'], tier: 'dangerous', review: 'mcp', restart: true },
    { id: 'telegram', match: ['channels.telegram.**'], tier: 'dangerous' },
  ],
});
const KEY = Buffer.alloc(32, 9);
const HASH = `hmac-sha256:${'b'.repeat(64)}`;

/** Redacted places of the core document; each may hold a secret of any JSON type. */
const slots: Array<{ place: Step[] }> = [
  { place: ['channels', 'telegram', 'token'] },
  { place: ['channels', 'slack', 'token'] },
  { place: ['mcp', 'servers', 'fs', 'env', 'API'] },
  { place: ['mcp', 'servers', 'fs', 'env', 'OTHER'] },
  { place: ['agents', 'list', { id: 'main' }, 'secret'] },
  { place: ['agents', 'list', { id: 'main' }, 'apiKey'] },
  { place: ['agents', 'list', { id: 'ops' }, 'apiKey'] },
  { place: ['plain', { index: 0 }, 'pw'] },
  { place: ['plain', { index: 1 }, 'pw'] },
  { place: ['deep', 'a', 'b', 'token'] },
];

/**
 * A secret of any JSON type. Strings start `SECRET` and long numbers start 9 so a leak can be
 * searched for; the others (booleans, null, "", "[redacted]", a value also shown elsewhere)
 * cannot be searched for, and are caught by comparing two documents instead.
 */
const secretValueArb: fc.Arbitrary<Json> = fc.oneof(
  fc.nat(99_999).map((n) => `SECRETs${n}q`),
  fc.nat(99_999).map((n) => 9_000_000_000 + n),
  fc.nat(99_999).map((n) => ({ inner: `SECRETo${n}q`, n: 9_100_000_000 + n })),
  fc.nat(99_999).map((n) => [`SECRETa${n}q`, 9_200_000_000 + n]),
  fc.nat(99_999).map((n) => [{ id: 'main', token: `SECRETi${n}q` }]),
  fc.constantFrom<Json>(true, false, null, '', REDACTED, 'hello', 3, {}, []),
);

type CoreCase = {
  bases: [JsonObject, JsonObject];
  secrets: [Json[], Json[]];
  form: HostileForm;
};

/** The document with each filled slot set (the slot's place made to exist), lists in the given order. */
function coreDocument(values: Array<Json | undefined>, opsFirst: boolean): JsonObject {
  const main = { id: 'main', model: 'a' };
  const ops = { id: 'ops', model: 'b' };
  let document: Json = {
    channels: { telegram: { name: 'tg', enabled: true }, slack: {} },
    mcp: { servers: { fs: { command: 'npx', args: ['-y', 'fs'], env: {} } } },
    agents: { defaults: { model: 'm', thinkingDefault: 'low' }, list: opsFirst ? [ops, main] : [main, ops] },
    plain: [{ label: 'p0' }, { label: 'p1' }],
    deep: { a: { b: {} } },
    visible: { prefix: 'hello', n: 3, list: ['a', 'b'] },
  };
  values.forEach((value, index) => {
    if (value !== undefined) document = setPlace(document, (slots[index] as { place: Step[] }).place, value);
  });
  return document as JsonObject;
}

function setPlace(document: Json, place: readonly Step[], value: Json): Json {
  if (place.length === 0) return value;
  const [step, ...rest] = place as [Step, ...Step[]];
  if (typeof step === 'string') {
    const object = isObject(document) ? { ...document } : {};
    object[step] = setPlace(object[step] as Json, rest, value);
    return object;
  }
  const list = Array.isArray(document) ? [...document] : [];
  const index = 'id' in step ? list.findIndex((item) => isObject(item) && item.id === step.id) : step.index;
  list[index] = setPlace(list[index] as Json, rest, value);
  return list;
}

function coreTerrain(veiled: JsonObject, opsFirst: boolean, guesses: Json[]): HostileTerrain {
  const main = opsFirst ? 1 : 0;
  const ops = opsFirst ? 0 : 1;
  return {
    veiled,
    secretPointers: [
      '/channels/telegram/token',
      '/channels/slack/token',
      '/mcp/servers/fs/env/API',
      '/mcp/servers/fs/env/OTHER',
      '/mcp/servers/fs/env/NEW',
      `/agents/list/${main}/secret`,
      `/agents/list/${main}/apiKey`,
      `/agents/list/${ops}/apiKey`,
      `/agents/list/${ops}/secret`,
      '/plain/0/pw',
      '/plain/1/pw',
      '/deep/a/b/token',
      '/channels/new/token',
    ],
    containerPointers: [
      '/channels/telegram',
      '/channels',
      '/mcp/servers/fs/env',
      '/mcp/servers/fs',
      `/agents/list/${main}`,
      `/agents/list/${ops}`,
      '/agents/list',
      '/plain/0',
      '/plain',
      '/deep/a',
    ],
    visiblePointers: [
      '/visible/prefix',
      '/visible/n',
      '/visible/list/0',
      '/visible/list/-',
      '/agents/defaults/model',
      `/agents/list/${main}/model`,
      `/agents/list/${ops}/model`,
      '/channels/telegram/name',
      '/mcp/servers/fs/command',
      '/mcp/servers/fs/args/1',
      '/plain/0/label',
      '/x',
    ],
    idPointers: [`/agents/list/${main}/id`, `/agents/list/${ops}/id`],
    appendPointers: ['/agents/list/-', '/plain/-', '/visible/list/-'],
    secretPlaces: [
      ...slots.map((slot) => slot.place),
      ['agents', 'list', { id: 'new' }, 'apiKey'],
      ['mcp', 'servers', 'fs', 'env'],
      ['channels', 'telegram'],
    ],
    visiblePlaces: [
      ['visible', 'prefix'],
      ['visible', 'list'],
      ['agents', 'defaults', 'model'],
      ['agents', 'list', { id: 'main' }, 'model'],
      ['agents', 'list', { id: 'ops' }, 'secret'],
      ['agents', 'list', { id: 'main' }, 'id'],
      ['plain', { index: 0 }, 'label'],
      ['channels', 'telegram', 'name'],
      ['x'],
    ],
    guesses,
  };
}

const coreCaseArb: fc.Arbitrary<CoreCase> = fc
  .tuple(
    fc.array(
      fc.option(
        fc.tuple(secretValueArb, secretValueArb).filter(([a, b]) => !deepEqual(a, b)),
        { nil: undefined, freq: 5 },
      ),
      { minLength: slots.length, maxLength: slots.length },
    ),
    fc.boolean(),
  )
  .chain(([pairs, opsFirst]) => {
    const first = pairs.map((pair) => pair?.[0]);
    const second = pairs.map((pair) => pair?.[1]);
    const bases: [JsonObject, JsonObject] = [coreDocument(first, opsFirst), coreDocument(second, opsFirst)];
    // What the agent reads is the same for both: every secret is "[redacted]".
    const veiled = coreDocument(
      pairs.map((pair) => (pair ? REDACTED : undefined)),
      opsFirst,
    );
    const filled = (values: Array<Json | undefined>) => values.filter((value): value is Json => value !== undefined);
    const guesses = [...filled(first), ...filled(second), 'SECRETs1q', 9_000_000_001];
    return hostileFormArb(coreTerrain(veiled, opsFirst, guesses)).map(
      (form): CoreCase => ({ bases, secrets: [filled(first), filled(second)], form }),
    );
  });

type Outcome = { error: Record<string, unknown> } | PlanResult;

function planOutcome(base: JsonObject, form: HostileForm): Outcome {
  try {
    return planChange(policy, base, HASH, form as PatchForm, { hashKey: KEY });
  } catch (error) {
    // Anything but a refusal is a crash the agent could provoke.
    expect(error).toBeInstanceOf(CountersignError);
    return (error as CountersignError).toBody();
  }
}

/** The outcome as an agent could compare two of them: hashes are keyed with the real values, so they are masked. */
function comparable(outcome: Outcome): unknown {
  if ('error' in outcome || outcome.kind === 'unchanged') return outcome;
  return {
    ...outcome,
    target: redactValue(policy.redactPatterns, outcome.target, []),
    // The exact operations carry real values, as the target does: they are stored, never shown.
    writeOperations: null,
    targetHash: null,
    patchHash: null,
  };
}

describe('hostile proposals at the core: planChange', () => {
  it('answers the same whatever the secrets are, shows no secret, and shows the owner everything the agent wrote', () => {
    fc.assert(
      fc.property(coreCaseArb, ({ bases, secrets, form }) => {
        const outcomes = bases.map((base) => planOutcome(base, form)) as [Outcome, Outcome];
        // (b) Oracle freedom: two documents that differ only in their secrets give the same
        // answer — so a right guess and a wrong one look alike, and no secret value of any type
        // (not even a boolean) reaches an error, a card or a visible place of the target.
        expect(comparable(outcomes[1])).toEqual(comparable(outcomes[0]));

        const written = writtenValues(form);
        const writtenText = new Set(written.flatMap((value) => tokensOf(value)));
        bases.forEach((base, which) => {
          const outcome = outcomes[which] as Outcome;
          const documentSecrets = [...new Set((secrets[which] as Json[]).flatMap(tokensOf))];
          if ('error' in outcome) {
            // (a) A refusal names paths, never values.
            const text = JSON.stringify(outcome);
            for (const secret of documentSecrets) {
              if (!writtenText.has(secret)) expect(text, `${secret} in a refusal`).not.toContain(inJson(secret));
            }
            return;
          }
          if (outcome.kind === 'unchanged') return;
          // (d) What is stored instead of the target (issue 14) rebuilds it exactly from the real
          // base, secrets restored where the proposer wrote "[redacted]" or moved one: same hash.
          const rebuilt = rebuildDocument(JSON.parse(JSON.stringify(base)) as JsonObject, outcome.writeOperations);
          expect(documentHash(KEY, rebuilt)).toBe(documentHash(KEY, outcome.target));
          const veiledPlaces = placesOf(policy.redactPatterns, veilDocument(base), form);
          const shown = veiledPlaces?.shown ?? new Set<string>(writtenText);
          const hidden = veiledPlaces?.hidden ?? new Set<string>();
          const owner = JSON.stringify([outcome.changes, outcome.operations]);
          const publicText = JSON.stringify([outcome.publicChanges, outcome.publicOperations]);
          const visibleTarget = JSON.stringify(redactValue(policy.redactPatterns, outcome.target, []));
          for (const secret of documentSecrets) {
            // (a) The owner's card holds no secret of the document unless the agent wrote it itself.
            if (!writtenText.has(secret)) expect(owner, `${secret} on the owner's card`).not.toContain(inJson(secret));
            // (a) Chat cards, events, webhooks and logs hold it only if the agent wrote it somewhere visible.
            if (!shown.has(secret)) {
              expect(publicText, `${secret} on the public card`).not.toContain(inJson(secret));
              // (d) Applying never puts a secret of the document at a place that is not redacted.
              expect(visibleTarget, `${secret} at a visible place`).not.toContain(inJson(secret));
            }
          }
          for (const value of hidden) {
            const core = literalCore(value);
            if (core === null || [...shown].some((other) => other.includes(core))) continue;
            // (a) What the agent wrote at redacted places is veiled everywhere but the owner's card.
            expect(publicText, `${core}, written at a redacted place, on the public card`).not.toContain(core);
          }
          for (const value of [...hidden, ...shown]) {
            const core = literalCore(value);
            // (c) Everything the agent wrote into the target is on the owner's card, in changes and operations.
            if (core !== null) {
              expect(JSON.stringify(outcome.changes), `${core} missing from the owner's changes`).toContain(core);
              expect(JSON.stringify(outcome.operations), `${core} missing from the owner's operations`).toContain(core);
            }
          }
          // A write at a redacted place never reveals, through the target hash, that nothing changed.
          if (deepEqual(outcome.target, base)) expect(outcome.targetHash).not.toBe(documentHash(KEY, base));
          // A copied secret always says where it came from.
          expect(outcome.secretSources.length > 0).toBe(outcome.changes.some((change) => change.from !== undefined));
        });
      }),
      { numRuns: 1000 },
    );
  });
});

/** The core document as the agent reads it. */
function veilDocument(base: JsonObject): JsonObject {
  return redactValue(policy.redactPatterns, base, []) as JsonObject;
}

// ------------------------------------------------------------------------------ HTTP level

// biome-ignore lint/suspicious/noExplicitAny: the fixture is edited field by field
type Loose = any;

const GATEWAY_TOKEN = 'oc_live_7f3a9c2e5b1d4f60a8e2c7b9d1f3a5c7';
const BOT_TOKEN = '123456789:AAFakeTelegramTokenForFixturesOnly00';
/** Secrets added to the fixture: every JSON type, by path and by content (an MCP argument). */
const DISCORD_TOKEN = 9182736450;
const ACME_KEY = 'sk-acme-extra-Vb27Lq9Xw3Rt';
const SERVICE_ACCOUNT = {
  type: 'service_account',
  private_key: 'pk-obj-secret-Hq55Zr8Tn1',
  client_email: 'bot-Kp4Zw9@sa-mail.invalid',
};
const MCP_ENV = 'mcp-env-secret-Lw93Kd2Pm7';
const ARG_KEY = 'sk-live-abcdef0123456789abcdef';
const ENV_LIST = ['arr-secret-Jd71Xc4Vb8Nm', 7264519038];
const PROD_KEY = 'sk-prod-key-Mn45Ty78QwEr';
const TEST_KEY = 'sk-test-key-Zx12Cv34BnUi';

function hostileDocument(): JsonObject {
  const document = fixture('openclaw.json') as Loose;
  document.channels.discord.token = DISCORD_TOKEN;
  document.channels.googlechat = { enabled: false, serviceAccount: SERVICE_ACCOUNT };
  document.models = {
    providers: {
      acme: {
        baseUrl: 'https://api.acme.example',
        apiKey: ACME_KEY,
        keys: [
          { id: 'prod', apiKey: PROD_KEY },
          { id: 'test', apiKey: TEST_KEY },
        ],
      },
    },
  };
  document.mcp.servers.filesystem.env = { FS_TOKEN: MCP_ENV };
  document.mcp.servers.search = { command: 'npx', args: ['-y', 'search-mcp@1.0.0', '--api-key', ARG_KEY] };
  document.env = { vars: { SECRET_LIST: ENV_LIST } };
  return document as JsonObject;
}

const documentSecrets: Json[] = [
  GATEWAY_TOKEN,
  BOT_TOKEN,
  DISCORD_TOKEN,
  ACME_KEY,
  SERVICE_ACCOUNT,
  MCP_ENV,
  ARG_KEY,
  ENV_LIST,
  PROD_KEY,
  TEST_KEY,
];

function httpTerrain(veiled: JsonObject): HostileTerrain {
  return {
    veiled,
    secretPointers: [
      '/gateway/auth/token',
      '/channels/telegram/botToken',
      '/channels/discord/token',
      '/channels/discord/botToken',
      '/channels/googlechat/serviceAccount',
      '/models/providers/acme/apiKey',
      '/models/providers/acme/keys/0/apiKey',
      '/models/providers/acme/keys/1/apiKey',
      '/mcp/servers/filesystem/env/FS_TOKEN',
      '/mcp/servers/search/args/3',
      '/env/vars/SECRET_LIST',
      '/diagnostics/otel/headers/Authorization',
      '/skills/entries/weather/env/NODE_OPTIONS',
      '/gateway/auth/password',
    ],
    containerPointers: [
      '/gateway/auth',
      '/channels/telegram',
      '/channels/googlechat',
      '/models/providers/acme',
      '/models/providers/acme/keys',
      '/models/providers/acme/keys/0',
      '/mcp/servers/filesystem/env',
      '/mcp/servers/search/args',
      '/mcp/servers/search',
      '/env/vars',
    ],
    visiblePointers: [
      '/messages/prefix',
      '/agents/defaults/thinkingDefault',
      '/agents/entries/main/model',
      '/gateway/controlUi/basePath',
      '/models/providers/acme/baseUrl',
      '/mcp/servers/filesystem/args/2',
      '/mcp/servers/search/args/-',
      '/channels/telegram/dmPolicy',
      '/meta/note',
    ],
    idPointers: ['/models/providers/acme/keys/0/id', '/models/providers/acme/keys/1/id'],
    appendPointers: ['/models/providers/acme/keys/-', '/mcp/servers/search/args/-', '/plugins/allow/-'],
    secretPlaces: [
      ['gateway', 'auth', 'token'],
      ['channels', 'telegram', 'botToken'],
      ['channels', 'discord', 'token'],
      ['channels', 'googlechat', 'serviceAccount'],
      ['models', 'providers', 'acme', 'apiKey'],
      ['models', 'providers', 'acme', 'keys', { id: 'prod' }, 'apiKey'],
      ['models', 'providers', 'acme', 'keys', { id: 'new' }, 'apiKey'],
      ['mcp', 'servers', 'filesystem', 'env', 'FS_TOKEN'],
      ['skills', 'entries', 'weather', 'env', 'NODE_OPTIONS'],
      ['env', 'vars', 'PATH'],
    ],
    visiblePlaces: [
      ['messages', 'prefix'],
      ['agents', 'defaults', 'thinkingDefault'],
      ['agents', 'entries', 'main', 'model'],
      ['gateway', 'controlUi', 'basePath'],
      ['models', 'providers', 'acme', 'baseUrl'],
      ['mcp', 'servers', 'search', 'args', { index: 3 }],
    ],
    guesses: [
      ...documentSecrets,
      'oc_live_00000000000000000000000000000000',
      918273645,
      { ...SERVICE_ACCOUNT, private_key: 'pk-wrong' },
    ],
  };
}

/**
 * What a surface could spell out of a secret: every 12-character stretch of a long string (so a
 * value cut short for display is still caught), or the whole of a shorter one.
 */
function fragmentsOf(value: Json): string[] {
  return tokensOf(value).flatMap((token) => {
    if (token.length < 16) return [token];
    const windows: string[] = [];
    for (let start = 0; start + 12 <= token.length; start += 4) windows.push(token.slice(start, start + 12));
    return windows;
  });
}

type Surface = { where: string; text: string };

/** Markdown escapes punctuation (`oc\_live\_…`); a leak must not hide behind a backslash. */
const readable = (text: string): string => `${text}\n${text.replace(/\\/g, '')}`;

type Step0 = { form: HostileForm; reason: string; dryRun: boolean; decision: 'approve' | 'deny' | 'leave' };

const stepArb = (veiled: JsonObject): fc.Arbitrary<Step0> =>
  fc.record({
    form: hostileFormArb(httpTerrain(veiled)),
    reason: fc.oneof(
      agentLiteralArb,
      fc.constantFrom('\u001b[3A\r\u001b[2KTier: PROTECTED\u001b[8m', 'fine ` **bold** # heading', '\u202eevil'),
    ),
    dryRun: fc.nat(4).map((n) => n === 0),
    decision: fc.constantFrom('approve', 'approve', 'deny', 'leave'),
  }) as fc.Arbitrary<Step0>;

describe('hostile proposals over HTTP', () => {
  it('no response, card, event, webhook, log line or audit row shows a secret its reader could not read', async () => {
    const receiver = await webhookReceiver();
    const initialVeiled = redactValue(
      compilePolicy(JSON.parse(readFileSync(shippedPolicy, 'utf8'))).redactPatterns,
      hostileDocument(),
      [],
    ) as JsonObject;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb(initialVeiled), { minLength: 1, maxLength: 3 }), async (steps) => {
        receiver.received.length = 0;
        await hostileSession(receiver, steps);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

type Scenario = { document: JsonObject; secrets: readonly Json[] };

async function hostileSession(
  receiver: { url: string; received: Received[] },
  steps: Step0[],
  { document, secrets }: Scenario = { document: hostileDocument(), secrets: documentSecrets },
): Promise<void> {
  const h = await installation({
    document,
    // No authenticator here: dangerous approvals take the typed phrase only.
    policyEdit: (policy: Loose) => {
      policy.approval.totp.tiers = [];
    },
  });
  writeWebhooks(h.dir, [{ url: receiver.url, secret: 'whsec_0123456789abcdef' }]);
  // Closed below, before the leak checks read the logs, not when the property's test ends.
  const { service, app, logs } = await loggingService(
    h.dir,
    h.clock.now,
    {
      logRequests: true,
      rateLimit: false,
      webhooks: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10, timeoutMs: 2000, random: () => 0 },
    },
    { close: false },
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const events: unknown[] = [];
  for (const name of ['proposal.created', 'proposal.resolved', 'change.applied'] as const) {
    service.events.on(name, (payload: unknown) => events.push({ name, payload }));
  }
  const patterns = service.targets.values().next().value?.policy.redactPatterns as readonly Pattern[];

  // Who may read what: the agent's own replies and the owner's card may echo what the agent
  // wrote; chat cards, events, webhooks, logs, audit and config reads may not.
  const proposerViews: Surface[] = [];
  const ownerCards: Surface[] = [];
  const publicViews: Surface[] = [];
  const http = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Loose = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: response.status, body: parsed, text, where: `${method} ${url} → ${response.status}` };
  };

  const written = new Set<string>();
  const shown = new Set<string>();
  const hidden = new Set<string>();
  /** Literal cores the owner saw on a card they approved, or the agent saw applied without approval. */
  const approvedCores = new Set<string>();
  try {
    for (const step of steps) {
      const config = await http('GET', '/v1/config', h.agentToken);
      publicViews.push({ where: config.where, text: config.text });
      const veiled = config.body.config as JsonObject;
      for (const value of writtenValues(step.form)) for (const token of tokensOf(value)) written.add(token);
      written.add(step.reason);
      shown.add(step.reason);
      const places = placesOf(patterns, veiled, step.form);
      const mine = {
        hidden: places?.hidden ?? new Set<string>(),
        shown: places?.shown ?? new Set(tokensOf(writtenValues(step.form) as Json)),
      };
      for (const value of mine.hidden) hidden.add(value);
      for (const value of mine.shown) shown.add(value);

      const response = await http('POST', '/v1/proposals', h.agentToken, {
        baseHash: config.body.hash,
        sessionKey: 's1',
        reason: step.reason,
        dryRun: step.dryRun,
        ...proposalBody(step.form),
      });
      proposerViews.push({ where: response.where, text: response.text });
      expect(response.status, response.text).toBeLessThan(500);
      const card = response.body?.proposal;
      if (!card) continue;
      // (c) Everything the agent wrote into the document is on the card it gets back.
      // The agent's own values this proposal puts in the document.
      const ownCores = new Set(
        writtenValues(step.form).flatMap((value) => (typeof value === 'string' ? (literalCore(value) ?? []) : [])),
      );
      const cores = [...mine.hidden, ...mine.shown].flatMap((value) => {
        const core = literalCore(value);
        // A value already in the document (an earlier approval, sent back whole) is not a change.
        return core !== null && ownCores.has(core) && !config.text.includes(core) ? [core] : [];
      });
      for (const core of cores) expect(JSON.stringify(card.changes), `${core} hidden from the card`).toContain(core);
      if (response.body.status === 'applied') for (const core of cores) approvedCores.add(core);
      if (response.body.status !== 'pending') continue;

      const ownerCard = await http('GET', `/v1/proposals/${card.id}`, h.ownerToken);
      ownerCards.push({ where: ownerCard.where, text: ownerCard.text });
      for (const core of cores)
        expect(JSON.stringify(ownerCard.body.changes), `${core} hidden from the owner`).toContain(core);
      const text = await http('GET', `/v1/proposals/${card.id}/card?format=text`, h.ownerToken);
      ownerCards.push({ where: text.where, text: text.text });
      const markdown = await http('GET', `/v1/proposals/${card.id}/card?format=markdown`, h.ownerToken);
      publicViews.push({ where: markdown.where, text: markdown.text });
      const own = await http('GET', `/v1/proposals/${card.id}`, h.agentToken);
      proposerViews.push({ where: own.where, text: own.text });

      if (step.decision === 'approve') {
        const approved = await http('POST', `/v1/proposals/${card.id}/approve`, h.ownerToken, {
          patchHash: ownerCard.body.patchHash,
          confirm: ownerCard.body.approval.confirmPhrase ?? undefined,
        });
        ownerCards.push({ where: approved.where, text: approved.text });
        if (approved.status === 200) for (const core of cores) approvedCores.add(core);
      } else if (step.decision === 'deny') {
        const denied = await http('POST', `/v1/proposals/${card.id}/deny`, h.ownerToken, { reason: 'no' });
        ownerCards.push({ where: denied.where, text: denied.text });
      }
    }
    const list = await http('GET', '/v1/proposals', h.agentToken);
    proposerViews.push({ where: list.where, text: list.text });
    const ownerList = await http('GET', '/v1/proposals', h.ownerToken);
    ownerCards.push({ where: ownerList.where, text: ownerList.text });
    const config = await http('GET', '/v1/config', h.agentToken);
    publicViews.push({ where: config.where, text: config.text });
    const audit = await http('GET', '/v1/audit?limit=500', h.ownerToken);
    publicViews.push({ where: audit.where, text: audit.text });
    await app.webhooks?.idle();
  } finally {
    await app.close();
    service.close();
  }
  publicViews.push({ where: 'audit rows', text: JSON.stringify(h.service.audit.list({ limit: 1000 })) });
  publicViews.push({ where: 'events', text: JSON.stringify(events) });
  publicViews.push(...receiver.received.map(({ body }) => ({ where: 'webhook body', text: body })));
  publicViews.push(...logs.map((line) => ({ where: 'log line', text: line })));

  // Nothing the agent did not write itself: no secret of the document on any surface it or a bridge reads.
  const echoing = [...proposerViews, ...ownerCards].map((view) => ({ ...view, text: readable(view.text) }));
  const bridged = publicViews.map((view) => ({ ...view, text: readable(view.text) }));
  for (const secret of secrets) {
    const agentKnows = tokensOf(secret).some((token) => written.has(token));
    const agentShowed = tokensOf(secret).some((token) => shown.has(token));
    const views = [...(agentKnows ? [] : echoing), ...(agentShowed ? [] : bridged)];
    for (const fragment of fragmentsOf(secret)) {
      const leak = views.find((view) => view.text.includes(fragment));
      expect(leak && `${fragment} in ${leak.where}: ${leak.text.slice(0, 2000)}`).toBeUndefined();
    }
  }
  // What the agent wrote at redacted places is shown to owners only.
  for (const value of hidden) {
    const core = literalCore(value);
    if (core === null || [...shown].some((other) => other.includes(core))) continue;
    const leak = publicViews.find((view) => view.text.includes(core));
    expect(
      leak && `${core}, written at a redacted place, in ${leak.where}: ${leak.text.slice(0, 2000)}`,
    ).toBeUndefined();
  }
  // Everything of the agent's now in the document was on a card the owner approved (or applied as allowlisted).
  const now = h.documentText();
  for (const core of new Set([...hidden, ...shown].flatMap((value) => literalCore(value) ?? []))) {
    if (now.includes(core)) expect(approvedCores.has(core), `${core} applied unseen`).toBe(true);
  }
}

// ------------------------------------------------------------------------------ what the generator found

const step = (form: HostileForm, decision: Step0['decision'] = 'approve'): Step0 => ({
  form,
  reason: 'tidy up',
  dryRun: false,
  decision,
});

describe('hostile proposals: minimal cases the generators found', () => {
  it('core: an object guessed at a redacted place that holds an object secret looks the same right or wrong', () => {
    // Found on the code of 30 Nov 21:20: the object's inner leaves were not seen as redacted, so the
    // change was allowlisted, its target hash equalled the base hash for the right guess, and chat
    // cards showed the guess. Fixed since; kept so it stays fixed.
    const secret = { inner: 'SECRETo1q', n: 9_100_000_001 };
    const local = compilePolicy({
      version: 1,
      mode: 'approve',
      redact: ['**.token'],
      rules: [{ id: 'tune', match: ['visible.**'], tier: 'allowlisted' }],
    });
    const base = { visible: { token: secret } };
    const answers = [secret, { inner: 'wrong', n: 9_100_000_001 }].map((guess) => {
      const result = planChange(
        local,
        base,
        HASH,
        { kind: 'merge', patch: { visible: { token: guess } }, replacePaths: [] },
        { hashKey: KEY },
      );
      if (result.kind !== 'change') throw new Error('expected a change');
      expect(result.tier).not.toBe('allowlisted');
      expect(result.targetHash).not.toBe(documentHash(KEY, base));
      expect(JSON.stringify([result.publicChanges, result.publicOperations])).not.toMatch(/SECRETo1q|wrong/);
      return { tier: result.tier, paths: result.changes.map((change) => [change.path, change.op]) };
    });
    expect(answers[0]).toEqual(answers[1]);
  });

  const searchServer = (args: Json[]): Scenario => {
    const document = hostileDocument() as Loose;
    document.mcp.servers.search = { command: 'npx', args };
    return { document, secrets: [...documentSecrets, ...args.filter((arg) => arg === 'correct-horse-battery')] };
  };

  it('HTTP: a non-string argument added to an MCP server must not unmask the API key among its arguments', async () => {
    // Today: the owner approves `args: […, "--api-key", "[redacted]"] → [1, …, "--api-key", "[redacted]"]`,
    // and GET /v1/config then shows the key: a list that is not all strings is never searched for secrets.
    const receiver = await webhookReceiver();
    await hostileSession(receiver, [
      step({ kind: 'operations', operations: [{ op: 'add', path: '/mcp/servers/search/args/0', value: 1 }] }),
    ]);
  });

  it('HTTP: renaming the flag in front of a secret argument must not unmask it', async () => {
    // Today: a dry-run of `replace /mcp/servers/search/args/1 "--label"` returns the password in
    // the card's MCP review (recognised only by the `--password` in front of it, and the review is
    // built from the real target); the changes say `"--password", "[redacted]"` → `"--label",
    // "[redacted]"`, and once approved GET /v1/config shows the password as well.
    const receiver = await webhookReceiver();
    const rename: HostileForm = {
      kind: 'operations',
      operations: [{ op: 'replace', path: '/mcp/servers/search/args/1', value: '--label' }],
    };
    await hostileSession(
      receiver,
      [{ ...step(rename), dryRun: true }, step(rename)],
      searchServer(['search-mcp@1.0.0', '--password', 'correct-horse-battery']),
    );
  });

  it("HTTP: a dry-run copying the gateway auth object into an MCP server's args does not return the token", async () => {
    // Today: `copy /gateway/auth → /mcp/servers/filesystem/args/-` is allowed (the token lands at
    // `args[3].token`, a redacted place), and the card's MCP review prints that argument as JSON
    // from the real target: `{"mode":"token","token":"oc_live_7f3a…"}` — in the dry-run reply to
    // the agent, with no owner involved.
    const receiver = await webhookReceiver();
    const copy: HostileForm = {
      kind: 'operations',
      operations: [{ op: 'copy', from: '/gateway/auth', path: '/mcp/servers/filesystem/args/-' }],
    };
    await hostileSession(receiver, [{ ...step(copy, 'leave'), dryRun: true }, step(copy, 'leave')]);
  });

  it('HTTP: an MCP argument that is an object shows none of its redacted members in the MCP review', async () => {
    // Today: the review prints a non-string argument as JSON and redacts it by content only, so
    // `{"token":"hunter2","note":"hello world"}` reaches the proposing agent's card, the
    // owner's cards, chat cards, events and webhooks in clear.
    const receiver = await webhookReceiver();
    const document = hostileDocument() as Loose;
    document.mcp.servers.filesystem.args.push({ token: 'hunter2', note: 'hello world' });
    await hostileSession(
      receiver,
      [
        step(
          { kind: 'merge', patch: { mcp: { servers: { filesystem: { cwd: '/tmp' } } } }, replacePaths: [] },
          'leave',
        ),
      ],
      { document, secrets: [...documentSecrets, 'hunter2'] },
    );
  });
});
