import { once } from 'node:events';
import type { Request, Response } from 'express';
import { Permission } from '../../authz/permissions';
import { isUuid } from '../../common/ids';
import { SqlParams } from '../../db/sql-params';
import type { RequestContext } from '../../context';
import { AppError, badInput } from '../../errors';
import { auditOrigin } from './audit-action';
import { auditConditions, auditFilter, type AuditFilter } from './audit.loaders';
import { AuditEventEntity } from './audit.entity';

const STORED = ['id', 'occurredAt', 'action', 'actorType', 'actorId', 'actorDisplay', 'targetType', 'targetId', 'targetDisplay', 'metadata', 'ip', 'userAgent', 'requestId', 'seq', 'hash'] as const;
// origin last: a reader that takes the CSV's columns by position keeps working.
const COLUMNS = [...STORED, 'origin'] as const;
const PAGE = 1000;

/** What a spreadsheet reads as the start of a formula (OWASP, CSV Injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell, RFC 4180: quoted when it holds a quote, comma or line break. A cell that would start
 * a formula is neutralised as OWASP advises: a single quote first, the whole cell quoted. NDJSON
 * carries no such prefix: it is read by programs, which get the values exactly as stored.
 */
function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA_START.test(text)) return `"'${text.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(record: Record<(typeof COLUMNS)[number], unknown>): string {
  return `${COLUMNS.map((c) => csvField(record[c])).join(',')}\r\n`;
}

function exportRecord(e: AuditEventEntity): Record<(typeof COLUMNS)[number], unknown> {
  return Object.assign(Object.fromEntries(STORED.map((c) => [c, e[c]])) as Record<(typeof STORED)[number], unknown>, { origin: auditOrigin(e.action) });
}

const param = (req: Request, name: string): string | undefined => {
  const value = req.query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

function parseDate(name: string, value: string | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badInput(name, `${name} is not a date-time`);
  return date;
}

/** Newest first, a page at a time: memory stays flat whatever the number of events. */
async function* pages(ctx: RequestContext, organizationId: string, filter: AuditFilter): AsyncGenerator<AuditEventEntity[]> {
  let before: string | null = null;
  for (;;) {
    const params = new SqlParams();
    // As the audit pages read (ChildList.throughParentIndex): through (organization_id, id), not backwards along the primary key.
    const conditions = [`t.organization_id = ANY(ARRAY[${params.add(organizationId)}::uuid])`, ...auditConditions(filter, params)];
    if (before) conditions.push(`t.id < ${params.add(before)}::uuid`);
    const rows = await ctx.db.select(
      AuditEventEntity,
      `SELECT t.* FROM audit_events t WHERE ${conditions.join(' AND ')} ORDER BY t.organization_id DESC, t.id DESC LIMIT ${PAGE}`,
      params.values,
    );
    if (rows.length) yield rows;
    if (rows.length < PAGE) return;
    before = rows[rows.length - 1].id;
  }
}

/**
 * GET /audit/export?organizationId=…&format=ndjson|csv, with the filters of auditEvents as
 * parameters (actions comma-separated). Same token and permission (AUDIT_READ) as the API.
 */
export async function exportAuditEvents(ctx: RequestContext, req: Request, res: Response): Promise<void> {
  // A failure is thrown to the server's one HTTP error mapping (src/http/failure.ts).
  ctx.requirePrincipal();
  const organizationId = param(req, 'organizationId');
  if (!organizationId) throw badInput('organizationId', 'organizationId is required');
  const format = param(req, 'format') ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') throw badInput('format', 'format must be ndjson or csv');
  const filter = auditFilter({
    actions: param(req, 'actions')?.split(',').map((a) => a.trim()).filter(Boolean) ?? null,
    actorId: param(req, 'actorId') ?? null,
    targetType: param(req, 'targetType') ?? null,
    targetId: param(req, 'targetId') ?? null,
    since: parseDate('since', param(req, 'since')),
    until: parseDate('until', param(req, 'until')),
  });
  const access = isUuid(organizationId) ? await ctx.loaders.access.load(organizationId) : null;
  if (!access) throw new AppError('NOT_FOUND', 'Organization not found');
  if (!access.permissions.has(Permission.AUDIT_READ)) throw new AppError('FORBIDDEN', 'This needs the AUDIT_READ permission');

  res.status(200);
  res.setHeader('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
  res.setHeader('content-disposition', `attachment; filename="audit-${organizationId}.${format}"`);
  res.setHeader('cache-control', 'no-store');
  if (format === 'csv') res.write(`${COLUMNS.join(',')}\r\n`);
  for await (const rows of pages(ctx, organizationId, filter)) {
    if (res.destroyed) return;
    const chunk =
      format === 'csv'
        ? rows.map((e) => csvRow(exportRecord(e))).join('')
        : rows.map((e) => `${JSON.stringify(exportRecord(e))}\n`).join('');
    if (!res.write(chunk)) await once(res, 'drain');
  }
  res.end();
}
