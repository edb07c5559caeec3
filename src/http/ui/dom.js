// Building DOM nodes without ever parsing HTML: every piece of data becomes a text node or an
// attribute value. The page's Content-Security-Policy enforces Trusted Types, so an accidental
// `innerHTML = string` would throw instead of rendering.

const forbiddenProperties = /^(innerHTML|outerHTML|srcdoc)$/i;

/**
 * h('a', { href, class: 'x', onclick: fn, dataset: { id } }, 'text', child, [more]) → Element.
 * Strings and numbers become text nodes; null, undefined and false are skipped.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (forbiddenProperties.test(name)) throw new Error(`refusing to set ${name}`);
    if (name === 'class') element.className = String(value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) {
      if (typeof value !== 'function') throw new Error(`event handler ${name} must be a function`);
      element.addEventListener(name.slice(2), value);
    } else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : visibleText(String(child)));
  }
  return parent;
}

// ---------------------------------------------------------------- inert text
// A copy of src/core/text/inert.ts (test/render/inert.test.ts holds the two to the same output):
// text nodes cannot run markup, but a bidi override still reorders what follows it, a zero-width
// space still hides a difference and a control character still hides itself. Every string this
// page shows goes through `append`, which shows those characters as escapes (`\u202e`) in a
// marked span; a literal backslash is doubled so that an agent cannot type a look-alike escape.

const unsafe =
  /[\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800]/gu;
const unsafeInJson =
  /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800]/gu;
const named = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(char) {
  if (Object.hasOwn(named, char)) return named[char];
  const code = char.codePointAt(0);
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

function jsonEscape(char) {
  let out = '';
  for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/** `inert` of src/core/text/inert.ts: the string with every unsafe character as a visible escape. */
export function inertText(text) {
  return String(text).replace(unsafe, escapeChar);
}

/** `inertJsonText` of src/core/text/inert.ts: JSON text, same value, no raw invisible characters. */
export function inertJsonText(json) {
  return String(json).replace(unsafeInJson, jsonEscape);
}

/**
 * Text as nodes: plain runs as text nodes, each escape in a `span.esc` (so it stands out from
 * text that merely looks like an escape). `json` says the text is JSON, whose own escapes stay.
 */
function escapedNodes(text, json) {
  const fragment = document.createDocumentFragment();
  const pattern = json ? unsafeInJson : unsafe;
  let at = 0;
  for (const match of String(text).matchAll(pattern)) {
    const char = match[0];
    if (match.index > at) fragment.append(document.createTextNode(text.slice(at, match.index)));
    if (char === '\\') fragment.append(document.createTextNode('\\\\'));
    else {
      const escape = document.createElement('span');
      escape.className = 'esc';
      escape.title = `invisible or control character U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      escape.textContent = json ? jsonEscape(char) : escapeChar(char);
      fragment.append(escape);
    }
    at = match.index + char.length;
  }
  if (at < text.length) fragment.append(document.createTextNode(text.slice(at)));
  return fragment;
}

/** Any string as the owner should see it (what `append` does with every string child). */
export function visibleText(text) {
  return escapedNodes(String(text), false);
}

/** JSON text (from `formatValue`, `JSON.stringify`) as nodes: its escapes kept, invisibles shown. */
export function visibleJson(json) {
  return escapedNodes(String(json), true);
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

/** Replaces a node's children (skipping null, undefined and false, unlike the DOM's own append). */
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

export const REDACTED = '[redacted]';

/** A JSON value as an owner should read it: strings quoted (so "true" and true differ), objects indented. */
export function formatValue(value) {
  if (value === undefined) return '';
  return JSON.stringify(value, null, 2);
}

/** The value in a diff cell: absent, a redacted placeholder, or the formatted JSON. */
export function valueBlock(value, side) {
  if (value === undefined) return h('div', { class: `value absent ${side}` }, '(absent)');
  if (value === REDACTED) {
    return h(
      'div',
      { class: `value ${side}` },
      h('span', { class: 'redacted', title: 'A secret: the value is never shown' }, 'redacted'),
    );
  }
  return h('pre', { class: `value ${side}` }, visibleJson(formatValue(value)));
}

export function shortId(id) {
  return String(id).slice(0, 8);
}

export function shortHash(hash) {
  const text = String(hash ?? '');
  const match = /^((?:hmac-)?sha256:)([0-9a-f]{12})[0-9a-f]{52}$/.exec(text);
  return match ? `${match[1]}${match[2]}…` : text;
}

export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** "14:05" or "1:02:09" left, or null once past. */
export function countdown(expiresAt, now = Date.now()) {
  const left = Math.floor((Date.parse(expiresAt) - now) / 1000);
  if (!Number.isFinite(left) || left <= 0) return null;
  const hours = Math.floor(left / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  const pad = (n) => String(n).padStart(2, '0');
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
}

export const tierOrder = { blocked: 3, dangerous: 2, protected: 1, allowlisted: 0 };

export function tierBadge(tier) {
  return h('span', { class: `badge tier tier-${tier}`, title: `tier: ${tier}` }, String(tier));
}

export function statusBadge(status) {
  return h('span', { class: `badge status status-${status}` }, String(status));
}

/** "owner via cli", "alice (owner) via web", "main (agent)": the name, and the role only when the name is not it. */
export function actorText(actor) {
  if (!actor) return 'the service';
  const role = actor.agentId && actor.agentId !== actor.name ? `agent ${actor.agentId}` : String(actor.role);
  const parts = [actor.name === actor.role ? role : `${actor.name} (${role})`];
  if (actor.surface) parts.push(`via ${actor.surface}`);
  if (actor.sessionKey) parts.push(`· session ${actor.sessionKey}`);
  return parts.join(' ');
}

/** Free text that may span lines (a reason): each line inert, the breaks kept (the element wraps with pre-wrap). */
export function visibleLines(text) {
  const fragment = document.createDocumentFragment();
  String(text)
    .split('\n')
    .forEach((line, index) => {
      if (index > 0) fragment.append(document.createTextNode('\n'));
      fragment.append(visibleText(line));
    });
  return fragment;
}

// ---------------------------------------------------------------- what changed (issue 10 item 8)
// A copy of the rules of src/core/text/value-diff.ts: a list shows the items added and removed,
// two long values show the part where they differ; the two sides never read the same.

/** JSON with sorted keys, so that equal items compare equal whatever their key order. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Items added to and removed from a list, as multisets. */
export function listDelta(before, after) {
  const left = new Map();
  for (const item of before) left.set(canonicalJson(item), (left.get(canonicalJson(item)) ?? 0) + 1);
  const added = [];
  for (const item of after) {
    const key = canonicalJson(item);
    const count = left.get(key) ?? 0;
    if (count > 0) left.set(key, count - 1);
    else added.push(item);
  }
  const removed = [];
  for (const item of before) {
    const key = canonicalJson(item);
    const count = left.get(key) ?? 0;
    if (count > 0) {
      removed.push(item);
      left.set(key, count - 1);
    }
  }
  return { added, removed };
}

/**
 * Two texts around their first difference: the same number of characters hidden at the start on
 * both sides, then the same context, then the differing middle (always shown, highlighted).
 */
export function excerptPair(before, after, { max = 160, context = 24 } = {}) {
  const a = Array.from(before);
  const b = Array.from(after);
  if (a.length <= max && b.length <= max) return null;
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  const room = Math.min(a.length, b.length) - prefix;
  while (suffix < room && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const start = Math.max(0, prefix - context);
  const tail = Math.min(suffix, context);
  const side = (chars) => ({
    skippedStart: start,
    lead: chars.slice(start, prefix).join(''),
    middle: chars.slice(prefix, chars.length - suffix).join(''),
    trail: chars.slice(chars.length - suffix, chars.length - suffix + tail).join(''),
    skippedEnd: suffix - tail,
  });
  return { before: side(a), after: side(b) };
}

function excerptNode(excerpt, side) {
  return h(
    'div',
    { class: `excerpt ${side}` },
    excerpt.skippedStart ? h('span', { class: 'skipped' }, `…${excerpt.skippedStart} chars…`) : null,
    visibleJson(excerpt.lead),
    h('mark', {}, visibleJson(excerpt.middle)),
    visibleJson(excerpt.trail),
    excerpt.skippedEnd ? h('span', { class: 'skipped' }, `…${excerpt.skippedEnd} chars…`) : null,
  );
}

/** Under a change's before/after: the items a list gained and lost, or where two long values differ. */
export function changeSummary(before, after) {
  if (Array.isArray(before) && Array.isArray(after)) {
    const { added, removed } = listDelta(before, after);
    if (added.length === 0 && removed.length === 0) {
      return h('p', { class: 'delta muted small' }, 'Same items, new order.');
    }
    return h(
      'ul',
      { class: 'delta' },
      removed.map((item) => h('li', { class: 'removed' }, '− ', visibleJson(JSON.stringify(item)))),
      added.map((item) => h('li', { class: 'added' }, '+ ', visibleJson(JSON.stringify(item)))),
    );
  }
  if (before === undefined || after === undefined) return null;
  const pair = excerptPair(JSON.stringify(before), JSON.stringify(after));
  if (!pair) return null;
  return h(
    'div',
    { class: 'delta' },
    h('div', { class: 'side-label' }, 'Where they differ'),
    excerptNode(pair.before, 'before'),
    excerptNode(pair.after, 'after'),
  );
}

// ---------------------------------------------------------------- decision form fields
// The proposal page and the exec page ask for the same code and the same optional reason.

/** The authenticator code input: a 6–8 digit code, or a one-time recovery code (XXXX-XXXX-XXXX) when the phone is lost. */
export function totpInput() {
  return h('input', {
    id: 'totp',
    name: 'totp',
    type: 'text',
    autocomplete: 'one-time-code',
    pattern: '[0-9]{6,8}|[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}',
    maxlength: '14',
    placeholder: '123456',
  });
}

/** The labelled field around `totpInput()`, with a hint on when it may stay empty. */
export function totpField(input, hint) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: 'totp' }, 'Authenticator code'),
    input,
    h('span', { class: 'hint muted small' }, hint),
  );
}

/** An optional free-text reason. Enter in it calls `onEnter` (the page's Deny), never the form's submit (an approval). */
export function reasonInput(id, onEnter) {
  return h('input', {
    id,
    name: 'reason',
    type: 'text',
    autocomplete: 'off',
    maxlength: '4000',
    onkeydown: (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      onEnter();
    },
  });
}
