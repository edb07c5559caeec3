// The exec queue (SPEC §9, issue 11): commands agents want to run, waiting for the owner, and the
// standing allow-for grants. Everything on a request except its booleans came from the agent or
// from a filesystem it can write to, so every string goes through dom.js's inert text; argv is
// shown token by token, each in its own box, so no shell re-quoting can make two argvs read alike.

import { ApiError } from './api.js';
import {
  actorText,
  countdown,
  fill,
  formatTime,
  h,
  REDACTED,
  reasonInput,
  shortId,
  statusBadge,
  totpField,
  totpInput,
} from './dom.js';

const riskNames = {
  elevated: 'ELEVATED',
  destructive: 'DESTRUCTIVE',
  inlineEval: 'INLINE EVAL',
  unanalysable: 'UNANALYSABLE',
};

// What each flag means for an owner who is not a shell expert (the words of src/core/exec/render.ts).
const riskExplain = {
  elevated:
    'Runs with raised privileges (sudo, doas, su, pkexec, run0, or the runtime says so): it can change or delete anything on this machine.',
  destructive:
    'Matches a destructive rule of policies/exec-risk.json: it deletes or overwrites things, and there is no undo.',
  inlineEval:
    'Runs code written on the command line itself (python -c, sh -c, node -e, …): read that code, not just the program name.',
  unanalysable:
    'Shell text countersign cannot split honestly (substitution, redirection, subshell, …): read every character.',
};

const reasonExplain = {
  allowlist_miss: 'no allowlist pattern covers every segment',
  ask_always: 'the policy asks for every command (ask: always)',
  allowlist: 'every segment matches the allowlist',
  allow_for: 'a standing allow-for grant covers it',
  security_full: 'the policy allows every command (security: full)',
  security_deny: 'the policy denies every command (security: deny)',
  policy_invalid: 'the exec policy document is invalid, so every request is denied',
  ask_fallback: 'nobody decided in time; askFallback decided',
  owner: 'an owner decided',
  withdrawn: 'the agent withdrew it',
  expired: 'nobody decided in time',
};

/** Refusals of `POST /v1/exec/requests/:id/resolve`, in words; the server's sentence and code follow. */
const errorWords = {
  totp_required: 'This command needs a code from your authenticator app. Enter it, then choose again.',
  totp_invalid: 'That authenticator code is not valid (wrong, or too old). Enter the current code.',
  totp_replayed: 'That code was already used. Wait for the next one.',
  totp_locked: 'Too many wrong codes: approvals that need a code are locked for a while.',
  totp_not_enrolled: 'This command needs an authenticator code, but no authenticator is enrolled for you.',
  surface_not_allowed: 'This request cannot be approved from the web page; use one of the surfaces listed above.',
  plan_mismatch: 'The request is not the one this page showed (its plan changed). Reload it and read it again.',
  decision_not_allowed:
    'That choice is not allowed for this request: inline code and unanalysable shell text can only be allowed once.',
  not_pending: 'This request was already decided.',
  expired: 'This request expired before anyone decided; the agent has to ask again.',
  not_found: 'There is no such request (the agent may have withdrawn it).',
  forbidden: 'Only an owner can decide exec requests.',
  invalid_request: 'The server refused the form as sent.',
  rate_limited: 'Too many attempts; wait a moment and try again.',
  network: 'The countersign server could not be reached.',
};

const durations = [
  [900, '15 min'],
  [3600, '1 h'],
];

function riskFlags(risk) {
  return Object.keys(riskNames).filter((flag) => risk?.[flag]);
}

function riskBadge(flag) {
  return h('span', { class: `badge risk risk-${flag}`, title: riskExplain[flag] }, riskNames[flag]);
}

function reasonText(reason) {
  const explain = reasonExplain[reason];
  return explain ? [h('code', {}, reason), ` — ${explain}`] : [h('code', {}, String(reason ?? ''))];
}

/** argv as boxes, one per token, with its index: an empty token or a trailing space shows. */
function tokens(argv, className = 'argv') {
  return h(
    'ol',
    { class: className, start: '0' },
    argv.map((token, index) =>
      h(
        'li',
        {},
        h('span', { class: 'argv-index' }, `[${index}]`),
        h('code', { class: 'token', title: token === '' ? 'an empty argument' : null }, token),
      ),
    ),
  );
}

function commandOf(request) {
  if (Array.isArray(request.argv)) return tokens(request.argv);
  if (typeof request.commandText === 'string') return h('pre', { class: 'shell' }, request.commandText);
  return h('span', { class: 'muted' }, '—');
}

/** A one-line preview for the queue: the tokens, still boxed, at most a few. */
function commandPreview(request, max = 6) {
  if (Array.isArray(request.argv)) {
    const shown = request.argv.slice(0, max);
    return h(
      'div',
      { class: 'argv-preview' },
      shown.map((token) => h('code', { class: 'token' }, token)),
      request.argv.length > max ? h('span', { class: 'muted' }, ` +${request.argv.length - max} more`) : null,
    );
  }
  const text = String(request.commandText ?? '');
  return h(
    'div',
    { class: 'argv-preview' },
    h('code', { class: 'shell' }, text.length > 200 ? `${text.slice(0, 200)}…` : text),
  );
}

function expiryLabel(expiresAt, prefix = 'expires in') {
  const left = countdown(expiresAt);
  return h('span', { class: 'expiry', dataset: { expires: expiresAt } }, left ? `${prefix} ${left}` : 'expired');
}

function edge(request) {
  const flags = riskFlags(request.risk);
  return flags.includes('elevated') || flags.includes('destructive') ? 'tier-edge-dangerous' : 'tier-edge-protected';
}

// ---------------------------------------------------------------- the queue on the pending page

/** Pending exec requests and standing grants; never throws (a server without exec routes says so). */
export async function loadExecQueue(call, { withGrants = true } = {}) {
  const [requests, grants] = await Promise.allSettled([
    call('GET', 'v1/exec/requests?status=pending'),
    withGrants ? call('GET', 'v1/exec/grants') : Promise.resolve({ grants: [] }),
  ]);
  return {
    requests: requests.status === 'fulfilled' ? (requests.value.requests ?? []) : null,
    grants: grants.status === 'fulfilled' ? (grants.value.grants ?? []) : null,
    error: requests.status === 'rejected' ? requests.reason : null,
    grantsError: grants.status === 'rejected' ? grants.reason : null,
  };
}

function loadProblem(error) {
  return h(
    'p',
    { class: 'alert warn' },
    error instanceof ApiError ? `${error.message} (${error.code})` : `Could not load: ${error}`,
  );
}

function queueItem(request) {
  return h(
    'a',
    { class: `item exec-item ${edge(request)}`, href: `#/exec/${encodeURIComponent(request.id)}` },
    h(
      'div',
      { class: 'item-head' },
      riskFlags(request.risk).map(riskBadge),
      h('strong', { class: 'item-title' }, 'Command'),
      request.approval?.totp
        ? h('span', { class: 'badge warn', title: 'approving needs an authenticator code' }, 'needs code')
        : null,
      h('span', { class: 'spacer' }),
      expiryLabel(request.expiresAt),
    ),
    commandPreview(request),
    h(
      'div',
      { class: 'item-meta muted' },
      'agent ',
      request.agentId,
      ' · in ',
      request.cwd,
      ` · ${formatTime(request.createdAt)} · ${shortId(request.id)}`,
    ),
    h('span', { class: 'open' }, 'Review →'),
  );
}

function grantsPanel(queue, ctx) {
  const { grants } = queue;
  const body =
    grants === null
      ? loadProblem(queue.grantsError)
      : grants.length === 0
        ? h('p', { class: 'muted small' }, 'No standing grants.')
        : h(
            'ul',
            { class: 'grants' },
            grants.map((grant) => {
              const revoke = h('button', { type: 'button', class: 'quiet danger revoke' }, 'Revoke');
              const problem = h('span', { class: 'error-text small', role: 'alert', hidden: true });
              revoke.addEventListener('click', async () => {
                revoke.disabled = true;
                try {
                  await ctx.call('DELETE', `v1/exec/grants/${encodeURIComponent(grant.id)}`);
                  ctx.refresh();
                } catch (error) {
                  revoke.disabled = false;
                  problem.hidden = false;
                  fill(problem, errorText(error));
                }
              });
              return h(
                'li',
                { class: 'grant', dataset: { grant: grant.id } },
                h(
                  'div',
                  {},
                  'agent ',
                  h('code', {}, grant.agentId),
                  ' may run ',
                  h('code', { class: 'token' }, grant.pattern),
                ),
                grant.argPattern
                  ? h(
                      'div',
                      { class: 'small' },
                      'with arguments matching ',
                      h('code', { class: 'token' }, grant.argPattern),
                    )
                  : null,
                h(
                  'div',
                  { class: 'muted small' },
                  expiryLabel(grant.expiresAt),
                  grant.createdBy ? [' · by ', grant.createdBy] : null,
                ),
                h('div', {}, revoke, problem),
              );
            }),
          );
  return h(
    'section',
    { class: 'panel grants-panel' },
    h('h3', {}, 'Standing grants (allow for…)'),
    h('p', { class: 'muted small' }, 'Each grant lets an agent run one command without asking until it expires.'),
    body,
  );
}

/** The exec column of the pending page. */
export function execQueuePanel(queue, ctx) {
  const { requests } = queue;
  return h(
    'section',
    { class: 'exec-queue', 'aria-label': 'Exec requests' },
    h('h2', {}, 'Commands waiting'),
    requests === null
      ? loadProblem(queue.error)
      : requests.length === 0
        ? h('p', { class: 'empty small' }, 'No commands are waiting. Requests appear here as agents ask to run them.')
        : h('div', { class: 'list' }, requests.map(queueItem)),
    grantsPanel(queue, ctx),
  );
}

// ---------------------------------------------------------------- one request

function fieldsTable(rows) {
  return h(
    'table',
    { class: 'fields' },
    h(
      'tbody',
      {},
      rows.filter(Boolean).map(([label, value]) => h('tr', {}, h('th', {}, label), h('td', {}, value))),
    ),
  );
}

function envList(env) {
  if (!Array.isArray(env) || env.length === 0) return h('span', { class: 'muted' }, 'none given');
  return h(
    'ul',
    { class: 'plain env' },
    env.map((entry) =>
      h(
        'li',
        {},
        h('code', { class: 'token' }, entry.name),
        ' = ',
        entry.value === REDACTED
          ? h('span', { class: 'redacted', title: 'A secret: the value is never shown' }, 'redacted')
          : h('code', { class: 'token' }, entry.value),
      ),
    ),
  );
}

function fileOperandView(file) {
  if (!file) return h('span', { class: 'muted' }, 'none');
  return h(
    'div',
    {},
    h('code', { class: 'token' }, file.path),
    ` (argv[${file.argvIndex}])`,
    h('div', { class: 'small' }, 'sha256 ', h('code', { class: 'wrap hash' }, file.sha256)),
  );
}

function risksPanel(request) {
  const flags = riskFlags(request.risk);
  if (flags.length === 0) return null;
  return h(
    'section',
    { class: 'panel risks exec-risks' },
    h('h2', {}, 'Why this is risky'),
    h(
      'ul',
      {},
      [
        ...flags.map((flag) => h('li', {}, riskBadge(flag), ' ', h('span', { class: 'risk-explain' }, riskExplain[flag]))),
        // The matching rules of policies/exec-risk.json, each with the owner's own explanation.
        ...(Array.isArray(request.riskRules) ? request.riskRules : []).map((rule) =>
          h('li', { class: 'risk-rule' }, h('code', {}, String(rule?.ruleId ?? '')), ' ', String(rule?.explain ?? '')),
        ),
      ],
    ),
  );
}

function segmentsTable(request) {
  const segments = Array.isArray(request.segments) ? request.segments : [];
  return h(
    'section',
    { class: 'panel segments' },
    h('h2', {}, `Segments (${segments.length}; each must be allowed on its own)`),
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['#', 'Command', 'Runs', 'Allowlist', 'Risk'].map((label) => h('th', {}, label)),
        ),
      ),
      h(
        'tbody',
        {},
        segments.map((segment, index) =>
          h(
            'tr',
            { class: 'segment' },
            h('td', {}, String(index + 1)),
            h('td', {}, tokens(segment.argv ?? [], 'argv compact')),
            h(
              'td',
              {},
              segment.resolvedPath === null
                ? h('span', { class: 'error-text' }, 'not found')
                : h('code', { class: 'token' }, segment.resolvedPath),
            ),
            h(
              'td',
              { class: 'matched' },
              segment.matched === null
                ? h('span', { class: 'not-allowlisted' }, 'not allowlisted')
                : h('code', { class: 'token' }, segment.matched),
            ),
            h('td', {}, ['elevated', 'destructive', 'inlineEval'].filter((flag) => segment[flag]).map(riskBadge)),
          ),
        ),
      ),
    ),
  );
}

function resolutionPanel(request) {
  const r = request.resolution;
  if (!r) return null;
  return h(
    'section',
    { class: 'panel' },
    h('h2', {}, 'Decision'),
    fieldsTable([
      ['Outcome', statusBadge(r.status)],
      r.decision ? ['Decision', r.decision] : null,
      ['Why', reasonText(r.reason)],
      ['When', formatTime(r.at)],
      ['By', actorText(r.by)],
      r.stepUp ? ['Step-up', r.stepUp] : null,
      r.pattern !== null && r.pattern !== undefined ? ['Pattern', h('code', { class: 'token' }, r.pattern)] : null,
      r.grantId ? ['Grant', h('code', {}, r.grantId)] : null,
      r.grantExpiresAt ? ['Runnable until', formatTime(r.grantExpiresAt)] : null,
    ]),
  );
}

function errorText(error) {
  if (!(error instanceof ApiError)) return [h('strong', {}, 'Refused: '), String(error)];
  return [
    h('strong', {}, errorWords[error.code] ?? 'Refused.'),
    ' ',
    error.message,
    h('code', { class: 'code' }, error.code),
  ];
}

function resolvedNotice(result, decision) {
  const request = result.request ?? {};
  const until = request.resolution?.grantExpiresAt;
  if (decision === 'deny') return 'Denied. The command will not run.';
  const run = until ? ` The agent may run it until ${formatTime(until)}.` : '';
  if (decision === 'allow-always')
    return `Allowed, and added to the allowlist of agent ${request.agentId ?? ''}.${run}`;
  if (decision === 'allow-for') return `Allowed, with a standing grant for similar requests.${run}`;
  return `Allowed once.${run}`;
}

function decisionForm(request, ctx, token) {
  if (request.status !== 'pending') return null;
  const allowed = new Set(request.allowedDecisions ?? []);
  const message = h('div', { class: 'alert error', role: 'alert', hidden: true });
  const totp = request.approval?.totp ? totpInput() : null;
  // Enter in the reason field means Deny, never an Allow.
  const note = reasonInput('exec-reason', () => denyButton.click());
  const allowOnce = allowed.has('allow-once')
    ? h('button', { type: 'submit', class: 'primary allow-once' }, 'Allow once')
    : null;
  const duration = allowed.has('allow-for')
    ? h(
        'select',
        { id: 'allow-for-duration', name: 'durationSeconds' },
        durations.map(([seconds, label]) => h('option', { value: String(seconds) }, label)),
      )
    : null;
  const allowFor = duration ? h('button', { type: 'button', class: 'allow-for' }, 'Allow for 15 min') : null;
  duration?.addEventListener('change', () => {
    allowFor.textContent = `Allow for ${durations.find(([seconds]) => String(seconds) === duration.value)?.[1] ?? '…'}`;
  });
  const allowAlways = allowed.has('allow-always')
    ? h('button', { type: 'button', class: 'allow-always' }, 'Allow always')
    : null;
  const denyButton = h('button', { type: 'button', class: 'danger deny' }, 'Deny');
  const buttons = [allowOnce, allowFor, allowAlways, denyButton].filter(Boolean);

  const setBusy = (value) => {
    ctx.setBusy(value);
    for (const button of buttons) button.disabled = value;
  };
  const resolve = async (decision) => {
    if (ctx.busy()) return;
    const body = { decision, planHash: request.planHash };
    if (totp?.value.trim() && decision !== 'deny') body.totp = totp.value.trim();
    if (decision === 'allow-for') body.durationSeconds = Number(duration.value);
    if (note.value.trim()) body.reason = note.value.trim();
    setBusy(true);
    try {
      const result = await ctx.call('POST', `v1/exec/requests/${encodeURIComponent(request.id)}/resolve`, body);
      ctx.settled(request.id, result.request?.status ?? result.status);
      setBusy(false);
      if (token === ctx.current())
        await renderExecRequest(ctx, request.id, { notice: resolvedNotice(result, decision) });
    } catch (error) {
      setBusy(false);
      if (totp) totp.value = '';
      message.hidden = false;
      fill(message, errorText(error));
    }
  };
  allowFor?.addEventListener('click', () => resolve('allow-for'));
  allowAlways?.addEventListener('click', () => resolve('allow-always'));
  denyButton.addEventListener('click', () => resolve('deny'));

  const surfaces = request.approval?.surfaces ?? [];
  return h(
    'form',
    {
      class: 'panel decide exec-decide',
      autocomplete: 'off',
      onsubmit: (event) => {
        event.preventDefault();
        if (allowOnce) resolve('allow-once');
      },
    },
    h('h2', {}, 'Your decision'),
    h(
      'p',
      { class: 'muted small approvers' },
      surfaces.length
        ? `This request can be approved from: ${surfaces.join(', ')}.`
        : 'No surface may approve this request.',
      request.approval?.totp ? ' An authenticator code is required.' : '',
    ),
    totp ? totpField(totp, '6 digits from your app, or a recovery code (XXXX-XXXX-XXXX) if the phone is lost. Leave empty if you entered a code within your cooldown.') : null,
    duration
      ? h('div', { class: 'field' }, h('label', { for: 'allow-for-duration' }, 'Allow for how long'), duration)
      : null,
    h('div', { class: 'field' }, h('label', { for: 'exec-reason' }, 'Reason (optional, kept in the audit)'), note),
    h('div', { class: 'actions' }, buttons),
    allowAlways
      ? h(
          'p',
          { class: 'muted small' },
          'Allow always adds this program with exactly these arguments to the agent’s allowlist.',
        )
      : h(
          'p',
          { class: 'muted small' },
          'Allow always is not offered: this request cannot be pinned to an allowlist pattern.',
        ),
    message,
  );
}

/** `#/exec/:id`: the request as the owner must read it, and the decision. */
export async function renderExecRequest(ctx, id, { notice } = {}) {
  const token = ctx.current();
  let request;
  try {
    ({ request } = await ctx.call('GET', `v1/exec/requests/${encodeURIComponent(id)}`));
  } catch (error) {
    if (token === ctx.current()) {
      fill(
        ctx.view,
        h('a', { class: 'back', href: '#/pending' }, '← Pending'),
        h('p', { class: 'alert error', role: 'alert' }, errorText(error)),
      );
    }
    return;
  }
  if (token !== ctx.current()) return;
  ctx.show({ kind: 'exec', id: request.id, status: request.status });
  fill(
    ctx.view,
    h('a', { class: 'back', href: '#/pending' }, '← Pending'),
    notice ? h('p', { class: 'alert ok', role: 'status' }, notice) : null,
    h(
      'header',
      { class: `card-head ${edge(request)}` },
      h(
        'div',
        { class: 'card-title' },
        statusBadge(request.status),
        riskFlags(request.risk).map(riskBadge),
        h('h1', {}, 'Command request'),
        h('span', { class: 'spacer' }),
        request.status === 'pending' ? expiryLabel(request.expiresAt) : null,
      ),
      h(
        'dl',
        { class: 'meta' },
        h('dt', {}, 'Agent'),
        h('dd', {}, h('code', {}, request.agentId), ' · session ', h('code', {}, request.sessionKey)),
        h('dt', {}, 'Created'),
        h('dd', {}, formatTime(request.createdAt)),
        h('dt', {}, 'Why it asks'),
        h('dd', {}, reasonText(request.reason)),
        h('dt', {}, 'Request'),
        h('dd', {}, h('code', {}, request.id)),
      ),
    ),
    risksPanel(request),
    h(
      'section',
      { class: 'panel command' },
      h(
        'h2',
        {},
        Array.isArray(request.argv)
          ? `The exact command (${request.argv.length} argument${request.argv.length === 1 ? '' : 's'}, run without a shell)`
          : 'The exact shell text (run with /bin/sh -c)',
      ),
      commandOf(request),
      fieldsTable([
        ['Working directory', h('code', { class: 'token' }, request.cwd)],
        [
          'Runs',
          request.resolvedPath === null
            ? h('span', { class: 'error-text' }, 'not found')
            : h('code', { class: 'token' }, request.resolvedPath),
        ],
        ['Bound file', fileOperandView(request.fileOperand)],
        ['Environment', envList(request.env)],
        ['Plan hash', h('code', { class: 'wrap hash' }, request.planHash)],
      ]),
    ),
    segmentsTable(request),
    decisionForm(request, ctx, token),
    resolutionPanel(request),
  );
}

/** An exec event while a request is shown: repaint it if its status moved (not for our own decision). */
export function onExecEvent(ctx, data) {
  const request = data?.request ?? data;
  const shown = ctx.shown();
  if (shown?.kind !== 'exec' || request?.id !== shown.id || request.status === shown.status) return;
  const by = request.resolution?.by ? ` (${actorText(request.resolution.by)})` : '';
  renderExecRequest(ctx, shown.id, { notice: `This request is now ${request.status}${by}.` });
}
