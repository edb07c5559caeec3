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
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
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
  return h('pre', { class: `value ${side}` }, formatValue(value));
}

export function shortId(id) {
  return String(id).slice(0, 8);
}

export function shortHash(hash) {
  const text = String(hash ?? '');
  return text.startsWith('sha256:') ? `sha256:${text.slice(7, 19)}…` : text;
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

export function actorText(actor) {
  if (!actor) return 'the service';
  const parts = [`${actor.role} ${actor.name}`];
  if (actor.agentId && actor.agentId !== actor.name) parts.push(`(agent ${actor.agentId})`);
  if (actor.surface) parts.push(`via ${actor.surface}`);
  if (actor.sessionKey) parts.push(`· session ${actor.sessionKey}`);
  return parts.join(' ');
}
