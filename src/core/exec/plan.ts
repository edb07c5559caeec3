import { z } from 'zod';
import { documentHash, type HashKey } from '../hash.js';

/**
 * The exact thing an owner approves and a runtime may run (SPEC §9): argv, the real working
 * directory, the environment entries the request gave, who asks, every executable's real path
 * and content hash, and the one file an interpreter or script runs, with its hash. A grant is
 * bound to the plan's keyed hash, so changing any of it — an argument, a symlink target, the
 * script's bytes — is a different plan.
 */
export const ExecutableSchema = z.object({
  /** Which segment and pipeline stage of the request runs it. */
  segment: z.number().int().min(0),
  stage: z.number().int().min(0),
  resolvedPath: z.string().nullable(),
  sha256: z.string().nullable(),
});
export type Executable = z.infer<typeof ExecutableSchema>;

export const FileOperandSchema = z.object({
  argvIndex: z.number().int().min(0),
  path: z.string(),
  sha256: z.string(),
});
export type FileOperand = z.infer<typeof FileOperandSchema>;

export const EnvEntrySchema = z.object({ name: z.string(), value: z.string() });

export const ExecPlanSchema = z.object({
  argv: z.array(z.string()).nullable(),
  commandText: z.string().nullable(),
  cwd: z.string(),
  env: z.array(EnvEntrySchema),
  agentId: z.string(),
  sessionKey: z.string(),
  host: z.string().nullable(),
  elevated: z.boolean(),
  executables: z.array(ExecutableSchema),
  fileOperand: FileOperandSchema.nullable(),
});
export type ExecPlan = z.infer<typeof ExecPlanSchema>;

/** Keyed like every other hash (SPEC §1), over the plan's canonical JSON; env entries sorted by name. */
export function planHash(key: HashKey, plan: ExecPlan): string {
  const env = [...plan.env].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return documentHash(key, { ...plan, env });
}
