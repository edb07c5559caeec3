import { REDACTED } from '../redact.js';
import { environmentWarnings } from './environment.js';
import { analyzeRunner, containerImage, packageRunner } from './packages.js';
import { dangerousFlags, isShell, maxWrapperDepth, programName, scanInterpreter, unwrap } from './programs.js';
import { redactArgs, redactUrlForDisplay } from './secrets.js';
import type { ArgProvenance, ArgWarning, CommandAnalysis } from './types.js';

/**
 * Walks the command line the way the OS would run it: through wrappers (`env`, `sudo`,
 * `uv run`, …) to the program that really starts, collecting what each layer adds.
 */
export function analyzeCommand(command: string, args: readonly string[]): CommandAnalysis {
  const warnings: ArgWarning[] = [];
  redactArgs(args).forEach((arg, index) => {
    if (arg === args[index]) return;
    warnings.push({
      code: 'literal_secret_arg',
      message: `Argument ${index + 1} carries a literal secret (shown as ${REDACTED}); anyone on this machine can read command lines in the process list, so pass it through env with a \${VAR} reference instead.`,
    });
  });
  const { provenance, script } = analyzeLayer(command, args, warnings, 0);
  return { warnings: dedupe(warnings), provenance, script };
}

function analyzeLayer(
  command: string,
  args: readonly string[],
  warnings: ArgWarning[],
  depth: number,
): { provenance: ArgProvenance | null; script: string | null } {
  const name = programName(command);
  const shown = (list: readonly string[]) => redactArgs(list).join(' ');
  const inner = depth < maxWrapperDepth ? innerCommand(name, args, warnings) : null;
  // A wrapper's own options are judged here; what follows the wrapped program is judged with it.
  const own = inner ? args.slice(0, inner.start) : args;

  if (isShell(name)) {
    warnings.push({
      code: 'shell_interpreter',
      message: `The command is the shell "${name}": what it runs is decided by its arguments or script, not by a program you can pin.`,
    });
  }
  const scan = scanInterpreter(name, args);
  if (scan.inline !== null) {
    warnings.push({
      code: 'inline_eval',
      message: `"${name} ${redactArgs([scan.inline])[0]}" runs code written inline in the arguments (${truncate(shown(args))}) rather than an installed program.`,
    });
  }
  if (scan.remote !== null) {
    warnings.push({
      code: 'unpinned_package',
      message: `"${name}" runs a script downloaded from ${redactUrlForDisplay(scan.remote)} every time it starts; its content can change after you approve.`,
    });
  }
  for (const reason of dangerousFlags(name, own)) {
    warnings.push({ code: 'dangerous_flag', message: `${reason} (in: ${truncate(`${name} ${shown(own)}`)}).` });
  }

  const runner = packageRunner(name, args);
  let provenance = runner ? analyzeRunner(runner, warnings) : null;
  const image = name === 'docker' || name === 'podman' ? containerImage(args) : null;
  if (image !== null && !image.includes('@sha256:')) {
    warnings.push({
      code: 'unpinned_package',
      message: `The container image "${image}" is not pinned by digest, so whoever can push to it decides what runs; use ${image.replace(/:[^/:]*$/, '')}@sha256:<digest>.`,
    });
  }
  let script = scan.script;
  if (inner) {
    const nested = analyzeLayer(inner.command, inner.args, warnings, depth + 1);
    provenance ??= nested.provenance;
    script ??= nested.script;
  }
  return { provenance, script };
}

/** The program a wrapper starts, with the warnings the wrapper itself earns (`env -S`, `env LD_PRELOAD=…`). */
function innerCommand(
  name: string,
  args: readonly string[],
  warnings: ArgWarning[],
): { command: string; args: string[]; start: number } | null {
  const layer = unwrap(name, args);
  if (layer === null) return null;
  if (layer.split !== null) {
    warnings.push({
      code: 'inline_eval',
      message: `"env ${layer.split}" splits a string into a new command line written inline in the arguments.`,
    });
    return null;
  }
  // A literal secret here is already reported as an argument; only the overrides are new.
  if (name === 'env') {
    warnings.push(...environmentWarnings(layer.assignments, 'The "env" wrapper in the arguments', { secrets: false }));
  }
  return layer.inner;
}

function truncate(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function dedupe(warnings: ArgWarning[]): ArgWarning[] {
  const seen = new Set<string>();
  return warnings.filter((warning) => {
    const key = `${warning.code}\n${warning.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
