/** What `countersign init` writes when there is no document yet: a small OpenClaw config with fake secrets. */
export const demoOpenClawConfig = {
  meta: { lastTouchedVersion: '2026.9.6' },
  gateway: {
    port: 18789,
    mode: 'local',
    bind: 'loopback',
    auth: { mode: 'token', token: 'oc_demo_0000000000000000000000000000' },
    reload: { mode: 'hybrid' },
  },
  agents: {
    ownership: 'explicit',
    defaults: {
      model: { primary: 'anthropic/claude-sonnet-4-6' },
      thinkingDefault: 'low',
      reasoningDefault: 'off',
      sandbox: { mode: 'all' },
      subagents: { thinking: 'low' },
    },
    entries: { main: { model: 'anthropic/claude-sonnet-4-6' } },
  },
  tools: {
    exec: { host: 'auto', security: 'allowlist', ask: 'on-miss', strictInlineEval: true },
    fs: { workspaceOnly: true },
    elevated: { enabled: false },
  },
  commands: { mcp: false, restart: false },
  mcp: { servers: {} },
  channels: { telegram: { enabled: false, groups: {} } },
  messages: { visibleReplies: 'automatic', groupChat: { visibleReplies: 'message_tool' } },
  hooks: { enabled: false },
  plugins: { allow: [], entries: {} },
};
