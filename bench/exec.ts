/**
 * Exec approvals (issue 11, SPEC §9), three figures in one run, each against its floor:
 * 1. an allowlisted `POST /v1/exec/requests` over HTTP (stored and audited, 200 allow) against a
 *    bare fastify route parsing the same body;
 * 2. the in-process evaluation of a 20-segment chain against 1,000 allowlist patterns (pure, and
 *    with the service's PATH lookup, real paths and content hashes; and the whole per-request
 *    service path, which also reads and compiles the policy) against `JSON.parse` of the body;
 * 3. `countersign exec run -- /usr/bin/true` (allowlisted: request, consume, run) against running
 *    `/usr/bin/true` directly, both as child processes, alternated.
 */
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestFacts, SegmentVerdict, SurfaceSettings } from '../src/core/exec/decide.js';
import type { EffectivePolicy } from '../src/core/exec/document.js';
import type { CompiledAllowlist } from '../src/core/exec/glob.js';
import type { RiskRules } from '../src/core/exec/risk.js';
import { startServer } from './lib/child.js';
import { execDecide, execDocument, execEvaluate, execRequests, glob, programs, risk, shell } from './lib/dist.js';
import { readJson, repoRoot, shippedConfig } from './lib/fixtures.js';
import { type BenchInstallation, install, open } from './lib/install.js';
import { type Load, latency, measurePost } from './lib/load.js';
import { ms, perSecond, type Row, ratio, type Section } from './lib/report.js';
import { compare, median, percentile, timing } from './lib/stats.js';

const connections = 10;
const seconds = Number(process.env.BENCH_EXEC_HTTP_SECONDS ?? 5);
const wrapperRuns = Number(process.env.BENCH_EXEC_RUNS ?? 20);
const cwd = '/tmp';
const home = '/home/bench';
/** Debian's default PATH, so the resolution figures do not depend on how the benchmark was started (npm prepends several directories). */
const hostPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const surfaces: SurfaceSettings = { protected: ['web', 'cli'], dangerous: ['web'] };

/** Where `execvp` finds `name` on this host's PATH, as a real path (the allowlist matches real paths). */
function onPath(name: string): string {
  for (const directory of (process.env.PATH ?? '').split(':')) {
    const candidate = join(directory || '.', name);
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  throw new Error(`${name} is not on PATH`);
}

// ---------------------------------------------------------------------------------------------
// The chain and the allowlist

/**
 * 20 segments (29 programs: pipelines are checked stage by stage) of what an agent runs in a
 * repository: git, text tools, a destructive `rm -rf ./build`, `find` (a carrier, whose
 * arguments are searched for commands).
 */
export const chainSegments = [
  'git status --short',
  'git diff --stat | tail -n 5',
  'git log --oneline -n 20 | head -n 3',
  'ls -la /tmp | wc -l',
  'grep -rn TODO src | sort | uniq -c | head -n 10',
  'rm -rf ./build',
  'mkdir -p ./build',
  'cp package.json ./build/',
  'du -sh ./build',
  'df -h /tmp',
  'date -u',
  'cat package.json | grep version',
  'echo none',
  "find . -name '*.ts' -newer package.json | wc -l",
  'stat -c %s package.json',
  'touch ./build/.stamp',
  'tail -n 20 CHANGELOG.md | grep -c fix',
  'head -c 100 README.md',
  'uname -a',
  'whoami',
];
const separators = [' && ', ' ; ', ' || ', ' && '];
export const chainText = chainSegments
  .map((segment, index) => (index === 0 ? segment : `${separators[index % separators.length]}${segment}`))
  .join('');

type Entry = { pattern: string; argPattern?: string; id?: string };

/**
 * 1,000 entries: the 19 that allow the chain's programs (a path literal, path globs with `*`,
 * `?` and `**`, bare names, `argPattern`s), spread through 981 that do not match it — path
 * globs under /opt and project trees, `~/bin` paths, bare names and name globs, and entries
 * with an `argPattern`, some on /usr/bin/git itself so its match must test several.
 */
export function allowlist(size = 1000): Entry[] {
  const allowing: Entry[] = [
    { pattern: '/usr/bin/git', argPattern: '^(status|diff|log)( |$)' },
    { pattern: '/usr/bin/rm', argPattern: '^-rf \\./build$' },
    { pattern: 'grep' },
    { pattern: 'sort' },
    { pattern: 'uniq' },
    { pattern: 'wc' },
    { pattern: 'he*' },
    { pattern: 'tail' },
    { pattern: '/usr/bin/d?' },
    { pattern: '/usr/bin/date' },
    { pattern: '/usr/**/mkdir' },
    { pattern: '/usr/bin/c*' },
    { pattern: '/usr/bin/ls' },
    { pattern: '/usr/bin/echo' },
    { pattern: '/usr/bin/find', argPattern: '^\\. -name \\S+ -newer \\S+$' },
    { pattern: '/usr/bin/s*' },
    { pattern: '/usr/bin/t*', argPattern: '^\\./build/' },
    { pattern: 'uname' },
    { pattern: 'whoami' },
  ];
  const entries: Entry[] = [];
  const every = Math.floor(size / allowing.length);
  let next = 0;
  for (let index = 0; entries.length < size; index++) {
    if (index % every === every - 1 && next < allowing.length) {
      entries.push(allowing[next++] as Entry);
      continue;
    }
    switch (index % 6) {
      case 0:
        entries.push({ pattern: `/opt/tool-${index}/bin/*` });
        break;
      case 1:
        entries.push({ pattern: `/home/dev/projects/p${index}/**/bin/run-*` });
        break;
      case 2:
        entries.push({ pattern: index % 4 === 0 ? `~/bin/tool-${index}` : `tool-${index}` });
        break;
      case 3:
        entries.push({ pattern: `lint-${index}*` });
        break;
      case 4:
        entries.push({ pattern: `/usr/local/bin/cli-${index}`, argPattern: `^(build|test) --target ${index}$` });
        break;
      default:
        entries.push(
          index % 30 === 5
            ? { pattern: '/usr/bin/git', argPattern: `^push origin v${index}$` }
            : { pattern: `/srv/app-${index}/**`, argPattern: '^--config /etc/app\\.json$' },
        );
    }
  }
  if (next !== allowing.length) throw new Error('the allowlist lost some of the entries the chain needs');
  return entries;
}

function execApprovals(entries: Entry[]): object {
  return {
    version: 2,
    defaults: { security: 'allowlist', ask: 'on-miss', askFallback: 'deny', strictInlineEval: true },
    agents: { main: { allowlist: entries } },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. In-process evaluation

type Resolver = (argv: string[][]) => { resolvedPath: string | null; invokedAs: 'path' | 'bare' }[];

/** Fixed real paths, as if every program were found in /usr/bin: no filesystem at all. */
const fixedPaths: Resolver = (stages) =>
  stages.map((argv) => {
    const name = argv[0] ?? '';
    return name.includes('/')
      ? { resolvedPath: name, invokedAs: 'path' }
      : { resolvedPath: `/usr/bin/${name}`, invokedAs: 'bare' };
  });

/** The service's own resolution (PATH lookup, realpath, content hash by file identity). */
const onThisHost: Resolver = (stages) =>
  execEvaluate
    .locateStages(
      stages.map((argv, stage) => ({ segment: 0, stage, argv })),
      cwd,
      hostPath,
    )
    .map((located) => ({ resolvedPath: located.executable.resolvedPath, invokedAs: located.invokedAs }));

/** What evaluateRequest does per request once the policy is loaded, without storing anything. */
function evaluateChain(
  text: string,
  policy: EffectivePolicy,
  compiled: CompiledAllowlist,
  rules: RiskRules,
  resolve: Resolver,
) {
  const analysis = shell.analyseShell(text);
  if (analysis.kind !== 'segments') throw new Error(`the chain is unanalysable: ${analysis.reason}`);
  const stages = analysis.segments.flatMap((segment) => segment.stages);
  const located = resolve(stages);
  const segments: SegmentVerdict[] = stages.map((argv, index) => {
    const { resolvedPath, invokedAs } = located[index] as (typeof located)[number];
    const assessed = risk.assessRisk(rules, argv, { resolvedPath });
    const match = glob.matchCompiled(compiled, {
      resolvedPath,
      invokedAs,
      name: argv[0] ?? '',
      args: argv.slice(1),
      cwd,
    });
    return {
      argv,
      resolvedPath,
      matched: match?.pattern ?? null,
      inlineEval: programs.inlineEval(argv) !== null,
      elevated: assessed.elevated,
      destructive: assessed.destructive.length > 0,
    };
  });
  const facts: RequestFacts = { segments, unanalysable: false, elevated: false, standingGrant: null };
  return execDecide.evaluate(policy, facts, surfaces);
}

async function inProcess(): Promise<{ rows: Row[]; notes: string[] }> {
  const entries = allowlist(1000);
  const parsed = execDocument.parseExecDocument(execApprovals(entries));
  if (!parsed.ok) throw new Error(`the benchmark's exec approvals document is invalid: ${parsed.reason}`);
  const policy = execDocument.effectivePolicy(parsed.document, 'main');
  const rules = risk.compileRiskRules(readJson(`${repoRoot}policies/exec-risk.json`));
  const compileTimes: number[] = [];
  let compiled = glob.compileAllowlist(policy.allowlist, home);
  for (let round = 0; round < 20; round++) {
    const began = performance.now();
    compiled = glob.compileAllowlist(policy.allowlist, home);
    compileTimes.push(performance.now() - began);
  }
  if (compiled.problems.length > 0) throw new Error(`allowlist problems: ${JSON.stringify(compiled.problems[0])}`);

  const stages = shell.analyseShell(chainText);
  if (stages.kind !== 'segments' || stages.segments.length !== 20) throw new Error('the chain is not 20 segments');
  const stageCount = stages.segments.reduce((sum, segment) => sum + segment.stages.length, 0);
  for (const [label, resolve] of [
    ['fixed paths', fixedPaths],
    ['this host', onThisHost],
  ] as const) {
    const outcome = evaluateChain(chainText, policy, compiled, rules, resolve);
    if (outcome.verdict.outcome !== 'allow' || !outcome.risk.destructive) {
      throw new Error(`the chain should be allowlisted and destructive (${label}): ${JSON.stringify(outcome.verdict)}`);
    }
  }

  // The whole per-request path of the service (dry run: nothing stored), from a real installation.
  const installation = install(shippedConfig(), { execApprovals: execApprovals(entries) });
  const opened = open(installation);
  const body = { command: chainText, cwd, sessionKey: 'bench', env: { PATH: hostPath } };
  const bodyText = JSON.stringify(body);
  const served = execEvaluate.evaluateRequest(opened.service, opened.agent, body);
  if (served.evaluation.verdict.outcome !== 'allow') {
    throw new Error(`the service does not allow the chain: ${JSON.stringify(served.evaluation.verdict)}`);
  }

  let results: ReturnType<typeof compare>;
  try {
    results = compare(
      [
        { name: 'floor', fn: () => JSON.parse(bodyText) },
        { name: 'pure', fn: () => evaluateChain(chainText, policy, compiled, rules, fixedPaths) },
        { name: 'resolved', fn: () => evaluateChain(chainText, policy, compiled, rules, onThisHost) },
        { name: 'service', fn: () => execEvaluate.evaluateRequest(opened.service, opened.agent, body) },
      ],
      { time: 400, iterations: 100 },
    );
  } finally {
    opened.service.close();
    installation.remove();
  }
  const floor = timing(results, 'floor');
  const compileMs = median(compileTimes);
  const row = (id: string, label: string, name: string, target: boolean): Row => {
    const subject = timing(results, name);
    return {
      id,
      benchmark: label,
      result: `${ms(subject.p50)} p50, p99 ${ms(subject.p99)}`,
      floor: `${ms(floor.p50)} JSON.parse of the body`,
      ratio: ratio(subject.p50 / floor.p50, 0),
      target: target ? '≤ 1 ms p99' : 'report',
      met: target ? subject.p99 <= 1 : null,
      figures: {
        p50Ms: subject.p50,
        p99Ms: subject.p99,
        meanMs: subject.mean,
        samples: subject.samples,
        floorP50Ms: floor.p50,
        segments: 20,
        programs: stageCount,
        patterns: entries.length,
        compileAllowlistMs: compileMs,
        pathDirectories: name === 'pure' ? 0 : hostPath.split(':').length,
      },
    };
  };
  return {
    rows: [
      row('exec-eval-pure', `exec evaluation, 20 segments × 1,000 patterns`, 'pure', true),
      row('exec-eval-resolved', '  … with PATH lookup, real paths, hashes', 'resolved', false),
      row('exec-eval-service', '  … whole service path (policy read + compiled)', 'service', false),
    ],
    notes: [
      `exec evaluation: ${stageCount} programs in 20 segments; compileAllowlist of the 1,000 patterns (${entries.filter((entry) => entry.argPattern).length} with an argPattern) ${ms(compileMs)} median. "With PATH lookup" resolves every program on a ${hostPath.split(':').length}-directory PATH (a failed stat per directory before the hit); "whole service path" is evaluateRequest with nothing stored, which also reads, validates and compiles exec-approvals.json on every request.`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Wrapper overhead

type Spawned = { ms: number; code: number | null; stderr: string };

function timeSpawn(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ ms: performance.now() - began, code, stderr }));
  });
}

async function wrapperOverhead(address: string, agentToken: string, truePath: string) {
  const env = {
    ...process.env,
    NODE_NO_WARNINGS: '1',
    COUNTERSIGN_URL: address,
    COUNTERSIGN_TOKEN: agentToken,
    COUNTERSIGN_SESSION: 'bench',
  };
  const cli = join(repoRoot, 'dist/cli/main.js');
  const wrapped = () => timeSpawn(process.execPath, [cli, 'exec', 'run', '--', truePath], env);
  const direct = () => timeSpawn(truePath, [], env);
  const check = (run: Spawned, what: string) => {
    if (run.code !== 0) throw new Error(`${what} exited with ${run.code}: ${run.stderr.trim()}`);
    return run.ms;
  };
  // Warm the page cache and the server's JIT for this path.
  for (let warm = 0; warm < 2; warm++) {
    check(await wrapped(), 'exec run');
    check(await direct(), truePath);
  }
  const wrappedMs: number[] = [];
  const directMs: number[] = [];
  for (let run = 0; run < wrapperRuns; run++) {
    // Alternate which goes first, so neither always runs right after the other.
    if (run % 2 === 0) {
      wrappedMs.push(check(await wrapped(), 'exec run'));
      directMs.push(check(await direct(), truePath));
    } else {
      directMs.push(check(await direct(), truePath));
      wrappedMs.push(check(await wrapped(), 'exec run'));
    }
  }
  const differences = wrappedMs.map((value, index) => value - (directMs[index] as number));
  return {
    wrapped: median(wrappedMs),
    wrappedP90: percentile(wrappedMs, 90),
    direct: median(directMs),
    overhead: median(differences),
  };
}

/**
 * Where an allowed request's time goes, in-process on the same installation: the service's
 * createExecRequest stored (one transaction: request row + two audit events, committed with
 * `synchronous=FULL`) against the same call as a dry run (evaluated, nothing stored).
 */
function storedVersusDryRun(installation: BenchInstallation, body: object) {
  const opened = open(installation);
  try {
    const results = compare(
      [
        { name: 'stored', fn: () => execRequests.createExecRequest(opened.service, opened.agent, body as never) },
        {
          name: 'dry run',
          fn: () => execRequests.createExecRequest(opened.service, opened.agent, { ...body, dryRun: true } as never),
        },
      ],
      { time: 300, iterations: 100 },
    );
    return { stored: timing(results, 'stored').p50, dryRun: timing(results, 'dry run').p50 };
  } finally {
    opened.service.close();
  }
}

// ---------------------------------------------------------------------------------------------

export async function run(): Promise<Section> {
  const { rows: evaluationRows, notes } = await inProcess();

  const lsPath = onPath('ls');
  const truePath = realpathSync('/usr/bin/true');
  const installation = install(shippedConfig(), {
    execApprovals: execApprovals([
      { pattern: lsPath },
      { pattern: truePath },
      { pattern: 'git', argPattern: '^status$' },
    ]),
  });
  const request = { argv: ['ls', '-la'], cwd, sessionKey: 'bench' };
  const body = JSON.stringify(request);
  const split = storedVersusDryRun(installation, request);
  const options = { seconds, connections };

  const floorRun = async () => {
    const bare = await startServer('bare.ts', [], 'bare');
    try {
      return await measurePost(`${bare.address}/v1/exec/requests`, null, body, options);
    } finally {
      await bare.stop();
    }
  };

  let allowed: Load;
  let wrapper: Awaited<ReturnType<typeof wrapperOverhead>>;
  const floorFirst = await floorRun();
  const server = await startServer('countersign.ts', [installation.data], 'countersign-exec');
  try {
    const probe = await fetch(`${server.address}/v1/exec/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${installation.agentToken}` },
      body,
    });
    const answer = (await probe.json()) as { decision?: string };
    if (probe.status !== 200 || answer.decision !== 'allow') {
      throw new Error(`ls -la is not allowed (${probe.status}): ${JSON.stringify(answer).slice(0, 300)}`);
    }
    wrapper = await wrapperOverhead(server.address, installation.agentToken, truePath);
    allowed = await measurePost(`${server.address}/v1/exec/requests`, installation.agentToken, body, options);
  } finally {
    await server.stop();
    installation.remove();
  }
  const floorSecond = await floorRun();
  const floor = (floorFirst.requests + floorSecond.requests) / 2;
  const floorP99 = Math.max(floorFirst.p99, floorSecond.p99);
  const factor = allowed.requests / floor;

  const httpRow: Row = {
    id: 'exec-http-allow',
    benchmark: 'exec request over HTTP, allowlisted (stored + audited)',
    result: `${perSecond(allowed.requests)}, p99 ${latency(allowed.p99)}`,
    floor: `${perSecond(floor)}, p99 ${latency(floorP99)} bare fastify`,
    ratio: ratio(factor),
    target: '≥ 0.3×',
    met: factor >= 0.3,
    figures: {
      requestsPerSecond: allowed.requests,
      p50Ms: allowed.p50,
      p99Ms: allowed.p99,
      requests: allowed.total,
      floorRequestsPerSecond: floor,
      floorP99Ms: floorP99,
      ratio: factor,
      connections,
      seconds,
      pathDirectories: (process.env.PATH ?? '').split(':').length,
      inProcessStoredMs: split.stored,
      inProcessDryRunMs: split.dryRun,
    },
  };
  notes.push(
    `exec request over HTTP: in-process, createExecRequest takes ${ms(split.stored)} stored and ${ms(split.dryRun)} as a dry run (p50): the commit (request row + 2 audit events, one fsync) is the difference; the bare route costs ${ms(1000 / floor)} per request (1 / its throughput). The server resolves \`ls\` on its own PATH (${(process.env.PATH ?? '').split(':').length} directories here).`,
  );
  const wrapperRow: Row = {
    id: 'exec-run-overhead',
    benchmark: '`exec run -- /usr/bin/true`, allowlisted (overhead)',
    result: `+${ms(wrapper.overhead)} median (${ms(wrapper.wrapped)} total)`,
    floor: `${ms(wrapper.direct)} /usr/bin/true spawned directly`,
    ratio: ratio(wrapper.wrapped / wrapper.direct, 0),
    target: '≤ 250 ms',
    met: wrapper.overhead <= 250,
    figures: {
      overheadMs: wrapper.overhead,
      wrappedMedianMs: wrapper.wrapped,
      wrappedP90Ms: wrapper.wrappedP90,
      directMedianMs: wrapper.direct,
      runs: wrapperRuns,
    },
  };
  return { rows: [httpRow, ...evaluationRows, wrapperRow], notes };
}
