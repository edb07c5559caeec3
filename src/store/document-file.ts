import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../core/errors.js';

function refuseSymlink(path: string): number | null {
  try {
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) {
      fail('internal', `${path} is a symbolic link; countersign only writes regular files it owns.`);
    }
    return stats.mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Reads the managed document; a symlink is refused so nothing can redirect the write elsewhere. */
export function readDocumentText(path: string): string {
  refuseSymlink(path);
  return readFileSync(path, 'utf8');
}

function temporaryPrefix(path: string): string {
  return `.${basename(path)}.`;
}

/** Temporary files a crash left behind before their rename; they never hold the live document. */
export function removeStaleTemporaries(path: string): string[] {
  const prefix = temporaryPrefix(path);
  const stale = readdirSync(dirname(path)).filter((name) => name.startsWith(prefix) && name.endsWith('.tmp'));
  for (const name of stale) rmSync(join(dirname(path), name), { force: true });
  return stale;
}

/**
 * Write-temp, fsync, rename, fsync-directory: after a crash at any instant the path holds
 * either the old or the new document, never a torn one. The file's mode is kept (0600 when new).
 */
export function writeDocumentAtomic(path: string, text: string): void {
  const mode = refuseSymlink(path) ?? 0o600;
  const directory = dirname(path);
  const temporary = join(directory, `${temporaryPrefix(path)}${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temporary, 'wx', mode);
  fchmodSync(fd, mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  const directoryFd = openSync(directory, 'r');
  try {
    fsyncSync(directoryFd);
  } finally {
    closeSync(directoryFd);
  }
}
