import { z } from 'zod';
import { programName, unwrap } from '../command/programs.js';

/**
 * Risk flags of SPEC §9 as data: `policies/exec-risk.json` (shipped, editable by the owner)
 * says which programs run elevated and which command lines destroy data, each with a sentence
 * a non-expert understands. Flags raise the bar for approval (TOTP scope, dangerous-tier
 * surfaces); they never allow anything, so every doubt is resolved towards "risky":
 * - Flags are read the way getopt does: a short flag is found inside a cluster (`-rf` holds
 *   `-r`), a long flag also as `--flag=value` and as an abbreviation (`--rec`), and nothing
 *   after `--` is a flag.
 * - Wrappers are looked through with the shared `unwrap` (`sudo`, `env`, `nice`, `timeout`, …),
 *   and the arguments of "carriers" (shells, `su -c`, `xargs`, `find -exec`, `pkexec`, …) are
 *   split into words and every word that names a known program is read as a command.
 * - Program names are compared by a look-alike skeleton (NFKC, lower case, common Cyrillic and
 *   Greek homoglyphs), so `ѕudo` counts as `sudo`.
 * - A command line too large or too deep to read completely is reported destructive.
 * What cannot be seen from the argv (a script's content, code passed to `python -c`) is not
 * judged here: inline eval is its own flag, and a script is bound by hash to what was approved.
 */

const ShortFlag = /^-[A-Za-z0-9]$/;
const LongFlag = /^--[A-Za-z0-9][A-Za-z0-9-]*$/;

function validRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export const ArgConditionSchema = z.union([
  z
    .object({
      flag: z.string().refine((flag) => ShortFlag.test(flag) || LongFlag.test(flag), 'a flag is "-x" or "--name"'),
    })
    .strict(),
  z.object({ arg: z.string().min(1) }).strict(),
  z.object({ argPrefix: z.string().min(1) }).strict(),
  z.object({ argPattern: z.string().min(1).refine(validRegex, 'not a valid regular expression') }).strict(),
]);
export type ArgCondition = z.infer<typeof ArgConditionSchema>;

const ProgramSchema = z.string().regex(/^[^\s/\\]+$/, 'a program is a name (a "*" matches any characters), not a path');

export const DestructiveRuleSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'rule ids are letters, digits, ".", "_" or "-"'),
    program: z.union([ProgramSchema, z.array(ProgramSchema).min(1)]),
    args: z
      .object({
        /** One of these words is among the positional arguments (`git -C repo push` has `push`). */
        subcommand: z.array(z.string().min(1)).min(1).optional(),
        /** At least one argument meets one of these. */
        anyOf: z.array(ArgConditionSchema).min(1).optional(),
      })
      .strict()
      .optional(),
    explain: z.string().min(10),
  })
  .strict();
export type DestructiveRule = z.infer<typeof DestructiveRuleSchema>;

export const RiskRulesSchema = z
  .object({
    version: z.literal(1),
    elevated: z.object({ programs: z.array(ProgramSchema).min(1), explain: z.string().min(10) }).strict(),
    carriers: z.object({ programs: z.array(ProgramSchema), explain: z.string().optional() }).strict(),
    destructive: z.array(DestructiveRuleSchema),
  })
  .strict()
  .superRefine((rules, context) => {
    const seen = new Set<string>();
    rules.destructive.forEach((rule, index) => {
      if (seen.has(rule.id)) {
        context.addIssue({
          code: 'custom',
          path: ['destructive', index, 'id'],
          message: `duplicate rule id "${rule.id}"`,
        });
      }
      seen.add(rule.id);
    });
  });
export type RiskRulesInput = z.infer<typeof RiskRulesSchema>;

type NameTest = (name: string) => boolean;

type CompiledRule = { rule: DestructiveRule; test: (args: readonly string[]) => boolean };

export type RiskRules = {
  source: RiskRulesInput;
  elevated: NameTest;
  carrier: NameTest;
  /** Rules by exact program name, and those whose program is a glob. */
  byName: Map<string, CompiledRule[]>;
  globbed: { test: NameTest; rule: CompiledRule }[];
  /** Whether a word names any program we read: elevated, carrier, wrapper or a rule's. */
  interesting: NameTest;
};

export class RiskRulesError extends Error {
  override name = 'RiskRulesError';
}

// ---------------------------------------------------------------------------------------------
// Names

/** Common homoglyphs of ASCII letters (Cyrillic, Greek, Latin extensions) that NFKC leaves alone. */
const homoglyphs: Record<string, string> = {
  а: 'a',
  г: 'r',
  в: 'b',
  с: 'c',
  ԁ: 'd',
  е: 'e',
  ё: 'e',
  һ: 'h',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  ѕ: 's',
  т: 't',
  ц: 'u',
  ս: 'u',
  у: 'y',
  х: 'x',
  ԝ: 'w',
  ɡ: 'g',
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ω: 'w',
  ı: 'i',
  ȷ: 'j',
  ǀ: 'l',
  ℓ: 'l',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2212': '-',
};

/** The name a reader would take this for: `Ｓｕｄｏ`, `ѕudo` and `SUDO` all read `sudo`. */
export function skeleton(name: string): string {
  const folded = programName(name.normalize('NFKC')).toLowerCase();
  let out = '';
  for (const char of folded.replace(/[\u200b-\u200d\u2060\ufeff\u00ad]/g, '')) out += homoglyphs[char] ?? char;
  return out;
}

function nameTest(patterns: readonly string[]): NameTest {
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const pattern of patterns) {
    const name = pattern.toLowerCase();
    if (!name.includes('*')) exact.add(name);
    else
      globs.push(
        new RegExp(
          `^${name
            .split('*')
            .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
          's',
        ),
      );
  }
  return (name) => exact.has(name) || globs.some((glob) => glob.test(name));
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** Arguments before `--`: after it nothing is an option. */
function options(args: readonly string[]): readonly string[] {
  const end = args.indexOf('--');
  return end === -1 ? args : args.slice(0, end);
}

function flagPresent(flag: string, args: readonly string[]): boolean {
  if (ShortFlag.test(flag)) {
    const letter = flag[1] as string;
    return options(args).some(
      (arg) => /^-[A-Za-z0-9]/.test(arg) && !arg.startsWith('--') && arg.slice(1).includes(letter),
    );
  }
  return options(args).some((arg) => {
    if (!arg.startsWith('--') || arg === '--') return false;
    const name = arg.split('=')[0] as string;
    // getopt_long and git accept an unambiguous abbreviation: `--rec` is `--recursive`.
    return name === flag || (name.length > 2 && flag.startsWith(name));
  });
}

function conditionHolds(condition: ArgCondition, args: readonly string[], regex: RegExp | null): boolean {
  if ('flag' in condition) return flagPresent(condition.flag, args);
  if ('arg' in condition) return args.includes(condition.arg);
  if ('argPrefix' in condition) return args.some((arg) => arg.startsWith(condition.argPrefix));
  return regex !== null && args.some((arg) => regex.test(arg));
}

function compileRule(rule: DestructiveRule): CompiledRule {
  const conditions = (rule.args?.anyOf ?? []).map((condition) => ({
    condition,
    regex: 'argPattern' in condition ? new RegExp(condition.argPattern) : null,
  }));
  const subcommands = rule.args?.subcommand ? new Set(rule.args.subcommand) : null;
  return {
    rule,
    test: (args) => {
      if (subcommands && !args.some((arg) => !arg.startsWith('-') && subcommands.has(arg))) return false;
      if (conditions.length === 0) return true;
      return conditions.some(({ condition, regex }) => conditionHolds(condition, args, regex));
    },
  };
}

/** Validates and compiles `policies/exec-risk.json`; the error names the bad field. */
export function compileRiskRules(input: unknown): RiskRules {
  const parsed = RiskRulesSchema.safeParse(input);
  if (!parsed.success) throw new RiskRulesError(z.prettifyError(parsed.error));
  const source = parsed.data;
  const byName = new Map<string, CompiledRule[]>();
  const globbed: RiskRules['globbed'] = [];
  const programs: string[] = [];
  for (const rule of source.destructive) {
    const compiled = compileRule(rule);
    for (const program of typeof rule.program === 'string' ? [rule.program] : rule.program) {
      programs.push(program);
      const name = program.toLowerCase();
      if (name.includes('*')) globbed.push({ test: nameTest([name]), rule: compiled });
      else byName.set(name, [...(byName.get(name) ?? []), compiled]);
    }
  }
  const elevated = nameTest(source.elevated.programs);
  const carrier = nameTest(source.carriers.programs);
  const rulePrograms = nameTest(programs);
  return {
    source,
    elevated,
    carrier,
    byName,
    globbed,
    interesting: (name) => elevated(name) || carrier(name) || rulePrograms(name) || unwrap(name, []) !== null,
  };
}

// ---------------------------------------------------------------------------------------------
// Assessment

export type RiskAssessment = {
  elevated: boolean;
  destructive: { ruleId: string; explain: string }[];
};

/** Past these, a command line is not read further and counts as destructive. */
const MAX_DEPTH = 8;
const MAX_VISITS = 2000;
const MAX_WORKS = 200_000;

const TOO_COMPLEX = {
  ruleId: 'too-complex',
  explain: 'The command is too long or too deeply nested to check completely, so it is treated as destructive.',
};

/** Words of a carrier's arguments: shell text split at blanks and operators, quotes dropped. */
function words(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    for (const word of arg.split(/[\s;&|()`<>{}]+|\$\(/)) {
      const bare = word.replace(/["'\\]/g, '');
      if (bare !== '') out.push(bare);
    }
  }
  return out;
}

/**
 * `elevated` when any command the argv runs is an elevated program; `destructive` lists every
 * rule met by any of them (`sudo rm -rf /` is both). `resolvedPath` adds the real executable's
 * name, so a renamed or symlinked `rm` is still `rm`.
 */
export function assessRisk(
  rules: RiskRules,
  argv: readonly string[],
  options: { resolvedPath?: string | null } = {},
): RiskAssessment {
  let elevated = false;
  const destructive = new Map<string, { ruleId: string; explain: string }>();
  let visits = 0;
  let work = 0;
  let complete = true;

  const check = (names: readonly string[], args: readonly string[]) => {
    for (const name of names) {
      if (rules.elevated(name)) elevated = true;
      const candidates = [
        ...(rules.byName.get(name) ?? []),
        ...rules.globbed.filter((entry) => entry.test(name)).map((entry) => entry.rule),
      ];
      for (const { rule, test } of candidates) {
        if (destructive.has(rule.id)) continue;
        work += args.length;
        if (test(args)) destructive.set(rule.id, { ruleId: rule.id, explain: rule.explain });
      }
    }
  };

  const visit = (command: string, args: readonly string[], depth: number, extraName: string | null) => {
    if (!complete) return;
    visits += 1;
    if (depth > MAX_DEPTH || visits > MAX_VISITS || work > MAX_WORKS) {
      complete = false;
      return;
    }
    const name = skeleton(command);
    const names = extraName && extraName !== name ? [name, extraName] : [name];
    check(names, args);
    for (const candidate of names) {
      const unwrapped = unwrap(candidate, args);
      if (unwrapped?.inner) visit(unwrapped.inner.command, unwrapped.inner.args, depth + 1, null);
      if (unwrapped?.split) visitWords(args, depth);
      if (rules.carrier(candidate)) visitWords(args, depth);
    }
  };

  const visitWords = (args: readonly string[], depth: number) => {
    const list = words(args);
    work += list.length;
    list.forEach((word, index) => {
      if (rules.interesting(skeleton(word))) visit(word, list.slice(index + 1), depth + 1, null);
    });
  };

  const [command, ...args] = argv;
  if (command !== undefined) {
    const real = options.resolvedPath ? skeleton(options.resolvedPath) : null;
    visit(command, args, 0, real);
  }
  if (!complete) destructive.set(TOO_COMPLEX.ruleId, TOO_COMPLEX);
  return { elevated, destructive: [...destructive.values()] };
}
