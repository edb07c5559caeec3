import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Json, JsonObject } from '../../src/core/json.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const shippedConfigFile = `${repoRoot}test/fixtures/openclaw.json`;
export const shippedPolicyFile = `${repoRoot}policies/openclaw.json`;
export const openclawSchemaFile = '/work/shared/openclaw/openclaw.schema.json';

export function readJson<T = JsonObject>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** The shipped OpenClaw config (about 2 KB), as the service would find it on disk. */
export function shippedConfig(): JsonObject {
  return readJson(shippedConfigFile);
}

/** The on-disk form the service writes: two-space indented, trailing newline. */
export function documentText(document: Json): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function groupId(index: number): string {
  return `-100${String(1_000_000_000 + index)}`;
}

/** One Telegram group entry, about 250 bytes on disk: what a busy bot's config carries per group. */
function telegramGroup(index: number): JsonObject {
  return {
    requireMention: index % 3 !== 0,
    allowFrom: [`user-${index}`],
    skills: ['search'],
    systemPrompt: `You answer for group ${index}; keep it short.`,
  };
}

/** The shipped config with `groups` Telegram groups under channels.telegram.groups. */
export function configWithGroups(groups: number): JsonObject {
  const document = shippedConfig();
  const telegram = (document.channels as JsonObject).telegram as JsonObject;
  const entries: JsonObject = {};
  for (let index = 0; index < groups; index++) entries[groupId(index)] = telegramGroup(index);
  telegram.groups = entries;
  return document;
}

/** Groups needed for a document of about `bytes` bytes on disk (measured, not guessed). */
export function groupsForSize(bytes: number): number {
  const base = documentText(configWithGroups(0)).length;
  const per = (documentText(configWithGroups(100)).length - base) / 100;
  return Math.max(1, Math.round((bytes - base) / per));
}

/**
 * A merge patch that changes `paths` leaves: requireMention flipped on that many groups (added
 * as new groups beyond the document's own). Every changed path is allowlisted by the shipped
 * policy, so the classification is the same work per path.
 */
export function mentionPatch(document: JsonObject, paths: number): JsonObject {
  const groups = ((document.channels as JsonObject).telegram as JsonObject).groups as JsonObject;
  const patch: JsonObject = {};
  for (let index = 0; index < paths; index++) {
    const id = groupId(index);
    const current = groups[id] as JsonObject | undefined;
    patch[id] = { requireMention: current ? !current.requireMention : true };
  }
  return { channels: { telegram: { groups: patch } } };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}
