// The exec gate: a before_tool_call hook that asks countersign (SPEC §9) before OpenClaw
// runs a command, and blocks unless countersign allowed exactly that plan and the grant
// was consumed. Every doubt blocks: the agent calling the tool is assumed hostile.
import { isAbsolute, resolve } from 'node:path';
import { CountersignError, call } from './client.js';

/**
 * OpenClaw's command tools (group:runtime = exec, process, code_execution; `bash` is an
 * alias of exec). code_execution runs Python on xAI's servers, not on a host, so it is
 * not an exec request and is left to OpenClaw's tool policy.
 */
export const GATED_TOOLS = ['exec', 'process'];

/**
 * `process` actions that type into a running session (a shell, a REPL): a command slipped
 * in that way would never be planned or shown to an owner, so they are blocked. The rest
 * (list, poll, log, kill, …) only observe or stop what already ran.
 */
const PROCESS_INPUT_ACTIONS = new Set(['write', 'send-keys', 'submit', 'paste']);

const EXEC_HOSTS = new Set(['gateway', 'node']);

const block = (reason) => ({ block: true, blockReason: `countersign: ${reason}` });

function reasonOf(request) {
  const why = request?.resolution?.reason ?? request?.reason;
  return typeof why === 'string' && why ? why : (request?.status ?? 'not allowed');
}

/**
 * @param {object} deps
 * @param {() => {url: string, token: string}} deps.endpoint
 * @param {number} deps.timeoutSeconds how long one call may wait for an owner
 * @param {(agentId: string) => string} deps.workspaceFor the agent's workspace (exec's default cwd)
 */
export function createExecGate({ endpoint, timeoutSeconds, workspaceFor }) {
  return async function beforeToolCall(event, ctx) {
    const tool = event.toolName === 'bash' ? 'exec' : event.toolName;
    const params = event.params ?? {};
    if (tool === 'process') {
      if (PROCESS_INPUT_ACTIONS.has(String(params.action))) {
        return block(`process "${params.action}" sends input to a running command, which countersign cannot review`);
      }
      return undefined;
    }
    if (tool !== 'exec') return undefined;

    // Code Mode's outer `exec` carries JavaScript, not a shell command.
    if (event.toolKind === 'code_mode_exec' || ctx?.toolKind === 'code_mode_exec') {
      return block('Code Mode exec cannot be reviewed as a command');
    }
    const command = params.command;
    if (typeof command !== 'string' || !command.trim()) return block('exec without a command text');
    const agentId = ctx?.agentId;
    const sessionKey = ctx?.sessionKey;
    if (typeof agentId !== 'string' || !agentId) return block('no agent id on this tool call');
    if (typeof sessionKey !== 'string' || !sessionKey) return block('no session key on this tool call');

    let workspace;
    try {
      workspace = workspaceFor(agentId);
    } catch {
      return block('cannot resolve the agent workspace');
    }
    const workdir = typeof params.workdir === 'string' && params.workdir ? params.workdir : null;
    const cwd = workdir ? (isAbsolute(workdir) ? workdir : resolve(workspace, workdir)) : workspace;
    const body = { command, cwd, sessionKey };
    if (params.env && typeof params.env === 'object' && !Array.isArray(params.env)) {
      body.env = Object.fromEntries(Object.entries(params.env).map(([name, value]) => [name, String(value)]));
    }
    if (params.elevated === true) body.elevated = true;
    if (typeof params.host === 'string' && EXEC_HOSTS.has(params.host)) body.host = params.host;

    const deadline = Date.now() + timeoutSeconds * 1000;
    const signal = ctx?.abortSignal;
    try {
      const created = await call(endpoint(), 'POST', 'v1/exec/requests', body, signal);
      let request = created.body.request;
      // The token names one agent; a call made on behalf of another must not borrow its grants.
      if (request?.agentId !== agentId) {
        return block(`the countersign token belongs to agent "${request?.agentId}", not "${agentId}"`);
      }
      while (request.status === 'pending') {
        const wait = Math.floor((deadline - Date.now()) / 1000);
        if (wait < 1)
          return block(`no owner decision within ${timeoutSeconds} s (request ${request.id} stays pending)`);
        request = (
          await call(
            endpoint(),
            'GET',
            `v1/exec/requests/${encodeURIComponent(request.id)}?wait=${wait}`,
            undefined,
            signal,
          )
        ).body.request;
      }
      if (request.status !== 'allowed') return block(`${request.status}: ${reasonOf(request)} (request ${request.id})`);
      const consumed = await call(
        endpoint(),
        'POST',
        `v1/exec/requests/${encodeURIComponent(request.id)}/consume`,
        { planHash: request.planHash, sessionKey },
        signal,
      );
      if (consumed.body?.run !== true) return block(`grant for request ${request.id} was not usable`);
      // Pin the parameters countersign evaluated: this handler runs last (lowest priority), so
      // a rewrite returned by another plugin cannot swap the command after the owner saw it.
      return { params };
    } catch (error) {
      if (error instanceof CountersignError) {
        const body = error.body ?? {};
        if (error.code === 'exec_denied') {
          return block(`denied: ${body.reason ?? body.error?.reason ?? error.message}`);
        }
        return block(`${error.code}: ${error.message}`);
      }
      return block(`cannot reach countersign (${error instanceof Error ? error.message : String(error)})`);
    }
  };
}
