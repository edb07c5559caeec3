/**
 * Child process for bench/http.ts: the least a stored proposal must cost, whatever the code
 * around it: a fastify route doing only what SPEC §1/§4/§5 and issue 14 require of a pending
 * propose, on the same installation's SQLite database, with the same group commit. Per request:
 * token lookup by SHA-256, freeze row, document stamp + recorded hash, stale-base check, the
 * merge patch applied to a copy, target and patch hashes (canonical JSON + HMAC), one
 * transaction inserting the proposal row (the real card's size) and a hash-chained audit event
 * into the leanest tables a proposal can have (bench/lib/storage-floor.ts: integer keys, no
 * index), and a reply sent once the commit is durable. No classification, diff, redaction, review,
 * card building, limits or schema. Its ratio to bare fastify bounds what any implementation of
 * the contract can reach on this machine. Prints its address.
 */
import { randomUUID } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import Fastify from 'fastify';
import pino from 'pino';
import { context, hash } from '../lib/dist.js';
import { listenForBench } from '../lib/listen.js';
import { leanProposalStore } from '../lib/storage-floor.js';

const [data, configPath, cardBytes] = process.argv.slice(2);
if (!data || !configPath || !cardBytes) throw new Error('usage: required.ts DATA_DIR CONFIG_PATH CARD_BYTES');
// The service is opened only for its database connection, group commit and hash key.
const service = context.openService(data, { logger: pino({ level: 'silent' }) });
const { db, durability, hashKey } = service;
durability.enableGroupCommit();

type Doc = { [key: string]: unknown };
const stat = () => lstatSync(configPath, { bigint: true });
let stamp = stat();
const document = JSON.parse(readFileSync(configPath, 'utf8')) as Doc;
const baseHash = hash.documentHash(hashKey, document);

function merge(target: Doc, patch: Doc): Doc {
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete target[name];
    else if (typeof value === 'object' && !Array.isArray(value) && typeof target[name] === 'object')
      target[name] = merge(target[name] as Doc, value as Doc);
    else target[name] = value;
  }
  return target;
}

const token = db.prepare('SELECT id, agent_id FROM tokens WHERE token_hash = ? AND revoked_at IS NULL');
const freeze = db.prepare('SELECT frozen FROM freeze_state WHERE id = 1').pluck();
const lastHash = db.prepare('SELECT last_hash FROM targets WHERE name = ?').pluck();
// The proposal and its audit event go to the leanest tables a stored proposal can have.
const storeProposal = leanProposalStore(db, (previousHash, event) => hash.sha256(previousHash + event));
const padding = 'x'.repeat(Math.max(0, Number(cardBytes) - 200));

const server = Fastify({ bodyLimit: 8 * 1024 * 1024 });
server.post('/v1/proposals', async (request, reply) => {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  const caller = bearer
    ? (token.get(hash.sha256(bearer).slice(7)) as { id: string; agent_id: string } | undefined)
    : undefined;
  if (!caller) return reply.status(401).send({ error: { code: 'unauthorized' } });
  if (freeze.get() !== 0) return reply.status(403).send({ error: { code: 'frozen' } });
  const now = stat();
  if (now.ino !== stamp.ino || now.mtimeNs !== stamp.mtimeNs || now.size !== stamp.size) stamp = now;
  const body = request.body as { baseHash: string; patch: Doc; sessionKey?: string; reason?: string };
  if (body.baseHash !== baseHash || lastHash.get('openclaw') !== baseHash)
    return reply.status(409).send({ error: { code: 'stale_base' } });
  const target = merge(structuredClone(document), body.patch);
  const targetHash = hash.documentHash(hashKey, target);
  const patchHash = hash.documentHash(hashKey, body.patch);
  const id = randomUUID();
  const at = new Date().toISOString();
  const card = JSON.stringify({ id, baseHash, targetHash, patchHash, reason: body.reason ?? null, padding });
  const event = hash.canonical({ kind: 'proposal.created', at, proposalId: id, baseHash, targetHash, patchHash });
  storeProposal({ baseHash, card, operations: JSON.stringify(body.patch), event });
  await durability.whenDurable();
  return reply
    .status(202)
    .header('content-type', 'application/json; charset=utf-8')
    .send(`{"status":"pending","proposal":${card}}`);
});
await listenForBench(server, () => service.close());
