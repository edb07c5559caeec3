import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SetupError } from '../core/errors.js';

export const INSTALLATION_KEY_FILE = 'installation.key';

/**
 * The per-installation secret behind every keyed hash (SPEC §1) and audit fingerprint (§5).
 * Made on first use (init, or the first start of an installation from before keyed hashes),
 * 0600, written whole to a temporary file and then hard-linked into place, which fails if the
 * key already exists: two processes starting at once agree on one key, and no reader ever sees
 * a half-written one.
 */
export function loadInstallationKey(dataDir: string): Buffer {
  const file = join(dataDir, INSTALLATION_KEY_FILE);
  try {
    return decode(readFileSync(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new SetupError(`Cannot create the installation key ${file}: ${(error as Error).message}`);
    }
  } finally {
    rmSync(temporary, { force: true });
  }
  return decode(readFileSync(file, 'utf8'), file);
}

function decode(text: string, file: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new SetupError(`${file} is not a countersign installation key (64 hex digits).`);
  return Buffer.from(hex, 'hex');
}
