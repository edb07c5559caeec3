/**
 * The vocabulary of command analysis shared by MCP review (SPEC §7) and exec approvals (SPEC §9).
 */

export type ArgWarningCode =
  | 'shell_interpreter'
  | 'inline_eval'
  | 'dangerous_flag'
  | 'unpinned_package'
  | 'literal_secret_arg'
  | 'env_override'
  | 'literal_secret_env';

export type ArgWarning = { code: ArgWarningCode; message: string };

export type PackageRunner = 'npx' | 'npm exec' | 'pnpm dlx' | 'yarn dlx' | 'bunx' | 'uvx' | 'pipx run';

export type ArgProvenance = {
  ecosystem: 'npm' | 'pypi';
  via: PackageRunner;
  package: string;
  version: string | null;
  pinned: boolean;
};

export type CommandAnalysis = {
  warnings: ArgWarning[];
  provenance: ArgProvenance | null;
  /** A file an interpreter will run (`node server.js`): what really decides the server's behaviour. */
  script: string | null;
};
