// countersign's owner page: sign in with an owner token, review the exact change, countersign it.
// Everything rendered here comes from the API and is placed with text nodes only (see dom.js).

import { ApiError, api, session, streamEvents } from './api.js';
import {
  actorText,
  changeSummary,
  clear,
  countdown,
  fill,
  formatTime,
  formatValue,
  h,
  inertText,
  reasonInput,
  shortHash,
  shortId,
  statusBadge,
  tierBadge,
  tierOrder,
  totpField,
  totpInput,
  valueBlock,
  visibleJson,
  visibleLines,
} from './dom.js';
import { execQueuePanel, loadExecQueue, onExecEvent, renderExecRequest } from './exec.js';
import { takeoverBar } from './takeover.js';

const $ = (id) => document.getElementById(id);
const view = $('view');
// The frozen banner / Freeze agents button above every view (SPEC §11).
const takeover = takeoverBar($('takeover'), call);
const statuses = ['applied', 'denied', 'expired', 'stale', 'withdrawn', 'failed', 'approved', 'pending'];

let live = null; // AbortController of the event stream
let renderToken = 0; // bumps on every navigation, so a slow response cannot paint over a newer view
let shown = null; // { kind: 'pending' } | { kind: 'proposal', id, status, baseHash } | { kind: 'exec', id, status } | { kind: 'history' } | { kind: 'audit' }
let busy = false; // a decision is being sent: live refreshes wait

// ---------------------------------------------------------------- sign-in

function showLogin(message) {
  stopLive();
  takeover.hide();
  shown = null;
  $('nav').hidden = true;
  $('session').hidden = true;
  view.hidden = true;
  clear(view);
  $('login').hidden = false;
  const error = $('login-error');
  error.hidden = !message;
  error.textContent = inertText(message ?? '');
  $('token').value = '';
  $('token').focus();
}

/** A token is an owner's if it may read the audit log: agents get 403 there. */
async function checkOwner(token) {
  await api('GET', 'v1/audit?limit=1', undefined, { token });
}

function loginMessage(error) {
  if (error instanceof ApiError && error.status === 401) return 'That token is not valid or was revoked.';
  if (error instanceof ApiError && error.status === 403)
    return 'This page needs an owner token; that is an agent token.';
  return error instanceof ApiError ? `${error.message} (${error.code})` : String(error);
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) return;
  try {
    await checkOwner(token);
  } catch (error) {
    showLogin(loginMessage(error));
    return;
  }
  session.save(token);
  $('token').value = '';
  enterApp();
});

$('logout').addEventListener('click', () => {
  session.forget();
  showLogin(null);
});

function enterApp() {
  $('login').hidden = true;
  $('nav').hidden = false;
  $('session').hidden = false;
  view.hidden = false;
  startLive();
  takeover.refresh();
  if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = '#/pending';
  else route();
}

/** An API call from inside the app: a token that stopped working sends the owner back to sign-in. */
async function call(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      session.forget();
      showLogin('Your token is no longer accepted; sign in again.');
    }
    throw error;
  }
}

// ---------------------------------------------------------------- routing

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean);
  return { parts, params: new URLSearchParams(query) };
}

function route() {
  if (!session.token) return;
  const { parts, params } = parseHash();
  renderToken += 1;
  for (const link of document.querySelectorAll('[data-nav]')) {
    const active =
      link.dataset.nav === (parts[0] === 'proposal' || parts[0] === 'exec' ? 'pending' : (parts[0] ?? 'pending'));
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (parts[0] === 'proposal' && parts[1]) return renderProposal(decodeURIComponent(parts[1]));
  if (parts[0] === 'exec' && parts[1]) return renderExecRequest(execContext, decodeURIComponent(parts[1]));
  if (parts[0] === 'history') return renderHistory(params.get('status') ?? 'applied');
  if (parts[0] === 'audit') return renderAudit();
  return renderPending();
}

window.addEventListener('hashchange', route);

function loading(title) {
  fill(view, h('h1', {}, title), h('p', { class: 'muted' }, 'Loading…'));
}

function failure(error) {
  return h(
    'p',
    { class: 'alert error', role: 'alert' },
    error instanceof ApiError ? `${error.message} (${error.code})` : `Something went wrong: ${error}`,
  );
}

// ---------------------------------------------------------------- pending list

function changedPaths(card, max = 6) {
  const changes = [...card.changes].sort((a, b) => tierOrder[b.tier] - tierOrder[a.tier]);
  const items = changes
    .slice(0, max)
    .map((change) => h('li', {}, h('code', { class: `path tier-text-${change.tier}` }, change.path)));
  if (changes.length > max) items.push(h('li', { class: 'muted' }, `+${changes.length - max} more`));
  return h('ul', { class: 'paths' }, items);
}

function expiryLabel(card) {
  return h('span', { class: 'expiry', dataset: { expires: card.expiresAt } }, expiryText(card.expiresAt));
}

function expiryText(expiresAt) {
  const left = countdown(expiresAt);
  return left ? `expires in ${left}` : 'expired';
}

function updatePendingCount(count) {
  const badge = $('pending-count');
  badge.hidden = !count;
  badge.textContent = count ? String(count) : '';
}

async function refreshPendingCount() {
  try {
    const [{ proposals }, exec] = await Promise.all([
      call('GET', 'v1/proposals?status=pending'),
      loadExecQueue(call, { withGrants: false }),
    ]);
    updatePendingCount(proposals.length + (exec.requests?.length ?? 0));
    return proposals;
  } catch {
    return null;
  }
}

async function renderPending() {
  const token = renderToken;
  if (shown?.kind !== 'pending') loading('Pending proposals');
  shown = { kind: 'pending' };
  let proposals;
  const execQueue = loadExecQueue(call); // never rejects: a failure shows in its own column
  try {
    ({ proposals } = await call('GET', 'v1/proposals?status=pending'));
  } catch (error) {
    if (token === renderToken) fill(view, h('h1', {}, 'Pending proposals'), failure(error));
    return;
  }
  const exec = await execQueue;
  if (token !== renderToken) return;
  updatePendingCount(proposals.length + (exec.requests?.length ?? 0));
  const list = proposals.length
    ? h(
        'div',
        { class: 'list' },
        proposals.map((card) =>
          h(
            'a',
            { class: `item tier-edge-${card.tier}`, href: `#/proposal/${encodeURIComponent(card.id)}` },
            h(
              'div',
              { class: 'item-head' },
              tierBadge(card.tier),
              h(
                'strong',
                { class: 'item-title' },
                `${card.changes.length} change${card.changes.length === 1 ? '' : 's'} to ${card.target}`,
              ),
              card.restartRequired ? h('span', { class: 'badge restart' }, 'restart') : null,
              h('span', { class: 'spacer' }),
              expiryLabel(card),
            ),
            h(
              'div',
              { class: 'item-meta muted' },
              `${actorText(card.requestedBy)} · ${formatTime(card.createdAt)} · ${shortId(card.id)}`,
            ),
            card.reason ? h('p', { class: 'reason multiline' }, visibleLines(card.reason)) : null,
            changedPaths(card),
            h('span', { class: 'open' }, 'Review →'),
          ),
        ),
      )
    : h('p', { class: 'empty' }, 'Nothing is waiting for you. New proposals appear here as agents make them.');
  fill(
    view,
    h('div', { class: 'view-head' }, h('h1', {}, 'Pending proposals'), h('span', { class: 'muted' }, 'newest first')),
    h('div', { class: 'queues' }, h('div', { class: 'proposal-queue' }, list), execQueuePanel(exec, execContext)),
  );
}

/** What exec.js needs of this page: the API call, the view, and the navigation state it shares. */
const execContext = {
  call,
  view,
  current: () => renderToken,
  shown: () => shown,
  show: (value) => {
    shown = value;
  },
  busy: () => busy,
  setBusy: (value) => {
    busy = value;
  },
  settled: (id, status) => {
    if (shown?.kind === 'exec' && shown.id === id) shown.status = status;
  },
  refresh: () => {
    if (shown?.kind === 'pending') renderPending();
  },
};

// ---------------------------------------------------------------- one proposal

/** The key new to the document (card.newKeys) that a change's path starts with: a likely typo. */
function newKeyOf(card, path) {
  const keys = Array.isArray(card.newKeys) ? card.newKeys : [];
  return keys.find((key) => path === key.path || path.startsWith(`${key.path}.`) || path.startsWith(`${key.path}[`));
}

function diffRow(change, newKey, explainNewKey) {
  const opLabel = { add: 'added', remove: 'removed', replace: 'changed' }[change.op] ?? change.op;
  return h(
    'li',
    { class: `change tier-edge-${change.tier}` },
    h(
      'div',
      { class: 'change-head' },
      tierBadge(change.tier),
      h('span', { class: `op op-${change.op}` }, opLabel),
      h('code', { class: 'path' }, change.path),
      change.restart ? h('span', { class: 'badge restart' }, 'restart') : null,
      newKey ? h('span', { class: 'badge warn new-key' }, 'new key') : null,
    ),
    // Without a schema nothing else catches a misspelt key: the change would apply and do nothing.
    newKey && explainNewKey
      ? h(
          'p',
          { class: 'alert warn new-key' },
          h('code', {}, String(newKey.path)),
          ' is a new key: the document has no such key there yet.',
          typeof newKey.similarTo === 'string'
            ? h('span', {}, ' Did you mean ', h('code', {}, newKey.similarTo), '?')
            : ' If you did not expect a new setting here, check the spelling.',
        )
      : null,
    // A value copied or moved from elsewhere (a secret, typically) says where from, before anything else.
    typeof change.from !== 'string'
      ? null
      : h(
          'p',
          { class: 'alert warn from' },
          h('strong', {}, 'Same value as '),
          h('code', {}, change.from),
          ' — copied here, not typed by the proposer. Check where it goes.',
        ),
    h(
      'div',
      { class: 'diff' },
      h('div', { class: 'side' }, h('div', { class: 'side-label' }, 'Before'), valueBlock(change.before, 'before')),
      h('div', { class: 'side' }, h('div', { class: 'side-label' }, 'After'), valueBlock(change.after, 'after')),
    ),
    changeSummary(change.before, change.after),
    // The explanation itself is in "Why this needs you", once per rule; allowlisted changes say why they are.
    h(
      'p',
      { class: 'explain' },
      h('span', { class: 'rule' }, change.ruleId ? `rule ${change.ruleId}` : 'policy default tier'),
      change.tier === 'allowlisted' && change.explain ? change.explain : null,
    ),
  );
}

function risks(card) {
  const seen = new Map();
  for (const change of card.changes) {
    if (change.tier === 'allowlisted' || !change.explain) continue;
    const key = `${change.ruleId}\u0000${change.explain}`;
    const entry = seen.get(key) ?? { tier: change.tier, ruleId: change.ruleId, explain: change.explain, paths: [] };
    entry.paths.push(change.path);
    if (tierOrder[change.tier] > tierOrder[entry.tier]) entry.tier = change.tier;
    seen.set(key, entry);
  }
  const entries = [...seen.values()].sort((a, b) => tierOrder[b.tier] - tierOrder[a.tier]);
  if (entries.length === 0) return null;
  return h(
    'section',
    { class: 'panel risks' },
    h('h2', {}, 'Why this needs you'),
    h(
      'ul',
      {},
      entries.map((entry) =>
        h(
          'li',
          {},
          tierBadge(entry.tier),
          h('span', { class: 'rule' }, entry.ruleId ? `rule ${entry.ruleId}` : 'default tier'),
          h('span', {}, entry.explain),
          h('div', { class: 'muted small' }, entry.paths.join(', ')),
        ),
      ),
    ),
  );
}

const mcpFields = [
  ['action', 'Action'],
  ['transport', 'Transport'],
  ['command', 'Command'],
  ['args', 'Arguments'],
  ['cwd', 'Working directory'],
  ['url', 'URL'],
  ['resolvedPath', 'Resolved path'],
  ['absolute', 'Absolute path'],
  ['exists', 'Exists'],
  ['executable', 'Executable'],
  ['sha256', 'SHA-256'],
  ['provenance', 'Provenance'],
  ['env', 'Environment'],
  ['headers', 'Headers'],
];
const mcpHandled = new Set(['server', 'warnings', 'smokeTest', ...mcpFields.map(([key]) => key)]);

/** `resolvedPath` → "Resolved path", for review fields this page does not know by name. */
function humanize(key) {
  const words = String(key)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function fieldValue(key, value) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, '—');
  if (Array.isArray(value) && value.length === 0) return h('span', { class: 'muted' }, 'none');
  if ((key === 'env' || key === 'headers') && Array.isArray(value)) {
    if (value.length === 0) return h('span', { class: 'muted' }, 'none');
    return h('ul', { class: 'plain' }, value.map(namedValue));
  }
  if (key === 'args' && Array.isArray(value))
    return h('code', { class: 'wrap' }, visibleJson(value.map((arg) => JSON.stringify(arg)).join(' ')));
  if (typeof value === 'boolean') return h('span', {}, value ? 'yes' : 'no');
  if (typeof value === 'string') return h('code', { class: 'wrap' }, value);
  return h('pre', { class: 'inline-json' }, visibleJson(formatValue(value)));
}

/** An env variable or header of the MCP review: the value of an override, the variable a reference reads. */
function namedValue(entry) {
  const name = h('code', {}, String(entry?.name ?? ''));
  if (typeof entry?.value === 'string') {
    return h('li', {}, name, ' = ', h('code', { class: 'wrap' }, visibleJson(JSON.stringify(entry.value))));
  }
  if (typeof entry?.reads === 'string') {
    return h('li', {}, name, ' reads ', h('code', {}, '${', entry.reads, '}'));
  }
  if (entry?.kept) return h('li', {}, name, ' (kept as it is, not shown)');
  return h('li', {}, name, entry?.reference ? ' (a ${VAR} reference)' : ' (literal value, hidden)');
}

function warningList(warnings) {
  if (!Array.isArray(warnings) || warnings.length === 0) return null;
  return h(
    'ul',
    { class: 'warnings' },
    warnings.map((warning) =>
      h(
        'li',
        {},
        h('span', { class: 'badge warn' }, String(warning?.code ?? 'warning')),
        ' ',
        String(warning?.message ?? (typeof warning === 'string' ? warning : '')),
      ),
    ),
  );
}

function smokeTest(result) {
  if (!result || typeof result !== 'object') return null;
  const tools = Array.isArray(result.tools) ? result.tools : [];
  return h(
    'div',
    { class: 'smoke' },
    h('h4', {}, `Smoke test: ${tools.length} tool${tools.length === 1 ? '' : 's'}`),
    tools.length
      ? h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Tool'), h('th', {}, 'Description'), h('th', {}, 'Kind'))),
          h(
            'tbody',
            {},
            tools.map((tool) =>
              h(
                'tr',
                {},
                h('td', {}, h('code', {}, String(tool?.name ?? ''))),
                h('td', {}, String(tool?.description ?? '')),
                h(
                  'td',
                  {},
                  tool?.destructive ? h('span', { class: 'badge tier tier-dangerous' }, 'destructive') : null,
                  tool?.readOnly ? h('span', { class: 'badge tier tier-allowlisted' }, 'read-only') : null,
                ),
              ),
            ),
          ),
        )
      : null,
    warningList(result.warnings),
  );
}

/**
 * The owner's "Run smoke test" button (POST …/smoke-test; never automatic): starts this server,
 * lists its tools and shows them in place of any earlier result. Only open proposals are tested.
 */
function smokeTestControl(card, entry) {
  const open = card.status === 'pending' || card.status === 'approved';
  if (!open || entry.action === 'remove') return null;
  const server = entry.location === 'nodeHost' ? `nodeHost:${entry.server}` : String(entry.server);
  const result = h('div', { class: 'smoke-result' }, smokeTest(entry.smokeTest));
  const button = h(
    'button',
    { type: 'button', class: 'smoke-test' },
    entry.smokeTest ? 'Run the smoke test again' : 'Run smoke test',
  );
  button.addEventListener('click', async () => {
    button.disabled = true;
    fill(result, h('p', { class: 'muted' }, 'Starting the server and listing its tools…'));
    try {
      const answer = await call('POST', `v1/proposals/${encodeURIComponent(card.id)}/smoke-test`, { server });
      fill(result, smokeTest(answer));
    } catch (error) {
      fill(result, failure(error));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    'div',
    { class: 'smoke-control' },
    h('div', { class: 'actions' }, button),
    h(
      'p',
      { class: 'muted small' },
      "Starts this server as countersign's user with a reduced environment for at most 10 s, lists its tools, then stops it. A look, not a sandbox.",
    ),
    result,
  );
}

function mcpReview(card) {
  const entries = Array.isArray(card.review?.mcp) ? card.review.mcp : [];
  if (entries.length === 0) return null;
  return h(
    'section',
    { class: 'panel mcp' },
    h('h2', {}, 'MCP server review'),
    entries.map((entry) => {
      const rows = mcpFields.filter(([key]) => key in entry).map(([key, label]) => [label, fieldValue(key, entry[key])]);
      for (const [key, value] of Object.entries(entry)) {
        if (!mcpHandled.has(key)) rows.push([humanize(key), fieldValue(key, value)]);
      }
      return h(
        'article',
        { class: 'mcp-entry' },
        h('h3', {}, h('code', {}, String(entry.server ?? '(unnamed server)'))),
        warningList(entry.warnings),
        fieldsTable(rows),
        smokeTestControl(card, entry) ?? smokeTest(entry.smokeTest),
      );
    }),
  );
}

function resolutionPanel(card) {
  const resolution = card.resolution;
  if (!resolution) return null;
  const rows = [
    ['Outcome', statusBadge(resolution.status)],
    ['When', formatTime(resolution.at)],
    ['By', actorText(resolution.by)],
    resolution.stepUp ? ['Step-up', resolution.stepUp] : null,
    resolution.reason ? ['Reason', resolution.reason] : null,
    resolution.hash ? ['Document hash', h('code', {}, resolution.hash)] : null,
  ].filter(Boolean);
  return h(
    'section',
    { class: 'panel' },
    h('h2', {}, 'Decision'),
    fieldsTable(rows),
  );
}

/** A two-column label/value table, the page's one way of listing a record's fields. */
function fieldsTable(rows) {
  return h(
    'table',
    { class: 'fields' },
    h(
      'tbody',
      {},
      rows.map(([label, value]) => h('tr', {}, h('th', {}, label), h('td', {}, value))),
    ),
  );
}

/** Our own decision is known before the event stream reports it: that event must not repaint the view. */
function settled(id, status) {
  if (shown?.kind === 'proposal' && shown.id === id) shown.status = status;
}

function decisionForm(card, token) {
  const open = card.status === 'pending' || card.status === 'approved';
  if (!open) return null;
  const message = h('div', { class: 'alert error', role: 'alert', hidden: true });
  const canApprove = card.status === 'pending';
  const confirm =
    canApprove && card.approval.confirmPhrase
      ? h('input', {
          id: 'confirm',
          name: 'confirm',
          type: 'text',
          autocomplete: 'off',
          spellcheck: 'false',
          required: true,
        })
      : null;
  const totp = canApprove && card.approval.totp ? totpInput() : null;
  // Enter in the reason field means Deny, never the form's Approve.
  const reason = reasonInput('deny-reason', () => denyButton.click());
  const approveButton = canApprove ? h('button', { type: 'submit', class: 'primary approve' }, 'Approve') : null;
  const denyButton = h('button', { type: 'button', class: 'danger deny' }, 'Deny');

  const show = (error) => {
    message.hidden = false;
    fill(
      message,
      h('strong', {}, 'Refused: '),
      error instanceof ApiError ? error.message : String(error),
      error instanceof ApiError ? h('code', { class: 'code' }, error.code) : null,
    );
  };
  const setBusy = (value) => {
    busy = value;
    if (approveButton) approveButton.disabled = value;
    denyButton.disabled = value;
  };

  const form = h(
    'form',
    {
      class: 'panel decide',
      autocomplete: 'off',
      onsubmit: async (event) => {
        event.preventDefault();
        if (busy || !canApprove) return;
        const body = { patchHash: card.patchHash };
        if (confirm) body.confirm = confirm.value;
        if (totp?.value.trim()) body.totp = totp.value.trim();
        setBusy(true);
        try {
          const result = await call('POST', `v1/proposals/${encodeURIComponent(card.id)}/approve`, body);
          const notice =
            result.status === 'applied'
              ? `Applied. The document is now ${shortHash(result.hash)}.${result.restartRequired ? ' The gateway restarts to take it in.' : ''}`
              : `Approved. The agent may apply it until ${formatTime(result.grant?.expiresAt)}.`;
          settled(card.id, result.proposal?.status ?? result.status);
          if (token === renderToken) await renderProposal(card.id, { notice });
          setBusy(false);
        } catch (error) {
          setBusy(false);
          if (totp) totp.value = '';
          show(error);
        }
      },
    },
    h('h2', {}, card.status === 'approved' ? 'Approved; waiting for the agent' : 'Your decision'),
    card.approval.surfaces?.length
      ? h(
          'p',
          { class: 'muted small' },
          `A ${card.tier} change can be approved from: ${card.approval.surfaces.join(', ')}.`,
        )
      : null,
    confirm
      ? h(
          'div',
          { class: 'field' },
          h(
            'label',
            { for: 'confirm' },
            'Type ',
            h('code', { class: 'phrase' }, card.approval.confirmPhrase),
            ' to confirm',
          ),
          confirm,
        )
      : null,
    totp ? totpField(totp, '6 digits from your app, or a recovery code (XXXX-XXXX-XXXX) if the phone is lost. Leave empty if you approved a change of this tier within your cooldown.') : null,
    h('div', { class: 'field' }, h('label', { for: 'deny-reason' }, 'Reason for denying (optional)'), reason),
    h('div', { class: 'actions' }, approveButton, denyButton),
    message,
  );

  denyButton.addEventListener('click', async () => {
    if (busy) return;
    setBusy(true);
    try {
      const text = reason.value.trim();
      const result = await call(
        'POST',
        `v1/proposals/${encodeURIComponent(card.id)}/deny`,
        text ? { reason: text } : {},
      );
      settled(card.id, result.proposal?.status ?? 'denied');
      if (token === renderToken) await renderProposal(card.id, { notice: 'Denied. Nothing was changed.' });
      setBusy(false);
    } catch (error) {
      setBusy(false);
      show(error);
    }
  });
  return form;
}

function details(card) {
  return h(
    'details',
    { class: 'panel more' },
    h('summary', {}, 'Hashes and RFC 6902 operations'),
    fieldsTable(
      [
        ['Proposal', card.id],
        ['Base hash', card.baseHash],
        ['Patch hash', card.patchHash],
        ['Target hash', card.targetHash],
      ].map(([label, value]) => [label, h('code', { class: 'wrap' }, value)]),
    ),
    h('pre', { class: 'operations' }, visibleJson(card.operations.map((operation) => JSON.stringify(operation)).join('\n'))),
  );
}

async function auditTrail(id, token) {
  const container = h(
    'section',
    { class: 'panel' },
    h('h2', {}, 'Audit trail'),
    h('p', { class: 'muted' }, 'Loading…'),
  );
  call('GET', `v1/audit?proposalId=${encodeURIComponent(id)}&limit=100`)
    .then(({ events }) => {
      if (token !== renderToken) return;
      fill(container, h('h2', {}, 'Audit trail'), auditTable(events, false));
    })
    .catch((error) => {
      if (token === renderToken) fill(container, h('h2', {}, 'Audit trail'), failure(error));
    });
  return container;
}

async function renderProposal(id, { notice } = {}) {
  const token = renderToken;
  let card;
  try {
    card = await call('GET', `v1/proposals/${encodeURIComponent(id)}`);
  } catch (error) {
    if (token === renderToken) fill(view, h('a', { class: 'back', href: '#/pending' }, '← Pending'), failure(error));
    return;
  }
  if (token !== renderToken) return;
  shown = { kind: 'proposal', id: card.id, status: card.status, baseHash: card.baseHash };
  const changes = [...card.changes].sort((a, b) => tierOrder[b.tier] - tierOrder[a.tier]);
  fill(
    view,
    h(
      'a',
      { class: 'back', href: card.status === 'pending' ? '#/pending' : '#/history?status=all' },
      card.status === 'pending' ? '← Pending' : '← History',
    ),
    notice ? h('p', { class: 'alert ok', role: 'status' }, notice) : null,
    h(
      'header',
      { class: `card-head tier-edge-${card.tier}` },
      h(
        'div',
        { class: 'card-title' },
        tierBadge(card.tier),
        statusBadge(card.status),
        h('h1', {}, `${card.changes.length} change${card.changes.length === 1 ? '' : 's'} to ${card.target}`),
        h('span', { class: 'spacer' }),
        card.status === 'pending' ? expiryLabel(card) : null,
      ),
      h(
        'dl',
        { class: 'meta' },
        h('dt', {}, 'Requested by'),
        h('dd', {}, actorText(card.requestedBy)),
        h('dt', {}, 'Created'),
        h('dd', {}, formatTime(card.createdAt)),
        h('dt', {}, 'Reason'),
        h('dd', { class: 'multiline' }, card.reason ? visibleLines(card.reason) : h('span', { class: 'muted' }, 'none given')),
        h('dt', {}, 'Proposal'),
        h('dd', {}, h('code', {}, card.id)),
      ),
      card.restartRequired
        ? h('p', { class: 'alert warn' }, 'Restart required: by its reload plan the gateway restarts to take this in, briefly dropping chat connections.')
        : null,
    ),
    // The program about to be registered is what most needs a human's eyes: it comes first.
    mcpReview(card),
    risks(card),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'The exact change'),
      h(
        'ol',
        { class: 'changes' },
        // The "new key" note goes on the first change under each new key only.
        changes.map((change, index) => {
          const key = newKeyOf(card, change.path);
          const first = key && changes.findIndex((other) => newKeyOf(card, other.path) === key) === index;
          return diffRow(change, key, first);
        }),
      ),
    ),
    decisionForm(card, token),
    resolutionPanel(card),
    details(card),
    await auditTrail(card.id, token),
  );
}

// ---------------------------------------------------------------- history and audit

function historyRow(card) {
  return h(
    'tr',
    {},
    h('td', {}, h('a', { href: `#/proposal/${encodeURIComponent(card.id)}` }, shortId(card.id))),
    h('td', {}, formatTime(card.createdAt)),
    h('td', {}, statusBadge(card.status)),
    h('td', {}, tierBadge(card.tier)),
    h(
      'td',
      {},
      card.changes.slice(0, 3).map((change) => h('code', { class: 'path chip' }, change.path)),
      card.changes.length > 3 ? ` +${card.changes.length - 3}` : '',
    ),
    h('td', {}, actorText(card.requestedBy)),
    h(
      'td',
      {},
      card.resolution
        ? `${actorText(card.resolution.by)}${card.resolution.stepUp ? ` · ${card.resolution.stepUp}` : ''}`
        : '',
    ),
  );
}

async function renderHistory(status) {
  const token = renderToken;
  shown = { kind: 'history' };
  loading('History');
  let proposals;
  try {
    const query = status === 'all' ? '' : `&status=${encodeURIComponent(status)}`;
    ({ proposals } = await call('GET', `v1/proposals?limit=200${query}`));
  } catch (error) {
    if (token === renderToken) fill(view, h('h1', {}, 'History'), failure(error));
    return;
  }
  if (token !== renderToken) return;
  const select = h(
    'select',
    {
      id: 'history-status',
      name: 'status',
      onchange: (event) => {
        location.hash = `#/history?status=${encodeURIComponent(event.target.value)}`;
      },
    },
    ['all', ...statuses].map((value) => h('option', { value, selected: value === status }, value)),
  );
  fill(
    view,
    h(
      'div',
      { class: 'view-head' },
      h('h1', {}, 'History'),
      h('label', { for: 'history-status', class: 'muted' }, 'Status '),
      select,
    ),
    proposals.length
      ? h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Proposal', 'Created', 'Status', 'Tier', 'Paths', 'Requested by', 'Decided by'].map((label) =>
                h('th', {}, label),
              ),
            ),
          ),
          h('tbody', {}, proposals.map(historyRow)),
        )
      : h('p', { class: 'empty' }, `No ${status === 'all' ? '' : `${status} `}proposals.`),
  );
}

function auditTable(events, withProposal = true) {
  if (events.length === 0) return h('p', { class: 'empty' }, 'No events.');
  const headings = [
    '#',
    'Time',
    'Event',
    'Actor',
    'Tier',
    'Step-up',
    'Paths',
    withProposal ? 'Proposal' : null,
    'Reason',
  ].filter(Boolean);
  return h(
    'table',
    { class: 'grid audit' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headings.map((label) => h('th', {}, label)),
      ),
    ),
    h(
      'tbody',
      {},
      events.map((event) =>
        h(
          'tr',
          {},
          h('td', {}, String(event.seq)),
          h('td', {}, formatTime(event.at)),
          h('td', {}, h('code', {}, event.kind)),
          h('td', {}, event.actor ? actorText(event.actor) : ''),
          h('td', {}, event.tier ? tierBadge(event.tier) : ''),
          h('td', {}, event.stepUp ?? ''),
          h(
            'td',
            {},
            Array.isArray(event.paths)
              ? event.paths.slice(0, 4).map((path) => h('code', { class: 'path chip' }, path))
              : '',
            Array.isArray(event.paths) && event.paths.length > 4 ? ` +${event.paths.length - 4}` : '',
          ),
          withProposal
            ? h(
                'td',
                {},
                event.proposalId
                  ? h('a', { href: `#/proposal/${encodeURIComponent(event.proposalId)}` }, shortId(event.proposalId))
                  : '',
              )
            : null,
          h('td', { class: 'small' }, event.reason ?? ''),
        ),
      ),
    ),
  );
}

async function renderAudit() {
  const token = renderToken;
  shown = { kind: 'audit' };
  loading('Audit log');
  const pageSize = 200;
  const verdict = h('span', { class: 'muted', role: 'status' });
  const body = h('div', {});
  const more = h('button', { type: 'button', class: 'quiet', hidden: true }, 'Load more');
  let after = 0;
  const load = async () => {
    more.disabled = true;
    try {
      const { events } = await call('GET', `v1/audit?after=${after}&limit=${pageSize}`);
      if (token !== renderToken) return;
      if (events.length) after = events[events.length - 1].seq;
      if (after === 0 || events.length) body.append(auditTable(events));
      more.hidden = events.length < pageSize;
    } catch (error) {
      body.append(failure(error));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', load);
  const verify = h(
    'button',
    {
      type: 'button',
      class: 'quiet',
      onclick: async () => {
        verdict.textContent = 'Verifying…';
        try {
          const result = await call('GET', 'v1/audit/verify');
          verdict.className = result.ok ? 'ok-text' : 'error-text';
          verdict.textContent = result.ok
            ? `Chain intact: ${result.count} events.`
            : inertText(`Chain broken at event ${result.brokenAt}${result.reason ? `: ${result.reason}` : ''}.`);
        } catch (error) {
          verdict.className = 'error-text';
          verdict.textContent = inertText(`${error.message} (${error.code})`);
        }
      },
    },
    'Verify chain',
  );
  fill(
    view,
    h(
      'div',
      { class: 'view-head' },
      h('h1', {}, 'Audit log'),
      h('span', { class: 'muted' }, 'oldest first'),
      h('span', { class: 'spacer' }),
      verify,
      verdict,
    ),
    body,
    more,
  );
  await load();
}

// ---------------------------------------------------------------- live updates

function setLive(state) {
  const badge = $('live');
  badge.textContent = state;
  badge.className = `live live-${state}`;
}

function stopLive() {
  live?.abort();
  live = null;
  setLive('offline');
}

function startLive() {
  stopLive();
  const controller = new AbortController();
  live = controller;
  let delay = 1000;
  (async () => {
    while (!controller.signal.aborted && session.token) {
      try {
        await streamEvents(onEvent, {
          signal: controller.signal,
          onOpen: () => {
            delay = 1000;
            setLive('live');
          },
        });
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          session.forget();
          showLogin('Your token is no longer accepted; sign in again.');
          return;
        }
      }
      if (controller.signal.aborted) return;
      setLive('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  })();
}

function onEvent(name, data) {
  if (name === 'freeze.applied' || name === 'freeze.lifted') {
    takeover.refresh();
    return;
  }
  const card = name === 'change.applied' ? data?.proposal : data;
  refreshPendingCount();
  if (busy) return;
  if (name === 'exec.requested' || name === 'exec.resolved') {
    if (shown?.kind === 'pending') renderPending();
    else onExecEvent(execContext, data);
    return;
  }
  if (shown?.kind === 'pending') {
    renderPending();
  } else if (shown?.kind === 'proposal' && card?.id === shown.id && card.status !== shown.status) {
    renderProposal(shown.id, {
      notice: `This proposal is now ${card.status}${card.resolution?.by ? ` (${actorText(card.resolution.by)})` : ''}.`,
    });
  } else if (shown?.kind === 'proposal' && card?.id === shown.id && card.baseHash !== shown.baseHash) {
    // Rebased: only allowlisted changes elsewhere moved under it; the change shown is the same.
    renderProposal(shown.id, {
      notice: 'The document changed elsewhere (allowlisted settings only); this proposal was carried over unchanged.',
    });
  }
}

// Expiry countdowns tick once a second wherever they are shown.
setInterval(() => {
  for (const element of document.querySelectorAll('[data-expires]')) {
    element.textContent = expiryText(element.dataset.expires);
    element.classList.toggle('soon', Date.parse(element.dataset.expires) - Date.now() < 120_000);
  }
}, 1000);

// ---------------------------------------------------------------- start

if (session.token) {
  checkOwner(session.token).then(enterApp, (error) => {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) session.forget();
    showLogin(loginMessage(error));
  });
} else {
  showLogin(null);
}
