import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { FileFacts, ProbeFacts, ProbeRequest } from '../core/mcp-review.js';

/**
 * The imperative half of the MCP review: looks at the files a server entry names, on this
 * machine, with the service's environment. It reports facts only; src/core/mcp-review.ts
 * decides what they mean.
 */

/** Files above this are not hashed: an agent could otherwise make every proposal read a huge sparse file. */
export const HASH_LIMIT_BYTES = 1024 * 1024 * 1024;

const missing = (path: string | null, flags: Partial<FileFacts> = {}): FileFacts => ({
  path,
  resolvedPath: null,
  viaPath: false,
  absolute: false,
  exists: false,
  regularFile: false,
  executable: false,
  sha256: null,
  tooLarge: false,
  worldWritable: [],
  packageJson: null,
  ...flags,
});

/**
 * Opened without blocking and checked after opening, so a file swapped for a FIFO between the
 * look and the read cannot hang the service.
 */
export function hashFile(path: string): { sha256: string | null; tooLarge: boolean } {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { sha256: null, tooLarge: false };
    if (stats.size > HASH_LIMIT_BYTES) return { sha256: null, tooLarge: true };
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1 << 20);
    let read = readSync(fd, buffer, 0, buffer.length, null);
    while (read > 0) {
      hash.update(buffer.subarray(0, read));
      read = readSync(fd, buffer, 0, buffer.length, null);
    }
    return { sha256: hash.digest('hex'), tooLarge: false };
  } catch {
    return { sha256: null, tooLarge: false };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isExecutableFile(path: string): boolean {
  try {
    const stats = statSync(path);
    return stats.isFile() && (process.platform === 'win32' || (stats.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A sticky world-writable directory (like /tmp) lets others add files but not replace ours, so
 * only the non-sticky kind lets someone swap the program.
 */
function worldWritable(paths: readonly string[]): string[] {
  const found: string[] = [];
  for (const path of new Set(paths)) {
    try {
      const stats = statSync(path);
      const sticky = stats.isDirectory() && (stats.mode & 0o1000) !== 0;
      if ((stats.mode & 0o002) !== 0 && !sticky) found.push(path);
    } catch {
      // Gone between looks: the missing file is reported on its own.
    }
  }
  return found;
}

/** The nearest package.json with a name, up to the enclosing node_modules directory. */
function nearestPackageJson(file: string): FileFacts['packageJson'] {
  if (!file.includes(`${sep}node_modules${sep}`)) return null;
  let dir = dirname(file);
  while (basename(dir) !== 'node_modules' && dirname(dir) !== dir) {
    const candidate = join(dir, 'package.json');
    try {
      if (statSync(candidate).size <= 1024 * 1024) {
        const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
        if (typeof manifest.name === 'string') {
          return {
            path: candidate,
            name: manifest.name,
            version: typeof manifest.version === 'string' ? manifest.version : null,
          };
        }
      }
    } catch {
      // No package.json here, or an unreadable one: keep climbing.
    }
    dir = dirname(dir);
  }
  return null;
}

/** Facts about one file as it would be started: symlinks followed, permissions, bytes. */
export function fileFacts(path: string, flags: { viaPath: boolean; absolute: boolean }): FileFacts {
  let resolvedPath: string;
  try {
    lstatSync(path);
    resolvedPath = realpathSync(path);
  } catch {
    return missing(path, flags);
  }
  const stats = statSync(resolvedPath);
  const regularFile = stats.isFile();
  const { sha256, tooLarge } = regularFile ? hashFile(resolvedPath) : { sha256: null, tooLarge: false };
  return {
    path,
    resolvedPath,
    ...flags,
    exists: true,
    regularFile,
    executable: regularFile && isExecutableFile(resolvedPath),
    sha256,
    tooLarge,
    worldWritable: worldWritable([resolvedPath, dirname(resolvedPath), dirname(path)]),
    packageJson: nearestPackageJson(resolvedPath),
  };
}

/**
 * What `execvp` would start for `command`: an absolute path as is, a relative path against
 * `cwd`, a bare name from the first PATH directory holding an executable file by that name
 * (or the first holding any file by it, so the card can say it is not executable).
 */
export function locate(
  command: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { path: string | null; viaPath: boolean; absolute: boolean } {
  if (isAbsolute(command)) return { path: command, viaPath: false, absolute: true };
  if (command.includes('/') || (process.platform === 'win32' && command.includes('\\'))) {
    return { path: resolve(cwd, command), viaPath: false, absolute: false };
  }
  const extensions =
    process.platform === 'win32' ? ['', ...(env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : [''];
  const candidates = (env.PATH ?? '')
    .split(delimiter)
    .flatMap((dir) => extensions.map((extension) => resolve(cwd, dir === '' ? '.' : dir, command + extension)));
  const found = candidates.find(isExecutableFile) ?? candidates.find(exists) ?? null;
  return { path: found, viaPath: found !== null, absolute: false };
}

/** Everything the review needs to know about a stdio server's files, with the service's environment. */
export function probeServer(
  request: ProbeRequest,
  env: NodeJS.ProcessEnv = process.env,
  baseDir: string = process.cwd(),
): ProbeFacts {
  const cwd = request.cwd === null ? baseDir : resolve(baseDir, request.cwd);
  const located = locate(request.command, env, cwd);
  const executable =
    located.path === null
      ? missing(null, { viaPath: false, absolute: false })
      : fileFacts(located.path, { viaPath: located.viaPath, absolute: located.absolute });
  const script =
    request.script === null
      ? null
      : fileFacts(resolve(cwd, request.script), { viaPath: false, absolute: isAbsolute(request.script) });
  let cwdExists: boolean | null = null;
  if (request.cwd !== null) {
    try {
      cwdExists = statSync(cwd).isDirectory();
    } catch {
      cwdExists = false;
    }
  }
  return { executable, script, cwdExists };
}
