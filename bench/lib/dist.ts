/**
 * The code under test, loaded from `dist/` (what `npm run build` ships) with the types of
 * `src/`. Benchmarks never import `src/` at run time: tsx adds a `__name` call to every
 * closure it transpiles, which would make the service look slower than it is.
 */
import { existsSync } from 'node:fs';
import type * as CardModule from '../../src/core/card.js';
import type * as ProgramsModule from '../../src/core/command/programs.js';
import type * as DiffModule from '../../src/core/diff.js';
import type * as ExecDecideModule from '../../src/core/exec/decide.js';
import type * as ExecDocumentModule from '../../src/core/exec/document.js';
import type * as GlobModule from '../../src/core/exec/glob.js';
import type * as RiskModule from '../../src/core/exec/risk.js';
import type * as ShellModule from '../../src/core/exec/shell.js';
import type * as HashModule from '../../src/core/hash.js';
import type * as JsonModule from '../../src/core/json.js';
import type * as PatternModule from '../../src/core/pattern.js';
import type * as PlanModule from '../../src/core/plan.js';
import type * as PolicyModule from '../../src/core/policy.js';
import type * as ProvenanceModule from '../../src/core/provenance.js';
import type * as AppModule from '../../src/http/app.js';
import type * as ContextModule from '../../src/service/context.js';
import type * as DecideModule from '../../src/service/decide.js';
import type * as ExecEvaluateModule from '../../src/service/exec/evaluate.js';
import type * as ExecRequestsModule from '../../src/service/exec/requests.js';
import type * as ShellTextModule from '../../src/service/exec/shell-text.js';
import type * as InstallModule from '../../src/service/install.js';
import type * as ProposalDocumentsModule from '../../src/service/proposal-documents.js';
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
export const proposalDocuments = await load<typeof ProposalDocumentsModule>('service/proposal-documents.js');
export const sealer = await load<typeof import('../../src/core/audit.js')>('core/audit.js');
export const auditLog = await load<typeof AuditLogModule>('store/audit-log.js');
export const database = await load<typeof DatabaseModule>('store/database.js');
// Exec approvals (issue 11): the pure evaluation and the service's I/O half (PATH lookup, real paths, hashes).
export const programs = await load<typeof ProgramsModule>('core/command/programs.js');
export const execDecide = await load<typeof ExecDecideModule>('core/exec/decide.js');
export const execDocument = await load<typeof ExecDocumentModule>('core/exec/document.js');
export const glob = await load<typeof GlobModule>('core/exec/glob.js');
export const risk = await load<typeof RiskModule>('core/exec/risk.js');
export const shell = await load<typeof ShellModule>('core/exec/shell.js');
export const execEvaluate = await load<typeof ExecEvaluateModule>('service/exec/evaluate.js');
export const execRequests = await load<typeof ExecRequestsModule>('service/exec/requests.js');
export const shellText = await load<typeof ShellTextModule>('service/exec/shell-text.js');
