import type { ExecPlan } from '../core/exec/plan.js';
import type { ExecRequest, ExecResolution, ExecStatus } from '../core/exec/request.js';
import type { Db } from './database.js';
import { statement } from './statements.js';
import { type FilterColumns, listRows, transitionRow } from './status-table.js';

/** An exec request as stored: the request everyone reads, and the exact plan with real values. */
export type ExecRecord = { request: ExecRequest; plan: ExecPlan; tokenId: string; grantExpiresAt: string | null };

type Row = {
  id: string;
  status: ExecStatus;
  token_id: string;
  request: string;
  plan: string;
  resolution: string | null;
  grant_expires_at: string | null;
};

function fromRow(row: Row): ExecRecord {
  const request = JSON.parse(row.request) as ExecRequest;
  return {
    request: {
      ...request,
      status: row.status,
      resolution: row.resolution ? (JSON.parse(row.resolution) as ExecResolution) : null,
    },
    plan: JSON.parse(row.plan) as ExecPlan,
    tokenId: row.token_id,
    grantExpiresAt: row.grant_expires_at,
  };
}

export type ExecFilter = { status?: ExecStatus; agentId?: string; limit?: number };

const filterColumns: FilterColumns<ExecFilter> = { status: 'status', agentId: 'agent_id' };

export class ExecRequestStore {
  constructor(private readonly db: Db) {}

  insert(record: ExecRecord, now: Date): void {
    const { request } = record;
    const { status, resolution, ...rest } = request;
    statement(
      this.db,
      `INSERT INTO exec_requests (id, status, agent_id, session_key, token_id, plan_hash, request, plan, resolution,
           created_at, expires_at, grant_expires_at, updated_at)
         VALUES (@id, @status, @agentId, @sessionKey, @tokenId, @planHash, @request, @plan, @resolution,
           @createdAt, @expiresAt, @grantExpiresAt, @updatedAt)`,
    ).run({
      id: request.id,
      status,
      agentId: request.agentId,
      sessionKey: request.sessionKey,
      tokenId: record.tokenId,
      planHash: request.planHash,
      request: JSON.stringify(rest),
      plan: JSON.stringify(record.plan),
      resolution: resolution ? JSON.stringify(resolution) : null,
      createdAt: request.createdAt,
      expiresAt: request.expiresAt,
      grantExpiresAt: record.grantExpiresAt,
      updatedAt: now.toISOString(),
    });
  }

  get(id: string): ExecRecord | null {
    const row = statement(this.db, 'SELECT * FROM exec_requests WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  list(filter: ExecFilter = {}): ExecRecord[] {
    return listRows<Row, ExecFilter>(this.db, 'exec_requests', filterColumns, filter).map(fromRow);
  }

  /**
   * Moves a request from one of `from` to `to` in one conditional UPDATE: of two racing resolvers
   * or consumers exactly one sees `true`.
   */
  transition(
    id: string,
    from: readonly ExecStatus[],
    to: ExecStatus,
    resolution: ExecResolution | null,
    now: Date,
    grantExpiresAt: string | null = null,
  ): boolean {
    return transitionRow(this.db, 'exec_requests', id, from, to, resolution, now, grantExpiresAt);
  }

  /** Pending requests whose owner deadline has passed: `askFallback` decides them. */
  overdue(now: Date): string[] {
    return this.db
      .prepare(`SELECT id FROM exec_requests WHERE status = 'pending' AND expires_at <= ?`)
      .pluck()
      .all(now.toISOString()) as string[];
  }
}

export type ExecGrant = {
  id: string;
  agentId: string;
  pattern: string;
  argPattern: string;
  requestId: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
};

type GrantRow = {
  id: string;
  agent_id: string;
  pattern: string;
  arg_pattern: string;
  request_id: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
};

function grantFromRow(row: GrantRow): ExecGrant {
  return {
    id: row.id,
    agentId: row.agent_id,
    pattern: row.pattern,
    argPattern: row.arg_pattern,
    requestId: row.request_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

/** Standing `allow-for` grants (SPEC §9): time-bounded trust that expires on its own. */
export class ExecGrantStore {
  constructor(private readonly db: Db) {}

  insert(grant: ExecGrant): void {
    statement(
      this.db,
      `INSERT INTO exec_grants (id, agent_id, pattern, arg_pattern, request_id, created_by, created_at, expires_at, revoked_at)
         VALUES (@id, @agentId, @pattern, @argPattern, @requestId, @createdBy, @createdAt, @expiresAt, NULL)`,
    ).run(grant);
  }

  /** One grant, standing or not (revoked and expired ones stay on record). */
  get(id: string): ExecGrant | null {
    const row = statement(this.db, 'SELECT * FROM exec_grants WHERE id = ?').get(id) as GrantRow | undefined;
    return row ? grantFromRow(row) : null;
  }

  /** Grants still standing for an agent: not revoked, not expired. */
  active(agentId: string, now: Date): ExecGrant[] {
    return (
      statement(
        this.db,
        'SELECT * FROM exec_grants WHERE agent_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at',
      ).all(agentId, now.toISOString()) as GrantRow[]
    ).map(grantFromRow);
  }

  list(now: Date): ExecGrant[] {
    return (
      statement(
        this.db,
        'SELECT * FROM exec_grants WHERE revoked_at IS NULL AND expires_at > ? ORDER BY created_at',
      ).all(now.toISOString()) as GrantRow[]
    ).map(grantFromRow);
  }

  revoke(id: string, now: Date): boolean {
    return (
      statement(this.db, 'UPDATE exec_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(
        now.toISOString(),
        id,
      ).changes === 1
    );
  }
}
