import { isObject, type JsonObject } from './json.js';

/**
 * OpenClaw migrates the legacy `agents.list[]` form to keyed `agents.entries` before it
 * validates; validation here sees the document the same way, so both forms are accepted.
 */
export function asOpenClawValidates(document: JsonObject): JsonObject {
  const agents = document.agents;
  if (!isObject(agents) || !Array.isArray(agents.list) || agents.entries !== undefined) return document;
  const entries: JsonObject = {};
  for (const agent of agents.list) {
    if (!isObject(agent) || typeof agent.id !== 'string') return document;
    const { id, ...rest } = agent;
    entries[id] = rest;
  }
  const { list: _list, ...others } = agents;
  return { ...document, agents: { ...others, entries } };
}
