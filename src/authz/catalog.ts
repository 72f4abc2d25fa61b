import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { PROJECT_ROOT } from '../paths';
import { OrganizationRole, Permission, WorkspaceRole } from './permissions';

/**
 * The product catalog (AUTHZ_CATALOG): the permissions of the products built on this service,
 * `resource:action` keys next to the built-in enum names. Read and validated once at start;
 * a malformed file stops the start with one line per error, each naming its entry.
 */

export const EXAMPLE_CATALOG = path.join(PROJECT_ROOT, 'catalog', 'example.yaml');

/** `sandboxes:create`: lower-case resource and action (a-z, 0-9, -), one colon; never a built-in name. */
export const PRODUCT_KEY = /^[a-z][a-z0-9-]{0,62}:[a-z][a-z0-9-]{0,62}$/;

export type CatalogScope = 'ORGANIZATION' | 'WORKSPACE';

export interface ProductPermission {
  key: string;
  description: string;
  scope: CatalogScope;
  /** Built-in roles holding it organization-wide. */
  roles: readonly OrganizationRole[];
  /** WORKSPACE scope: workspace roles holding it inside their workspace. */
  workspaceRoles: readonly WorkspaceRole[];
}

export interface Catalog {
  /** Where it was read from. */
  source: string;
  permissions: readonly ProductPermission[];
  byKey: ReadonlyMap<string, ProductPermission>;
}

const entry = z
  .object({
    key: z.string({ message: 'expected a string' }).regex(PRODUCT_KEY, { message: 'expected resource:action in lower case (a-z, 0-9, -), such as sandboxes:create' }),
    description: z.string({ message: 'expected a string' }).trim().min(1, { message: 'expected a non-empty string' }).max(500, { message: 'at most 500 characters' }),
    scope: z.enum(['ORGANIZATION', 'WORKSPACE'], { message: 'expected ORGANIZATION or WORKSPACE' }),
    roles: z.array(z.enum(OrganizationRole, { message: `expected one of ${Object.values(OrganizationRole).join(', ')}` })).default([]),
    workspaceRoles: z.array(z.enum(WorkspaceRole, { message: `expected one of ${Object.values(WorkspaceRole).join(', ')}` })).default([]),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.scope === 'ORGANIZATION' && value.workspaceRoles.length) {
      ctx.addIssue({ code: 'custom', path: ['workspaceRoles'], message: 'only a WORKSPACE permission is held by workspace roles' });
    }
  });

const document = z.object({ permissions: z.array(z.unknown(), { message: 'expected a list of entries' }).max(1000, { message: 'at most 1000 entries' }) }).strict();

export class CatalogError extends Error {
  constructor(
    readonly source: string,
    readonly lines: string[],
  ) {
    super(lines.map((line) => `Invalid AUTHZ_CATALOG (${source}): ${line}`).join('\n'));
  }
}

/** `roles[1]: expected …`: where in the entry, then what was expected. */
const issueText = (issue: z.core.$ZodIssue) => {
  const where = issue.path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`)).join('');
  return where ? `${where}: ${issue.message}` : issue.message;
};

/** Validates a parsed catalog document; every problem is one line naming its entry. */
export function parseCatalog(raw: unknown, source: string): Catalog {
  const top = document.safeParse(raw ?? {});
  if (!top.success) throw new CatalogError(source, top.error.issues.map(issueText));
  const lines: string[] = [];
  const permissions: ProductPermission[] = [];
  const byKey = new Map<string, ProductPermission>();
  top.data.permissions.forEach((item, index) => {
    const key = item && typeof item === 'object' && typeof (item as { key?: unknown }).key === 'string' ? (item as { key: string }).key : undefined;
    const name = `permissions[${index}]${key ? ` "${key}"` : ''}`;
    const parsed = entry.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) lines.push(`${name}: ${issueText(issue)}`);
      return;
    }
    if (byKey.has(parsed.data.key)) {
      lines.push(`${name}: key: declared twice`);
      return;
    }
    const permission: ProductPermission = { ...parsed.data, roles: [...new Set(parsed.data.roles)], workspaceRoles: [...new Set(parsed.data.workspaceRoles)] };
    permissions.push(permission);
    byKey.set(permission.key, permission);
  });
  if (lines.length) throw new CatalogError(source, lines);
  return { source, permissions, byKey };
}

/** Reads AUTHZ_CATALOG (JSON or YAML; JSON is YAML), or the example catalog when unset. */
export function loadCatalog(file: string | undefined): Catalog {
  const source = path.resolve(file ?? EXAMPLE_CATALOG);
  let text: string;
  try {
    text = fs.readFileSync(source, 'utf8');
  } catch (error) {
    throw new CatalogError(source, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  const parsed = parseDocument(text);
  // The first syntax error only: the ones after it follow from it.
  const [syntax] = parsed.errors;
  if (syntax) throw new CatalogError(source, [`not valid YAML or JSON at line ${syntax.linePos?.[0].line ?? '?'}: ${syntax.message.split(' at line')[0]}`]);
  return parseCatalog(parsed.toJS(), source);
}

let active: Catalog | undefined;

/** The catalog of this process: set by loadConfig; the example one until then (unit tests, scripts). */
export function catalog(): Catalog {
  active ??= loadCatalog(undefined);
  return active;
}

export function useCatalog(next: Catalog): void {
  active = next;
}

/** Whether `key` names a permission: a built-in one or one of the catalog's. */
export function isPermissionKey(key: string): boolean {
  return key in Permission || catalog().byKey.has(key);
}
