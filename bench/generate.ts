import type { Client } from 'pg';

export interface Dataset {
  organizations: number;
  users: number;
  memberships: number;
  workspaces: number;
  auditEvents: number;
  /** The user the dashboard is measured for: OWNER of the first 20 organizations. */
  viewerId: string;
  /** The organization holding the audit events and the deep member list. */
  bigOrganizationId: string;
  workspaceIds: string[];
}

/**
 * Writes the benchmark's dataset straight into PostgreSQL with set-based SQL: by default
 * 1,000 organizations, 20,000 users, 50,000 memberships, ~5,000 workspaces, 3,000 custom roles
 * (a fifth of the members holding one) and 1,000,000 audit events (all in one organization, for
 * the deep-page measurement). `scale` multiplies it.
 * Audit hashes are placeholders: the benchmark reads the log, it does not verify it.
 */
export async function generateDataset(db: Client, scale: number): Promise<Dataset> {
  const organizations = Math.max(30, Math.round(1000 * scale));
  const users = Math.max(200, Math.round(20_000 * scale));
  const perOrganization = 50;
  const auditEvents = Math.max(10_000, Math.round(1_000_000 * scale));
  const q = (text: string, params: unknown[] = []) => db.query(text, params);

  await q(`INSERT INTO users (id, email, email_verified, name)
           SELECT 'bench-user-' || g, 'bench-user-' || g || '@bench.test', true, 'Bench User ' || g FROM generate_series(1, $1) g`, [users]);
  await q(`INSERT INTO users (id, email, email_verified, name) VALUES ('bench-viewer', 'viewer@bench.test', true, 'Bench Viewer')`);
  await q(`INSERT INTO organizations (slug, kind, name)
           SELECT 'bench-org-' || g, 'TEAM', 'Bench Organization ' || g FROM generate_series(1, $1) g`, [organizations]);
  await q(`INSERT INTO subscriptions (organization_id, plan, seats)
           SELECT id, 'ENTERPRISE', 1000 FROM organizations WHERE slug LIKE 'bench-org-%'`);
  // 50 members an organization, spread over the users.
  await q(`INSERT INTO memberships (organization_id, user_id, role)
           SELECT o.id, 'bench-user-' || (((o.n - 1) * 20 + k) % $1 + 1), CASE WHEN k = 0 THEN 'OWNER' WHEN k < 5 THEN 'ADMIN' WHEN k < 20 THEN 'DEVELOPER' ELSE 'VIEWER' END
           FROM (SELECT id, substring(slug FROM 11)::int AS n FROM organizations WHERE slug LIKE 'bench-org-%') o, generate_series(0, $2 - 1) k`, [users, perOrganization]);
  await q(`INSERT INTO memberships (organization_id, user_id, role)
           SELECT id, 'bench-viewer', 'OWNER' FROM organizations WHERE slug LIKE 'bench-org-%' AND substring(slug FROM 11)::int <= 20`);
  // 5 workspaces an organization; the viewer's first 20 have 10.
  await q(`INSERT INTO workspaces (organization_id, slug, name)
           SELECT o.id, 'ws-' || w, 'Workspace ' || w
           FROM (SELECT id, substring(slug FROM 11)::int AS n FROM organizations WHERE slug LIKE 'bench-org-%') o,
                generate_series(1, CASE WHEN o.n <= 20 THEN 10 ELSE 5 END) w`);
  // Custom roles present, as in a real tenant: 3 an organization, one held by every fifth member
  // (the dashboard and the members page must not slow down for them).
  await q(`INSERT INTO roles (organization_id, key, name, permissions)
           SELECT o.id, r.key, r.name, r.permissions FROM organizations o,
             (VALUES ('sandbox-operators', 'Sandbox operators', ARRAY['sandboxes:create', 'sandboxes:read', 'snapshots:create']),
                     ('registry-admins', 'Registry admins', ARRAY['registries:admin', 'registries:read']),
                     ('inviters', 'Inviters', ARRAY['MEMBERS_INVITE'])) r(key, name, permissions)
           WHERE o.slug LIKE 'bench-org-%'`);
  await q(`UPDATE memberships m SET role_ids = ARRAY[r.id], role_permissions = r.permissions
           FROM roles r WHERE r.organization_id = m.organization_id AND r.key = 'sandbox-operators' AND m.role IN ('DEVELOPER', 'VIEWER') AND hashtext(m.user_id) % 5 = 0`);
  const [{ id: bigOrganizationId }] = (await q(`SELECT id FROM organizations WHERE slug = 'bench-org-1'`)).rows;
  await q(`INSERT INTO audit_events (id, organization_id, seq, occurred_at, action, actor_type, actor_id, actor_display, target_type, target_id, metadata, prev_hash, hash)
           SELECT uuid_generate_v7(), $1, g, now() - (($2 - g) || ' seconds')::interval, 'organization.updated', 'USER', 'bench-user-' || (g % 50 + 1),
                  'Bench User', 'Organization', $3, jsonb_build_object('changes', jsonb_build_object('name', jsonb_build_object('before', g - 1, 'after', g))),
                  md5((g - 1)::text), md5(g::text)
           FROM generate_series(1, $2) g`, [bigOrganizationId, auditEvents, bigOrganizationId]);
  await q(`INSERT INTO audit_chain_heads (organization_id, seq, head_hash) VALUES ($1, $2, md5($3))`, [bigOrganizationId, auditEvents, String(auditEvents)]);
  await q('ANALYZE');
  const counts = (await q(`SELECT (SELECT count(*) FROM memberships)::int AS m, (SELECT count(*) FROM workspaces)::int AS w`)).rows[0];
  const workspaceIds = (await q(`SELECT w.id FROM workspaces w JOIN organizations o ON o.id = w.organization_id WHERE o.slug = 'bench-org-1' OR o.slug LIKE 'bench-org-_' OR o.slug LIKE 'bench-org-1_' ORDER BY w.id LIMIT 100`)).rows.map((r) => r.id);
  return { organizations, users, memberships: counts.m, workspaces: counts.w, auditEvents, viewerId: 'bench-viewer', bigOrganizationId, workspaceIds };
}
