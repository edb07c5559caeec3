// The two agent tools: thin adapters over countersign's HTTP API (SPEC §4, §10).
// They only ever propose and read; approving stays with an owner in countersign.
import { CountersignError, call } from './client.js';

const text = (value) => ({ type: 'text', text: value });

function failure(error) {
  if (error instanceof CountersignError) {
    return {
      content: [text(`countersign refused (${error.status} ${error.code}): ${error.message}`)],
      details: {
        ok: false,
        status: error.status,
        error: error.body?.error ?? { code: error.code, message: error.message },
      },
    };
  }
  return {
    content: [text(`countersign is unreachable: ${error instanceof Error ? error.message : String(error)}`)],
    details: { ok: false, error: { code: 'unreachable' } },
  };
}

function summary(outcome) {
  const proposal = outcome.proposal;
  switch (outcome.status) {
    case 'pending':
      return `Proposal ${proposal.id} is pending: an owner must approve it in countersign (tier ${proposal.tier}).`;
    case 'applied':
      return `Applied without approval (every change is allowlisted); new base hash ${outcome.hash}.`;
    case 'unchanged':
      return 'Nothing changes: the document already has these values.';
    case 'approved':
    case 'denied':
    case 'expired':
    case 'withdrawn':
      return `Proposal ${proposal?.id ?? ''} is ${outcome.status}.`;
    default:
      return `Proposal status: ${outcome.status ?? proposal?.status ?? 'unknown'}.`;
  }
}

export function proposeTool(endpoint) {
  return {
    name: 'countersign_config_propose',
    label: 'Propose a config change',
    description:
      'Propose a change to the protected OpenClaw config through countersign. Give exactly one of patch (JSON merge patch), operations (JSON Patch) or replace. An owner reviews the exact diff; allowlisted changes apply at once. Without baseHash the current hash is read first.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: {
        patch: { type: 'object', description: 'RFC 7396 merge patch' },
        operations: { type: 'array', items: { type: 'object' }, description: 'RFC 6902 operations' },
        replace: { type: 'object', description: 'the whole new document' },
        baseHash: { type: 'string', description: 'hash of the document the change is based on' },
        reason: { type: 'string', description: 'why, shown to the owner' },
        target: { type: 'string', description: 'document name (default: the first target)' },
      },
      required: ['reason'],
    },
    async execute(_toolCallId, params, signal) {
      try {
        const input = params ?? {};
        let baseHash = input.baseHash;
        let readBase = false;
        if (typeof baseHash !== 'string' || !baseHash) {
          const query = input.target ? `?target=${encodeURIComponent(input.target)}` : '';
          const current = await call(endpoint(), 'GET', `v1/config${query}`, undefined, signal);
          baseHash = current.body.hash;
          readBase = true;
        }
        const body = { baseHash, reason: input.reason };
        for (const key of ['patch', 'operations', 'replace', 'target']) {
          if (input[key] !== undefined) body[key] = input[key];
        }
        const outcome = (await call(endpoint(), 'POST', 'v1/proposals', body, signal)).body;
        const note = readBase ? ` (based on the current hash ${baseHash}, read just now)` : '';
        return { content: [text(`${summary(outcome)}${note}`)], details: { ok: true, baseHash, readBase, ...outcome } };
      } catch (error) {
        return failure(error);
      }
    },
  };
}

export function statusTool(endpoint) {
  return {
    name: 'countersign_proposal_status',
    label: 'Proposal status',
    description:
      'Read a countersign proposal you made. With wait (seconds, at most 120) it answers as soon as the owner decides.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      properties: {
        id: { type: 'string' },
        wait: { type: 'integer', minimum: 0, maximum: 120 },
      },
      required: ['id'],
    },
    async execute(_toolCallId, params, signal) {
      try {
        const wait = Number.isInteger(params?.wait) ? `?wait=${params.wait}` : '';
        const card = (
          await call(
            endpoint(),
            'GET',
            `v1/proposals/${encodeURIComponent(String(params?.id ?? ''))}${wait}`,
            undefined,
            signal,
          )
        ).body;
        return { content: [text(`Proposal ${card.id} is ${card.status}.`)], details: { ok: true, proposal: card } };
      } catch (error) {
        return failure(error);
      }
    },
  };
}
