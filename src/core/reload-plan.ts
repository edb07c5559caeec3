import { z } from 'zod';
import type { Path } from './path.js';

/**
 * What a running OpenClaw gateway does when a path in its config changes (its "reload plan"):
 * `hot` applies it in place (possibly restarting one subsystem), `none` only updates the config
 * snapshot, `restart` restarts the gateway process, which briefly disconnects every chat.
 * A policy carries OpenClaw's table as data (`reload`), so `restartRequired` on a card says
 * what the gateway will really do rather than what a tier rule guessed. Matching follows
 * OpenClaw's own: the longest prefix wins (by segments, then fewer `*`), a path no prefix
 * names takes the default, and `*` matches any one segment.
 */
export const ReloadKindSchema = z.enum(['hot', 'none', 'restart']);
export type ReloadKind = z.infer<typeof ReloadKindSchema>;

const PrefixSchema = z
  .string()
  .regex(/^(?:[^.*\s]+|\*)(?:\.(?:[^.*\s]+|\*))*$/, 'a reload prefix is dotted keys, "*" standing for any one key');

export const ReloadTableSchema = z
  .object({
    default: ReloadKindSchema.default('restart'),
    hot: z.array(PrefixSchema).default([]),
    none: z.array(PrefixSchema).default([]),
    restart: z.array(PrefixSchema).default([]),
  })
  .strict()
  .superRefine((table, context) => {
    const seen = new Map<string, ReloadKind>();
    for (const kind of ['hot', 'none', 'restart'] as const) {
      table[kind].forEach((prefix, index) => {
        const earlier = seen.get(prefix);
        if (earlier)
          context.addIssue({ code: 'custom', path: [kind, index], message: `"${prefix}" is also ${earlier}` });
        seen.set(prefix, kind);
      });
    }
  });
export type ReloadTable = z.infer<typeof ReloadTableSchema>;

type ReloadRule = { segments: string[]; wildcards: number; kind: ReloadKind };
export type CompiledReload = { default: ReloadKind; rules: ReloadRule[] };

export function compileReload(table: ReloadTable): CompiledReload {
  const rules = (['hot', 'none', 'restart'] as const).flatMap((kind) =>
    table[kind].map((prefix) => {
      const segments = prefix.split('.');
      return { segments, wildcards: segments.filter((segment) => segment === '*').length, kind };
    }),
  );
  rules.sort((a, b) => b.segments.length - a.segments.length || a.wildcards - b.wildcards);
  return { default: table.default, rules };
}

/**
 * The path OpenClaw's watcher reports for a change at `path`: dotted keys, ending at the first
 * list (OpenClaw compares lists whole, so a change inside one is a change of the list).
 */
export function watchedPath(path: Path): string[] {
  const keys: string[] = [];
  for (const segment of path) {
    // OpenClaw joins keys with "." and splits them again, so a key with a dot is several to it.
    if (segment.key !== '') keys.push(...segment.key.split('.'));
    if (segment.id !== undefined || segment.index !== undefined) break;
  }
  return keys;
}

export function reloadKind(reload: CompiledReload, path: Path): ReloadKind {
  const watched = watchedPath(path);
  const rule = reload.rules.find(
    (candidate) =>
      candidate.segments.length <= watched.length &&
      candidate.segments.every((segment, index) => segment === '*' || segment === watched[index]),
  );
  return rule?.kind ?? reload.default;
}
