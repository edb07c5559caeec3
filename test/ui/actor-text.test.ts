/**
 * How the web page names who did something (History, a card's "By"): the name, with the role
 * only when the name is not the role itself — "owner via cli", never "owner owner via cli".
 */
import { describe, expect, it } from 'vitest';
// The page's module touches `document` only when building nodes: its pure helpers run here too.
import { actorText } from '../../src/http/ui/dom.js';

const actor = (fields: Record<string, unknown>) => ({
  role: 'owner',
  name: 'owner',
  agentId: null,
  sessionKey: null,
  surface: null,
  ...fields,
});

describe('actorText (web page)', () => {
  it('does not repeat a name that is the role', () => {
    expect(actorText(actor({ surface: 'cli' }))).toBe('owner via cli');
    expect(actorText(actor({ role: 'agent', name: 'agent', agentId: 'agent' }))).toBe('agent');
  });

  it('names the person first and the role in brackets', () => {
    expect(actorText(actor({ name: 'alice', surface: 'web' }))).toBe('alice (owner) via web');
    expect(actorText(actor({ role: 'agent', name: 'main', agentId: 'main', sessionKey: 'chat-1' }))).toBe(
      'main (agent) · session chat-1',
    );
    expect(actorText(actor({ role: 'agent', name: 'bot', agentId: 'main' }))).toBe('bot (agent main)');
    expect(actorText(actor({ role: 'agent', name: 'agent', agentId: 'main' }))).toBe('agent main');
    expect(actorText(null)).toBe('the service');
  });
});
