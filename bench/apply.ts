import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Db } from '../src/store/database.js';
import { database, decide, hash, proposalDocuments, proposer } from './lib/dist.js';
import { shippedConfig } from './lib/fixtures.js';
import { install, open } from './lib/install.js';
import { ms, type Row, ratio, type Section } from './lib/report.js';
import { median } from './lib/stats.js';

const rounds = Number(process.env.BENCH_APPLY_ROUNDS ?? 60);

/** The floor: write a temporary file beside the document, fsync it, rename it over the document. */
function bareWrite(path: string, text: string): void {
  const temporary = join(dirname(path), '.bare.tmp');
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/** The I/O the apply protocol cannot skip: intent commit, file write + fsync + rename, directory fsync, completion commit. */
function protocolFloor(db: Db, path: string, text: string): void {
  db.prepare('INSERT INTO floor (at) VALUES (?)').run(Date.now());
  bareWrite(path, text);
  const directory = openSync(dirname(path), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
  db.prepare('INSERT INTO floor (at) VALUES (?)').run(Date.now());
}

/**
 * Approve → apply through the service (the owner's checks, the apply intent committed, the
 * atomic write with fsync of file and directory, completion and audit event committed) against
 * the bare write of the same document, alternating the two so that both see the same disk.
 * Each apply needs a fresh pending proposal (a protected change, so no TOTP), made untimed.
 */
export async function run(): Promise<Section> {
  const installation = open(install(shippedConfig()));
  const { service, owner, agent } = installation;
  const floorPath = join(installation.root, 'bare.json');
  const currentHash = () =>
    hash.documentHash(service.hashKey, JSON.parse(readFileSync(installation.configPath, 'utf8')));
  const applies: number[] = [];
  const floors: number[] = [];
  const protocol: number[] = [];
  const floorDb = database.openDatabase(join(installation.root, 'floor.db'));
  floorDb.exec('CREATE TABLE floor (at INTEGER)');
  try {
    for (let round = -5; round < rounds; round++) {
      const proposed = proposer.propose(service, agent, {
        baseHash: currentHash(),
        patch: { gateway: { port: round % 2 === 0 ? 20_001 : 20_002 } },
        reason: 'benchmark',
        sessionKey: 'bench',
      });
      if (proposed.body.status !== 'pending')
        throw new Error(`expected a pending proposal, got ${proposed.body.status}`);
      const card = proposed.body.proposal;
      // The document the apply will write, rebuilt from the proposal's base and operations (untimed).
      const record = service.proposals.get(card.id);
      const target = service.targets.get(card.target);
      const text = record && target ? proposalDocuments.proposalDocuments(service, target, record).target.text : '';

      let started = performance.now();
      bareWrite(floorPath, text);
      const floor = performance.now() - started;

      started = performance.now();
      protocolFloor(floorDb, floorPath, text);
      const protocolMs = performance.now() - started;

      started = performance.now();
      const outcome = decide.approve(service, owner, card.id, { patchHash: card.patchHash });
      const elapsed = performance.now() - started;
      if (outcome.status !== 'applied') throw new Error(`expected applied, got ${outcome.status}`);
      if (round >= 0) {
        applies.push(elapsed);
        floors.push(floor);
        protocol.push(protocolMs);
      }
    }
  } finally {
    floorDb.close();
    service.close();
    installation.remove();
  }
  const apply = median(applies);
  const floor = median(floors);
  const factor = apply / floor;
  const row: Row = {
    id: 'apply',
    benchmark: 'approve → apply (fsync + audit), shipped config',
    result: `${ms(apply)} median`,
    floor: `${ms(floor)} temp write + fsync + rename`,
    ratio: ratio(factor),
    target: '≤ 2×',
    met: factor <= 2,
    figures: {
      applyMedianMs: apply,
      floorMedianMs: floor,
      ratio: factor,
      protocolIoMedianMs: median(protocol),
      rounds,
    },
  };
  return {
    rows: [row],
    notes: [
      `approve → apply: the I/O its crash safety needs (intent commit, file fsync + rename, directory fsync, completion commit: four syncs against the floor's one) takes ${ms(median(protocol))} alone in the same run; the apply is ${ratio(apply / median(protocol))} that.`,
    ],
  };
}
