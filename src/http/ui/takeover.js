// Manual takeover (SPEC §11) on the owner's page: a banner that cannot be missed while agents are
// frozen (since when, who, why) with an Unfreeze form, and — kept apart from every approval
// control — a "Freeze agents" button that asks for a reason. "Last drill" comes from /v1/status.
// Everything is placed with text nodes only (dom.js).

import { ApiError } from './api.js';
import { actorText, fill, formatTime, h, visibleLines } from './dom.js';

function drillText(lastDrill) {
  if (!lastDrill) return 'Recovery never drilled here — run `countersign drill`.';
  const changes = typeof lastDrill.changes === 'number' ? `, ${lastDrill.changes} change(s)` : '';
  return `Last drill: ${formatTime(lastDrill.at)} — ${lastDrill.ok ? 'every change restorable' : 'NOT every change restorable'}${changes}.`;
}

function errorLine(error) {
  return h(
    'p',
    { class: 'alert error', role: 'alert' },
    error instanceof ApiError ? `${error.message} (${error.code})` : `Something went wrong: ${error}`,
  );
}

/**
 * The takeover bar in `container`. `call` is the page's API call (it handles a revoked token);
 * `refresh()` re-reads `/v1/status` (on start and on every freeze event), `hide()` on sign-out.
 */
export function takeoverBar(container, call) {
  let asking = false; // the freeze form is open: a refresh must not close it under the owner's hands
  let sending = false;

  function render(status, problem) {
    container.hidden = false;
    document.body.classList.toggle('is-frozen', status.frozen);
    if (status.frozen) return renderFrozen(status, problem);
    return renderNormal(status, problem);
  }

  /**
   * A form's submit handler that sends once at a time (a double click is one request), re-reads
   * the status after it, and shows a refusal in the bar instead of losing it.
   */
  function submitOnce(status, send, ready = () => true) {
    return async (event) => {
      event.preventDefault();
      if (sending || !ready()) return;
      sending = true;
      try {
        await send();
        await refresh();
      } catch (error) {
        render(status, error);
      } finally {
        sending = false;
      }
    };
  }

  function renderFrozen(status, problem) {
    const totp = h('input', {
      id: 'unfreeze-totp',
      name: 'totp',
      type: 'text',
      autocomplete: 'one-time-code',
      inputmode: 'numeric',
      maxlength: '14',
      placeholder: '123456',
    });
    const reason = h('input', { id: 'unfreeze-reason', name: 'unfreeze-reason', type: 'text', maxlength: '1000' });
    const form = h(
      'form',
      {
        class: 'unfreeze-form',
        autocomplete: 'off',
        onsubmit: submitOnce(status, async () => {
          const body = {};
          if (totp.value.trim()) body.totp = totp.value.trim();
          if (reason.value.trim()) body.reason = reason.value.trim();
          await call('POST', 'v1/unfreeze', body);
        }),
      },
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'unfreeze-totp' }, 'Authenticator code'),
        totp,
        h('span', { class: 'hint small' }, 'Needed whenever an owner has an authenticator enrolled.'),
      ),
      h('div', { class: 'field' }, h('label', { for: 'unfreeze-reason' }, 'Why it is safe again (optional)'), reason),
      h('button', { type: 'submit', class: 'unfreeze-button' }, 'Unfreeze'),
    );
    fill(
      container,
      h(
        'div',
        { class: 'frozen-banner', role: 'alert', id: 'frozen-banner' },
        h('strong', { class: 'frozen-title' }, 'Agents are FROZEN'),
        h(
          'p',
          {},
          `No agent can propose, apply or run anything. Since ${formatTime(status.since)}${status.by ? ` · by ${actorText(status.by)}` : ''}.`,
        ),
        status.reason ? h('p', { class: 'frozen-reason multiline' }, visibleLines(status.reason)) : null,
        h('p', { class: 'small' }, 'You can still review, deny, roll back and restore. ', drillText(status.lastDrill)),
        problem ? errorLine(problem) : null,
        form,
      ),
    );
  }

  function renderNormal(status, problem) {
    if (asking) return renderAsk(status, problem);
    fill(
      container,
      h(
        'div',
        { class: 'takeover-bar' },
        h('span', { class: 'muted small' }, drillText(status.lastDrill)),
        h('span', { class: 'spacer' }),
        h(
          'button',
          {
            type: 'button',
            id: 'freeze-open',
            class: 'freeze-button',
            onclick: () => {
              asking = true;
              render(status);
              document.getElementById('freeze-reason')?.focus();
            },
          },
          'Freeze agents',
        ),
      ),
      problem ? errorLine(problem) : null,
    );
  }

  function renderAsk(status, problem) {
    const reason = h('input', {
      id: 'freeze-reason',
      name: 'freeze-reason',
      type: 'text',
      required: true,
      maxlength: '1000',
      placeholder: 'What happened?',
    });
    fill(
      container,
      h(
        'form',
        {
          class: 'takeover-bar freeze-form',
          autocomplete: 'off',
          onsubmit: submitOnce(
            status,
            async () => {
              await call('POST', 'v1/freeze', { reason: reason.value.trim() });
              asking = false;
            },
            () => reason.value.trim() !== '',
          ),
        },
        h(
          'div',
          { class: 'field grow' },
          h('label', { for: 'freeze-reason' }, 'Freeze every agent action — reason (audited, shown to every owner)'),
          reason,
        ),
        h('button', { type: 'submit', class: 'freeze-button', id: 'freeze-confirm' }, 'Freeze now'),
        h(
          'button',
          {
            type: 'button',
            class: 'quiet',
            onclick: () => {
              asking = false;
              render(status);
            },
          },
          'Cancel',
        ),
      ),
      problem ? errorLine(problem) : null,
    );
  }

  async function refresh() {
    try {
      render(await call('GET', 'v1/status'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      container.hidden = false;
      fill(container, errorLine(error));
    }
  }

  function hide() {
    asking = false;
    container.hidden = true;
    document.body.classList.remove('is-frozen');
    fill(container);
  }

  return { refresh, hide };
}
