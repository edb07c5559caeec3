import type { JsonObject } from '../src/core/json.js';
import type { ProposeRequest } from '../src/core/requests.js';
import { hash, proposer } from './lib/dist.js';
import { configWithGroups, documentText, formatBytes, groupsForSize, mentionPatch } from './lib/fixtures.js';
import { install, open } from './lib/install.js';
import { type GrowthTable, ms, type Row, type Section } from './lib/report.js';
import { compare, timing } from './lib/stats.js';

const sizes = [10 * 1024, 100 * 1024, 1024 * 1024, 5 * 1024 * 1024];
const changes = [1, 100, 10_000];

/**
 * Propose latency through the service (dry run: read, parse and hash the file, patch, diff,
 * classify, redact, hash the result, build the card; no HTTP, nothing stored) for documents of
 * growing size and changes of growing width, plus the two costs that grow with the document:
 * its canonical hash, and the JSON.parse + JSON.stringify floor.
 */
export async function run(): Promise<Section> {
  const grid: GrowthTable = {
    title: 'propose latency (ms, median, dry run in-process) by document size × changed paths',
    columns: changes.map((count) => `${count.toLocaleString('en-US')} path${count === 1 ? '' : 's'}`),
    rows: [],
  };
  const linear: GrowthTable = {
    title: 'what grows with the document (ms, median)',
    columns: ['document hash', 'JSON.parse+stringify', 'propose, 1 path', 'per MB (propose)'],
    rows: [],
  };
  const figures: Record<string, number> = {};
  for (const size of sizes) {
    const document: JsonObject = configWithGroups(groupsForSize(size));
    const text = documentText(document);
    const installation = open(install(document));
    try {
      const baseHash = hash.documentHash(installation.service.hashKey, document);
      const tasks = changes.map((count) => {
        const request: ProposeRequest = { baseHash, patch: mentionPatch(document, count), dryRun: true };
        return {
          name: `propose-${count}`,
          fn: () => {
            const outcome = proposer.propose(installation.service, installation.agent, request);
            if (outcome.body.status !== 'dry-run') throw new Error(`expected a dry run, got ${outcome.body.status}`);
          },
        };
      });
      const large = text.length > 2_000_000;
      const results = compare(
        [
          ...tasks,
          { name: 'hash', fn: () => hash.documentHash(installation.service.hashKey, document) },
          { name: 'floor', fn: () => JSON.stringify(JSON.parse(text)) },
        ],
        { time: large ? 600 : 250, iterations: large ? 4 : 10, rounds: 1 },
      );
      const label = formatBytes(text.length);
      grid.rows.push({ label, cells: changes.map((count) => ms(timing(results, `propose-${count}`).p50)) });
      const one = timing(results, 'propose-1').p50;
      linear.rows.push({
        label,
        cells: [
          ms(timing(results, 'hash').p50),
          ms(timing(results, 'floor').p50),
          ms(one),
          ms(one / (text.length / 1024 / 1024)),
        ],
      });
      for (const count of changes) figures[`${size}:${count}`] = timing(results, `propose-${count}`).p50;
      figures[`${size}:hash`] = timing(results, 'hash').p50;
      figures[`${size}:floor`] = timing(results, 'floor').p50;
      figures[`${size}:bytes`] = text.length;
    } finally {
      installation.service.close();
      installation.remove();
    }
  }
  const row: Row = {
    id: 'growth',
    benchmark: 'how cost grows (tables below)',
    result: '—',
    floor: '—',
    ratio: '—',
    target: 'report',
    met: null,
    figures,
  };
  return { rows: [row], tables: [grid, linear] };
}
