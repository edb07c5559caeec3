import { type BigIntStats, lstatSync } from 'node:fs';

/** What identifies one version of a file without reading it (inode, size and both clocks, in ns). */
export type FileStamp = { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint };

function stampOf(stats: BigIntStats): FileStamp {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
}

/** The stamp of a regular file, or null (symlink, missing, unreadable): callers then take their uncached path. */
export function fileStamp(path: string): FileStamp | null {
  try {
    const stats = lstatSync(path, { bigint: true });
    return stats.isFile() ? stampOf(stats) : null;
  } catch {
    return null;
  }
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * Timestamps come from a coarse kernel clock (a few ms on Linux, 2 s on FAT, the server's clock
 * on NFS): a rewrite of the same size inside one tick leaves the stamp unchanged. As git does
 * with its "racily clean" index entries, a stamp younger than `settleMs` is not trusted alone.
 * ctime is what makes the rule hold: `utimes` can put mtime back, but it moves ctime to now.
 * The wall clock is compared (never a service's test clock): it is the file system's clock.
 */
export function settled(stamp: FileStamp, settleMs: number): boolean {
  const before = BigInt(Date.now() - settleMs) * 1_000_000n;
  return stamp.mtimeNs < before && stamp.ctimeNs < before;
}
