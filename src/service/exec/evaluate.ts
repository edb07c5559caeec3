import { randomUUID } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { inlineEval, scriptOperand } from '../../core/command/programs.js';
import { isLiteralSecret, isSecretName } from '../../core/command/secrets.js';
import { fail } from '../../core/errors.js';
import {
  type Evaluation,
  evaluate,
  type RequestFacts,
  riskOf,
  type SegmentVerdict,
  type SurfaceSettings,
} from '../../core/exec/decide.js';
import { exactArgPattern, matchCompiled } from '../../core/exec/glob.js';
import { type ExecPlan, type Executable, type FileOperand, planHash } from '../../core/exec/plan.js';
import type { ExecRequest, ExecRequestBody } from '../../core/exec/request.js';
import { assessRisk, type RiskRules } from '../../core/exec/risk.js';
import { REDACTED } from '../../core/redact.js';
import { hashFile, locate } from '../../mcp/probe.js';
import type { Credential } from '../../store/tokens.js';
import type { Service } from '../context.js';
import { type LoadedExecPolicy, loadExecPolicy, riskRules } from './policy.js';
import { stagesOfText } from './shell-text.js';

/**
 * From an agent's exec request body to the exact plan and the request everyone reads (SPEC §9):
 * the I/O half of the evaluation (real cwd, PATH lookup, real paths and content hashes, the
 * bound script, standing grants), then the pure decision table of src/core/exec/decide.ts.
 * Nothing here writes; src/service/exec/requests.ts stores the outcome.
 */

/** One program the request runs: `segment` of the chain, `stage` of its pipeline. */
export type Stage = { segment: number; stage: number; argv: string[] };

/**
 * A command line this long is not something an owner can read, and every stage costs a PATH
 * lookup and a hash: refused (400) rather than half-evaluated.
 */
export const MAX_STAGES = 256;

/** The stages of a plan's argv or shell text, or why the text cannot be split honestly. */
export function stagesOf(source: { argv: string[] | null; commandText: string | null }): {
  stages: Stage[];
  unanalysable: string | null;
} {
  if (source.argv !== null) return { stages: [{ segment: 0, stage: 0, argv: source.argv }], unanalysable: null };
  return stagesOfText(source.commandText ?? '');
}

export type Located = { executable: Executable; invokedAs: 'path' | 'bare' };

/**
 * Content hashes by file identity and change times, so an allowlisted `node` (100 MB) is not
 * read again on every request. Sound because any write moves ctime, which no user can set; a
 * file changed within the last seconds is never cached, as git does for "racily clean" files,
 * because a coarse clock could give an edit in the same tick the same times.
 */
const hashCache = new Map<string, string>();
const HASH_CACHE_SIZE = 1000;
const RACY_NS = 3_000_000_000n;

export function contentHash(path: string): string | null {
  let key: string | null = null;
  try {
    const stats = statSync(path, { bigint: true });
    if (!stats.isFile()) return null;
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    if (nowNs - stats.ctimeNs > RACY_NS && nowNs - stats.mtimeNs > RACY_NS) {
      key = `${path}\u0000${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
      const cached = hashCache.get(key);
      if (cached !== undefined) return cached;
    }
  } catch {
    return null;
  }
  const { sha256 } = hashFile(path);
  if (key !== null && sha256 !== null) {
    if (hashCache.size >= HASH_CACHE_SIZE) hashCache.delete(hashCache.keys().next().value as string);
    hashCache.set(key, sha256);
  }
  return sha256;
}

function realFile(path: string): string | null {
  try {
    const real = realpathSync(path);
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

/**
 * What `execvp` would start for this stage on this host now, with its real path and content
 * hash: a bare name through PATH (the request's `PATH` if it sent one), a name with a slash
 * against the real cwd. A file whose bytes cannot be hashed is not pinned, so it counts as
 * unresolved: it matches no path pattern and cannot be allowed by the allowlist.
 */
function locateStage(stage: Stage, cwd: string, pathEnv: string | undefined): Located {
  const name = stage.argv[0] ?? '';
  const invokedAs = name.includes('/') ? 'path' : 'bare';
  const unresolved = { segment: stage.segment, stage: stage.stage, resolvedPath: null, sha256: null };
  const located = locate(name, { PATH: pathEnv ?? '' }, cwd);
  const real = located.path === null ? null : realFile(located.path);
  if (real === null) return { executable: unresolved, invokedAs };
  const sha256 = contentHash(real);
  if (sha256 === null) return { executable: unresolved, invokedAs };
  return { executable: { ...unresolved, resolvedPath: real, sha256 }, invokedAs };
}

export type BoundFile =
  | { kind: 'none' }
  | { kind: 'many'; scripts: string[] }
  | { kind: 'unreadable'; script: string }
  | { kind: 'ok'; operand: FileOperand };

/**
 * The one file an interpreter or script runs, resolved to its real file (a symlinked script is
 * pinned by what it points at) and hashed. The request refuses more than one in a chain, or one
 * that is not a readable regular file: an owner must never approve a script the plan cannot pin.
 */
export function findBoundFile(stages: readonly Stage[], cwd: string): BoundFile {
  const found = stages.flatMap((stage) => {
    const operand = scriptOperand(stage.argv);
    return operand ? [operand] : [];
  });
  if (found.length === 0) return { kind: 'none' };
  if (found.length > 1) return { kind: 'many', scripts: found.map((operand) => operand.path) };
  const operand = found[0] as (typeof found)[number];
  const real = realFile(resolve(cwd, operand.path));
  const sha256 = real === null ? null : contentHash(real);
  if (real === null || sha256 === null) return { kind: 'unreadable', script: operand.path };
  return { kind: 'ok', operand: { argvIndex: operand.argvIndex, path: real, sha256 } };
}

function boundFile(stages: readonly Stage[], cwd: string): FileOperand | null {
  const bound = findBoundFile(stages, cwd);
  switch (bound.kind) {
    case 'none':
      return null;
    case 'ok':
      return bound.operand;
    case 'many':
      return fail(
        'invalid_request',
        'This command runs more than one script file; send one request per script, so each can be pinned to its content.',
        { scripts: bound.scripts },
      );
    case 'unreadable':
      return fail(
        'invalid_request',
        `The script "${bound.script}" is not a readable regular file in ${cwd}; nothing was stored.`,
        { script: bound.script },
      );
  }
}

/** The executables of these stages as they are on disk now: at request time, and again at consume. */
export function locateStages(stages: readonly Stage[], cwd: string, pathEnv: string | undefined): Located[] {
  return stages.map((stage) => locateStage(stage, cwd, pathEnv));
}

/** The PATH a plan is resolved with: the request's own, if it sent one, else the service's. */
export function pathOf(env: ExecPlan['env']): string | undefined {
  return env.find((entry) => entry.name === 'PATH')?.value ?? process.env.PATH;
}

/** The real working directory: it must exist and be a directory. */
function realCwd(cwd: string): string {
  let real: string;
  let directory: boolean;
  try {
    real = realpathSync(cwd);
    directory = statSync(real).isDirectory();
  } catch {
    fail('invalid_request', `The working directory "${cwd}" does not exist.`, { cwd });
  }
  if (!directory) fail('invalid_request', `"${cwd}" is not a directory.`, { cwd });
  return real;
}

/** What the request shows of the environment: a secret value (by name or by shape) is "[redacted]". */
export function shownEnv(env: ExecPlan['env']): ExecPlan['env'] {
  return env.map(({ name, value }) => ({
    name,
    value: isSecretName(name) || isLiteralSecret(name, value) ? REDACTED : value,
  }));
}

export type Evaluated = {
  /** The request as stored and read; `status`, `expiresAt` and `resolution` are the caller's to set. */
  request: ExecRequest;
  plan: ExecPlan;
  evaluation: Evaluation;
  facts: RequestFacts;
  loaded: LoadedExecPolicy;
  /** The destructive rules the request meets, for the audit. */
  rules: { ruleId: string; explain: string }[];
};

function surfacesOf(loaded: LoadedExecPolicy): SurfaceSettings {
  if (!loaded.ok) return { protected: [], dangerous: [] };
  const { surfaces } = loaded.target.policy.approval;
  return { protected: surfaces.protected ?? [], dangerous: surfaces.dangerous ?? [] };
}

function rulesOrNull(loaded: LoadedExecPolicy): RiskRules | null {
  if (loaded.ok) return loaded.risk;
  try {
    return riskRules();
  } catch {
    return null;
  }
}

/** A stage covered by a standing `allow-for` grant: same agent, same real path, exactly the same arguments. */
function grantFor(service: Service, agentId: string, stage: Stage, resolvedPath: string | null): string | null {
  if (resolvedPath === null) return null;
  const args = exactArgPattern(stage.argv.slice(1));
  const grant = service.execGrants
    .active(agentId, service.now())
    .find((candidate) => candidate.pattern === resolvedPath && candidate.argPattern === args);
  return grant?.id ?? null;
}

/** Evaluates a request body for this agent: a 4xx for what cannot be a plan, otherwise the decision. */
export function evaluateRequest(service: Service, caller: Credential, body: ExecRequestBody): Evaluated {
  if (caller.role !== 'agent' || caller.agentId === null)
    fail('forbidden', 'Exec requests are made with an agent token.');
  const agentId = caller.agentId;
  if (body.argv !== undefined && (body.argv[0] ?? '') === '') {
    fail('invalid_request', 'argv[0] is empty: there is no program to run.');
  }
  const cwd = realCwd(body.cwd);
  const env = Object.entries(body.env ?? {})
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const source = { argv: body.argv ?? null, commandText: body.command ?? null };
  const { stages, unanalysable } = stagesOf(source);
  if (stages.length > MAX_STAGES) {
    fail('invalid_request', `This command has ${stages.length} programs in it; at most ${MAX_STAGES} are accepted.`);
  }
  if (stages.some((stage) => (stage.argv[0] ?? '') === '')) {
    fail('invalid_request', 'A segment of this command has no program to run.');
  }

  const loaded = loadExecPolicy(service, agentId);
  const rules = rulesOrNull(loaded);
  const fileOperand = boundFile(stages, cwd);
  const located = locateStages(stages, cwd, pathOf(env));
  const destructiveRules = new Map<string, { ruleId: string; explain: string }>();
  const grants: (string | null)[] = [];
  const segments: SegmentVerdict[] = stages.map((stage, index) => {
    const { executable, invokedAs } = located[index] as Located;
    const assessed = rules
      ? assessRisk(rules, stage.argv, { resolvedPath: executable.resolvedPath })
      : { elevated: false, destructive: [] };
    for (const rule of assessed.destructive) destructiveRules.set(rule.ruleId, rule);
    const match = loaded.ok
      ? matchCompiled(loaded.allowlist, {
          resolvedPath: executable.resolvedPath,
          invokedAs,
          name: stage.argv[0] ?? '',
          args: stage.argv.slice(1),
          cwd,
        })
      : null;
    grants.push(match ? null : grantFor(service, agentId, stage, executable.resolvedPath));
    return {
      argv: stage.argv,
      resolvedPath: executable.resolvedPath,
      matched: match?.pattern ?? null,
      inlineEval: inlineEval(stage.argv) !== null,
      elevated: assessed.elevated,
      destructive: assessed.destructive.length > 0,
    };
  });
  if (unanalysable !== null) {
    // Shell text nobody can split still gets its risk read, word by word, as `sh -c` would be.
    const assessed = rules ? assessRisk(rules, ['sh', '-c', source.commandText ?? '']) : null;
    for (const rule of assessed?.destructive ?? []) destructiveRules.set(rule.ruleId, rule);
    segments.push({
      argv: [source.commandText ?? ''],
      resolvedPath: null,
      matched: null,
      inlineEval: false,
      elevated: assessed?.elevated ?? false,
      destructive: (assessed?.destructive.length ?? 0) > 0,
    });
  }
  // A standing grant counts only when every stage is covered by the allowlist or a grant.
  const covered = stages.length > 0 && segments.every((segment, index) => segment.matched !== null || grants[index]);
  const facts: RequestFacts = {
    segments,
    unanalysable: unanalysable !== null,
    elevated: body.elevated === true,
    standingGrant: covered ? (grants.find((grant) => grant !== null) ?? null) : null,
  };
  const evaluation: Evaluation = loaded.ok
    ? evaluate(loaded.policy, facts, surfacesOf(loaded))
    : {
        verdict: { outcome: 'deny', reason: 'policy_invalid', detail: loaded.reason },
        risk: riskOf(facts),
        allowedDecisions: ['deny'],
        approval: { totp: false, surfaces: [] },
      };

  const plan: ExecPlan = {
    argv: source.argv,
    commandText: source.commandText,
    cwd,
    env,
    agentId,
    sessionKey: body.sessionKey,
    host: body.host ?? null,
    elevated: body.elevated === true,
    executables: located.map((entry) => entry.executable),
    fileOperand,
  };
  const now = service.now().toISOString();
  const request: ExecRequest = {
    id: randomUUID(),
    status: 'pending',
    agentId,
    sessionKey: body.sessionKey,
    argv: plan.argv,
    commandText: plan.commandText,
    cwd,
    env: shownEnv(env),
    resolvedPath: plan.executables[0]?.resolvedPath ?? null,
    fileOperand,
    segments,
    risk: evaluation.risk,
    riskRules: [...destructiveRules.values()],
    reason: evaluation.verdict.reason,
    planHash: planHash(service.hashKey, plan),
    allowedDecisions: evaluation.allowedDecisions,
    approval: evaluation.approval,
    createdAt: now,
    expiresAt: now,
    resolution: null,
  };
  return { request, plan, evaluation, facts, loaded, rules: [...destructiveRules.values()] };
}
