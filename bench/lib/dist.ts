/**
 * The code under test, loaded from `dist/` (what `npm run build` ships) with the types of
 * `src/`. Benchmarks never import `src/` at run time: tsx adds a `__name` call to every
 * closure it transpiles, which would make the service look slower than it is.
 */
import { existsSync } from 'node:fs';
import type * as CardModule from '../../src/core/card.js';
import type * as DiffModule from '../../src/core/diff.js';
import type * as HashModule from '../../src/core/hash.js';
import type * as JsonModule from '../../src/core/json.js';
import type * as PatternModule from '../../src/core/pattern.js';
import type * as PlanModule from '../../src/core/plan.js';
import type * as PolicyModule from '../../src/core/policy.js';
import type * as ProvenanceModule from '../../src/core/provenance.js';
import type * as AppModule from '../../src/http/app.js';
import type * as ContextModule from '../../src/service/context.js';
import type * as DecideModule from '../../src/service/decide.js';
import type * as InstallModule from '../../src/service/install.js';
import type * as ProposeModule from '../../src/service/propose.js';
import type * as AuditLogModule from '../../src/store/audit-log.js';
import type * as DatabaseModule from '../../src/store/database.js';

export const distRoot = new URL('../../dist/', import.meta.url);

if (!existsSync(new URL('cli/main.js', distRoot))) {
  throw new Error('dist/ is missing: run `npm run build` first (`npm run bench` does).');
}

async function load<T>(path: string): Promise<T> {
  return (await import(new URL(path, distRoot).href)) as T;
}

export const card = await load<typeof CardModule>('core/card.js');
export const diff = await load<typeof DiffModule>('core/diff.js');
export const hash = await load<typeof HashModule>('core/hash.js');
export const json = await load<typeof JsonModule>('core/json.js');
export const pattern = await load<typeof PatternModule>('core/pattern.js');
export const plan = await load<typeof PlanModule>('core/plan.js');
export const policy = await load<typeof PolicyModule>('core/policy.js');
export const provenance = await load<typeof ProvenanceModule>('core/provenance.js');
export const app = await load<typeof AppModule>('http/app.js');
export const context = await load<typeof ContextModule>('service/context.js');
export const decide = await load<typeof DecideModule>('service/decide.js');
export const installer = await load<typeof InstallModule>('service/install.js');
export const proposer = await load<typeof ProposeModule>('service/propose.js');
export const sealer = await load<typeof import('../../src/core/audit.js')>('core/audit.js');
export const auditLog = await load<typeof AuditLogModule>('store/audit-log.js');
export const database = await load<typeof DatabaseModule>('store/database.js');
