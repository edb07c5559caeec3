import { closeSync, fstatSync, fsync, fsyncSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { CountersignError } from '../core/errors.js';
import type { Db } from './database.js';

type Waiter = { needed: number; resolve: () => void; reject: (error: Error) => void };

/**
 * Group commit for one SQLite connection in WAL mode.
 *
 * Off (the default, every CLI command): the connection runs `synchronous = FULL`, so SQLite
 * fsyncs the WAL inside every commit, and every method here is a no-op.
 *
 * On (the HTTP server): the connection runs `synchronous = NORMAL`, so a commit only write()s
 * its frames to the `-wal` file. A committed WAL frame is durable once the `-wal` file is
 * fsynced; that is all `synchronous = FULL` does at commit (sqlite3WalFrames syncs the WAL and
 * nothing else; the directory once, after the file is created). So callers that must not
 * answer before their commit is on disk ask `whenDurable()`, and one fsync of the `-wal` file,
 * scheduled once per event-loop turn, answers every caller whose commit came before it.
 * `PRAGMA wal_checkpoint` is no substitute: it syncs the WAL only when it has frames it may
 * copy into the database, so a reader elsewhere holding an old snapshot makes it sync nothing.
 *
 * What has been committed is counted with SQLite's `total_changes()` (rows written by this
 * connection, any statement, any table), so no write path has to remember to register itself.
 * An fsync that fails poisons the connection: on Linux the failed pages may already be marked
 * clean, so a later fsync that succeeds proves nothing. Every later barrier fails (503) until
 * a restart, when SQLite's recovery and `reconcileIntents` decide from what is really on disk.
 */
export class Durability {
  private enabled = false;
  private walFd: number | null = null;
  private readonly walPath: string;
  private readonly changes: () => number;
  /** `total_changes()` as of the start of the last fsync that succeeded. */
  private durable = 0;
  /** The same for the fsync in flight, if any. */
  private inFlight: number | null = null;
  private waiting: Waiter[] = [];
  private scheduled = false;
  private failure: Error | null = null;
  /** Syncs done (each covers a batch): for tests and benchmarks. */
  syncs = 0;

  constructor(
    private readonly db: Db,
    file: string,
  ) {
    this.walPath = `${file}-wal`;
    const totalChanges = db.prepare('SELECT total_changes()').pluck();
    this.changes = () => totalChanges.get() as number;
  }

  get groupCommit(): boolean {
    return this.enabled;
  }

  /** Commits stop fsyncing; from now on whoever acknowledges a write must wait for `whenDurable`. */
  enableGroupCommit(): void {
    if (this.enabled || this.db.readonly) return;
    this.openWal();
    this.durable = this.changes();
    this.db.pragma('synchronous = NORMAL');
    this.enabled = true;
  }

  /** True when this connection committed something that is not yet known to be on disk. */
  unsynced(): boolean {
    if (!this.enabled || !this.db.open) return false;
    return this.failure !== null || this.changes() > this.durable;
  }

  /**
   * Resolves once everything this connection committed before the call is on disk; rejects
   * with `audit_unavailable` when it cannot be made so. Costs nothing when nothing is pending.
   */
  whenDurable(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    // Never throws: event listeners call this inside the decision that emitted the event.
    if (this.failure || !this.db.open) return Promise.reject(this.unavailable());
    const needed = this.changes();
    if (needed <= this.durable) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ needed, resolve, reject });
      // An fsync already running may have started after this commit; it answers it if so.
      if (this.inFlight === null || needed > this.inFlight) this.schedule();
    });
  }

  /**
   * Makes everything committed so far durable before returning: for writes that must be on
   * disk before something outside the database happens (the apply intent before the document).
   */
  syncNow(): void {
    if (!this.enabled) return;
    if (this.failure) throw this.unavailable();
    const covering = this.changes();
    if (covering <= this.durable) return;
    try {
      fsyncSync(this.currentWal());
    } catch (error) {
      this.fail(error as Error);
      throw this.unavailable();
    }
    this.synced(covering);
  }

  /** Syncs what is pending and stops: called before the connection closes. */
  close(): void {
    try {
      if (this.enabled && !this.failure && this.db.open) this.syncNow();
    } finally {
      if (this.walFd !== null) closeSync(this.walFd);
      this.walFd = null;
      this.enabled = false;
      for (const waiter of this.waiting.splice(0)) waiter.reject(this.unavailable());
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Once per event-loop turn: every request whose commit came in this turn shares the fsync.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight !== null || this.waiting.length === 0 || !this.enabled) return;
    if (this.failure) {
      this.settle(Number.POSITIVE_INFINITY);
      return;
    }
    // Everything committed before fsync() is called is covered by it; later commits wait for the next.
    const covering = this.changes();
    if (covering <= this.durable) {
      // A synchronous barrier (syncNow) got there first.
      this.settle(this.durable);
      return;
    }
    let fd: number;
    try {
      fd = this.currentWal();
    } catch (error) {
      this.fail(error as Error);
      this.settle(Number.POSITIVE_INFINITY);
      return;
    }
    this.inFlight = covering;
    // On the thread pool: the event loop keeps serving (and committing) while the disk works.
    fsync(fd, (error) => {
      this.inFlight = null;
      if (error) this.fail(error);
      else this.synced(covering);
      this.settle(this.durable);
      if (this.waiting.length > 0) this.schedule();
    });
  }

  private synced(covering: number): void {
    this.syncs++;
    if (covering > this.durable) this.durable = covering;
  }

  /** Answers every waiter the last sync covered (or all of them, with an error, once poisoned). */
  private settle(covering: number): void {
    const still: Waiter[] = [];
    for (const waiter of this.waiting) {
      if (this.failure) waiter.reject(this.unavailable());
      else if (waiter.needed <= covering) waiter.resolve();
      else still.push(waiter);
    }
    this.waiting = still;
  }

  private fail(error: Error): void {
    this.failure ??= error;
  }

  private unavailable(): CountersignError {
    return new CountersignError(
      'audit_unavailable',
      'The audit log could not be made durable, so this change may not have been recorded.',
      { cause: this.failure?.message ?? 'closed' },
    );
  }

  /**
   * The open `-wal` file, reopened if it is no longer the file at that path (our connection
   * keeps it alive, so this is defensive). When the file is new to us its directory is fsynced
   * too, as SQLite does once for a WAL it created: otherwise the file's name could be lost.
   */
  private currentWal(): number {
    if (this.walFd !== null) {
      const open = fstatSync(this.walFd);
      const atPath = statSync(this.walPath, { throwIfNoEntry: false });
      if (atPath && atPath.ino === open.ino && atPath.dev === open.dev) return this.walFd;
      closeSync(this.walFd);
      this.walFd = null;
    }
    return this.openWal();
  }

  private openWal(): number {
    // A read makes SQLite open (creating if needed) the -wal file of a WAL-mode database.
    this.db.prepare('SELECT count(*) FROM sqlite_schema').get();
    const fd = openSync(this.walPath, 'r');
    const directory = openSync(dirname(this.walPath), 'r');
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
    this.walFd = fd;
    return fd;
  }
}
