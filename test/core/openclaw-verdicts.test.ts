import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSchemaValidator } from '../../src/service/schema.js';
import { fixtures } from '../support/harness.js';

type Verdict = { name: string; base: string; document: unknown; valid: boolean; issues: { path: string }[] };
const recorded = JSON.parse(readFileSync(`${fixtures}openclaw-verdicts.json`, 'utf8')) as {
  openclaw: string;
  verdicts: Verdict[];
};

/**
 * OpenClaw's own `config validate` verdicts (recorded by bench/openclaw-verdicts.ts) on mutated
 * copies of the shared fixtures: countersign must call each document valid or invalid exactly as
 * OpenClaw does, so it neither lets through a config the gateway would refuse nor refuses one
 * the gateway would take.
 */
describe(`the OpenClaw schema validator agrees with ${recorded.openclaw}`, () => {
  const validate = loadSchemaValidator(`${fixtures}openclaw.schema.json`);

  it('has a corpus with both verdicts', () => {
    expect(recorded.verdicts.length).toBeGreaterThanOrEqual(40);
    expect(recorded.verdicts.some((verdict) => verdict.valid)).toBe(true);
    expect(recorded.verdicts.some((verdict) => !verdict.valid)).toBe(true);
  });

  it.each(recorded.verdicts.map((verdict) => [verdict.name, verdict] as const))('%s', (_name, verdict) => {
    const issues = validate(verdict.document);
    expect(issues.length === 0, JSON.stringify(issues)).toBe(verdict.valid);
    // Where OpenClaw names one place, countersign names the same one (dotted vs JSON Pointer).
    if (!verdict.valid && verdict.issues.length === 1) {
      const [first] = verdict.issues;
      const expected = first?.path === '<root>' ? '/' : `/${first?.path.replace(/\./g, '/')}`;
      expect(issues.map((issue) => issue.path)).toContain(expected);
    }
  });

  it('does not change the document it checks (defaults are filled into a copy)', () => {
    const document = JSON.parse(readFileSync(`${fixtures}openclaw.json`, 'utf8')) as Record<string, unknown>;
    const before = JSON.stringify(document);
    expect(validate(document)).toEqual([]);
    expect(JSON.stringify(document)).toBe(before);
  });
});
