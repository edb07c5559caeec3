import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { RoleSchema } from '../core/card.js';
import { SurfaceSchema } from '../core/policy.js';
import type { Db } from './database.js';
import { statement } from './statements.js';

export const CredentialSchema = z.object({
  id: z.string(),
  role: RoleSchema,
  name: z.string(),
  surface: SurfaceSchema.nullable(),
  agentId: z.string().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type Credential = z.infer<typeof CredentialSchema>;

export const NewCredentialSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('owner'), name: z.string().min(1).max(100), surface: SurfaceSchema }),
  z.object({ role: z.literal('agent'), name: z.string().min(1).max(100), agentId: z.string().min(1).max(200) }),
]);
export type NewCredential = z.infer<typeof NewCredentialSchema>;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

type Row = {
  id: string;
  role: string;
  name: string;
  surface: string | null;
  agent_id: string | null;
  created_at: string;
  revoked_at: string | null;
};

function fromRow(row: Row): Credential {
  return CredentialSchema.parse({
    id: row.id,
    role: row.role,
    name: row.name,
    surface: row.surface,
    agentId: row.agent_id,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  });
}

/** Bearer tokens, stored only as SHA-256 hashes; the prefix tells secret scanners what leaked. */
export class TokenStore {
  constructor(private readonly db: Db) {}

  create(input: NewCredential, now: Date): { token: string; credential: Credential } {
    const token = `cs_${input.role}_${randomBytes(32).toString('base64url')}`;
    const credential: Credential = {
      id: randomUUID(),
      role: input.role,
      name: input.name,
      surface: input.role === 'owner' ? input.surface : null,
      agentId: input.role === 'agent' ? input.agentId : null,
      createdAt: now.toISOString(),
      revokedAt: null,
    };
    this.db
      .prepare(
        `INSERT INTO tokens (id, token_hash, role, name, surface, agent_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        credential.id,
        hashToken(token),
        credential.role,
        credential.name,
        credential.surface,
        credential.agentId,
        credential.createdAt,
      );
    return { token, credential };
  }

  /** The live credential for a presented token, or null for unknown and revoked ones alike. */
  authenticate(token: string): Credential | null {
    const row = statement(this.db, 'SELECT * FROM tokens WHERE token_hash = ? AND revoked_at IS NULL').get(
      hashToken(token),
    ) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  list(): Credential[] {
    return (this.db.prepare('SELECT * FROM tokens ORDER BY created_at, id').all() as Row[]).map(fromRow);
  }

  /** Revokes the live token with this id, or every live token with this name. */
  revoke(idOrName: string, now: Date): Credential[] {
    const rows = this.db
      .prepare('SELECT * FROM tokens WHERE (id = ? OR name = ?) AND revoked_at IS NULL')
      .all(idOrName, idOrName) as Row[];
    const stamp = now.toISOString();
    const update = this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?');
    for (const row of rows) update.run(stamp, row.id);
    return rows.map((row) => fromRow({ ...row, revoked_at: stamp }));
  }
}
