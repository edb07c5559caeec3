// The card's `newKeys` (issue 15): a misspelt key is named, with the key it was probably meant to
// be — but never a key the proposer cannot see, or the suggestion would answer guesses about
// the insides of a redacted setting.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { installation, tempDir } from '../support/harness.js';

/** `{}` accepts any document: the typo reaches the card, as it does without a schema. */
function permissiveSchema(): string {
  const file = join(tempDir(), 'any.schema.json');
  writeFileSync(file, '{}');
  return file;
}

const document = {
  commands: { mcp: false },
  channels: {
    google: {
      enabled: true,
      // An object at a redacted path (`**.serviceAccount`): an agent reads it as "[redacted]".
      serviceAccount: { client_email: 'bot@example.iam', private_key: '-----BEGIN PRIVATE KEY-----x' },
    },
  },
};

it('a hostile agent cannot learn a hidden key name from the suggestion; visible neighbours are suggested', async () => {
  const h = await installation({ document, schema: permissiveSchema() });
  const read = await h.request('GET', '/v1/config', h.agentToken);
  expect(read.json().config.channels.google.serviceAccount).toBe('[redacted]');

  // A near guess of a key inside the redacted object. The secret is one opaque value to the
  // plan (the guess reads as replacing it), and newKeysOf makes no suggestion under a redacted
  // place besides (test/core/new-keys.test.ts): nothing names what is inside.
  const guess = await h.request('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch: { channels: { google: { serviceAccount: { private_kez: 'guess' } } } },
  });
  expect(guess.statusCode, guess.body).toBe(202);
  const guessed = guess.json().proposal;
  expect(JSON.stringify(guessed)).not.toContain('private_key');
  // The owner's view says no more about it either.
  const owned = (await h.request('GET', `/v1/proposals/${guessed.id}`, h.ownerToken)).json();
  expect(JSON.stringify(owned.newKeys ?? [])).not.toContain('private_key');
  for (const key of owned.newKeys ?? []) expect(key.similarTo).toBeUndefined();

  // A misspelt visible key is named, and so is the key it was meant to be.
  const typo = await h.request('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch: { channels: { google: { serviceAcount: { a: 1 } } } },
  });
  expect(typo.statusCode, typo.body).toBe(202);
  expect(typo.json().proposal.newKeys).toEqual([
    { path: 'channels.google.serviceAcount', similarTo: 'channels.google.serviceAccount' },
  ]);
});

it('the chat card and the terminal card name the new key; nothing is written until an owner approves', async () => {
  const h = await installation({ document, schema: permissiveSchema() });
  const before = h.documentText();
  const proposed = await h.request('POST', '/v1/proposals', h.agentToken, {
    baseHash: h.currentHash(),
    patch: { comands: { mcp: true } },
  });
  expect(proposed.statusCode).toBe(202);
  const id = proposed.json().proposal.id;
  const markdown = await h.request('GET', `/v1/proposals/${id}/card?format=markdown`, h.ownerToken);
  expect(markdown.body).toContain('⚠️ **New key** (check the spelling): `comands` (did you mean `commands`?)');
  const text = await h.request('GET', `/v1/proposals/${id}/card?format=text`, h.ownerToken);
  expect(text.body).toContain('  comands (did you mean commands?)');
  expect(text.body).toMatch(/\[protected\] add {5}comands\.mcp {3}NEW KEY comands/);
  expect(h.documentText()).toBe(before);
});
