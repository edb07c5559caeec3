// countersign for OpenClaw: two agent tools and, with `execGate`, a before_tool_call gate on
// command tools. Plain ESM with no dependencies: the default export is the object
// definePluginEntry (openclaw/plugin-sdk/plugin-entry) would build, so nothing is imported
// from OpenClaw and the directory loads from a checkout as is. The plugin never writes
// openclaw.json: countersign is its single writer.
import { readSettings } from './client.js';
import { createExecGate, GATED_TOOLS } from './exec-gate.js';
import { proposeTool, statusTool } from './tools.js';

// Lowest priority: the gate runs after every other before_tool_call handler, so the
// parameters it returns (the ones countersign approved) are the last rewrite.
const GATE_PRIORITY = -1_000_000;

export default {
  id: 'countersign',
  name: 'countersign',
  description: 'Agents propose config changes and ask before running commands; an owner countersigns.',
  register(api) {
    const settings = readSettings(api.pluginConfig);
    const endpoint = () => {
      if (!settings.token)
        throw new Error('plugins.entries.countersign.config.token is not set (or its SecretRef did not resolve)');
      return { url: settings.url, token: settings.token };
    };
    api.registerTool(proposeTool(endpoint));
    api.registerTool(statusTool(endpoint));
    if (!settings.execGate) return;

    const workspaceFor = (agentId) => {
      const config = api.runtime?.config?.current?.() ?? api.config;
      return api.runtime.agent.resolveAgentWorkspaceDir(config, agentId);
    };
    api.on('before_tool_call', createExecGate({ endpoint, timeoutSeconds: settings.timeoutSeconds, workspaceFor }), {
      matcher: GATED_TOOLS,
      priority: GATE_PRIORITY,
      // The operator's plugins.entries.countersign.hooks.timeouts.before_tool_call (ms) wins if set;
      // this default leaves room for the long poll plus the consume call.
      timeoutMs: (settings.timeoutSeconds + 10) * 1000,
    });
    api.logger?.info?.(
      `countersign exec gate on (${GATED_TOOLS.join(', ')}), waiting up to ${settings.timeoutSeconds} s`,
    );
  },
};
