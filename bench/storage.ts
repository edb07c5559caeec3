import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../src/core/json.js';
import { hash, proposer } from './lib/dist.js';
import { configWithGroups, documentText, formatBytes, groupsForSize } from './lib/fixtures.js';
import { install, open } from './lib/install.js';
import type { Row, Section } from './lib/report.js';

/** Pending proposals measured (after one untimed, uncounted proposal that may store the base once). */
const proposals = 20;
const documentBytes = 4.2 * 1024 * 1024;
const target = 256 * 1024;

/**
 * Storage per pending proposal (issue 14): N pending proposals on one ~4.2 MB document, each a
 * one-path protected change, and the database's growth per proposal — pages in use
 * (page_count × page_size) plus the WAL, measured after a checkpoint so the pages the WAL held
 * are counted once, in the main file. The floor is the size of what the change itself is: its
 * RFC 6902 operations as JSON.
 */
export async function run(): Promise<Section> {
  const document: JsonObject = configWithGroups(groupsForSize(documentBytes));
  const text = documentText(document);
  const installation = open(install(document));
  const { service, agent } = installation;
  const file = join(installation.data, 'countersign.db');
  const size = (): number => {
    service.db.pragma('wal_checkpoint(TRUNCATE)');
    const pages = service.db.pragma('page_count', { simple: true }) as number;
    const pageSize = service.db.pragma('page_size', { simple: true }) as number;
    const freelist = service.db.pragma('freelist_count', { simple: true }) as number;
    const wal = existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0;
    return (pages - freelist) * pageSize + wal;
  };
  try {
    const baseHash = hash.documentHash(service.hashKey, document);
    const make = (port: number) => {
      const outcome = proposer.propose(service, agent, {
        baseHash,
        patch: { gateway: { port } },
        reason: 'benchmark',
        sessionKey: 'bench',
      });
      if (outcome.body.status !== 'pending') throw new Error(`expected a pending proposal, got ${outcome.body.status}`);
      return outcome.body.proposal;
    };
    const empty = size();
    make(30_000);
    const afterFirst = size();
    let operationBytes = 0;
    for (let index = 1; index <= proposals; index++) {
      const card = make(30_000 + index);
      operationBytes = Buffer.byteLength(JSON.stringify(card.operations));
    }
    const afterAll = size();
    const perProposal = (afterAll - afterFirst) / proposals;
    const first = afterFirst - empty;
    const row: Row = {
      id: 'storage-pending',
      benchmark: `storage per pending proposal on a ${formatBytes(text.length)} document (${proposals} proposals, one path each)`,
      result: `${formatBytes(perProposal)} (first on a base: ${formatBytes(first)})`,
      floor: `${formatBytes(operationBytes)} its operations as JSON`,
      ratio: `${(perProposal / operationBytes).toFixed(0)}×`,
      target: '≤ 256 KiB',
      met: perProposal <= target,
      figures: { perProposal, first, operationBytes, documentBytes: text.length, proposals },
    };
    return { rows: [row] };
  } finally {
    service.close();
    installation.remove();
  }
}
