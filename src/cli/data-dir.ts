import { existsSync } from 'node:fs';
import { openService, type Service } from '../service/context.js';
import { isInitialised } from '../service/install.js';
import { CliError } from './io.js';

/*
 * The data directory of admin commands: `--data DIR` wins, else `COUNTERSIGN_DATA`. A directory
 * that was never initialised is named with the command that makes it, rather than surfacing as
 * an ENOENT on a settings file the user has never heard of.
 */

/** `--data`, else `$COUNTERSIGN_DATA` (empty counts as unset), else undefined. */
export function dataDirFrom(flag: string | undefined): string | undefined {
  if (flag) return flag;
  const env = process.env.COUNTERSIGN_DATA;
  return env ? env : undefined;
}

/**
 * The data directory to open: fails with `data_required` when neither `--data` nor
 * `COUNTERSIGN_DATA` names one, and with `not_initialised` when it has no settings file yet.
 */
export function requireDataDir(flag: string | undefined): string {
  const dir = dataDirFrom(flag);
  if (!dir) {
    throw new CliError('No data directory: pass --data DIR or set COUNTERSIGN_DATA.', 1, 'data_required');
  }
  return requireInitialised(dir);
}

/** `dir` itself once it holds an initialised installation; a `not_initialised` CliError otherwise. */
export function requireInitialised(dir: string): string {
  if (isInitialised(dir)) return dir;
  const missing = existsSync(dir) ? '' : ' (no such directory)';
  // Quoted only when a shell would need it, so the usual case reads as the command to type.
  const shown = /^[\w./~:@%+=,-]+$/.test(dir) ? dir : `'${dir.replaceAll("'", "'\\''")}'`;
  throw new CliError(
    `${dir} is not initialised${missing}: run countersign init --data ${shown}`,
    1,
    'not_initialised',
    {
      dataDir: dir,
    },
  );
}

/**
 * Runs `run` on the installation in `--data` (or $COUNTERSIGN_DATA), refusing one that was never
 * initialised, and closes it whatever happens: the shape of every command that works on the data
 * directory without a server.
 */
export function withService<T>(data: string | undefined, run: (service: Service) => T): T {
  const service = openService(requireDataDir(data));
  try {
    return run(service);
  } finally {
    service.close();
  }
}
