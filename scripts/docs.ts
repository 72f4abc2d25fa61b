import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, print, type ConstDirectiveNode, type DefinitionNode, type FieldDefinitionNode, type InputValueDefinitionNode } from 'graphql';
import { ALL_PERMISSIONS, ASSIGNMENT_PERMISSIONS, ROLE_PERMISSIONS, WORKSPACE_ROLE_PERMISSIONS } from '../src/authz/permissions';
import { loadCatalog } from '../src/authz/catalog';
import { PROJECT_ROOT } from '../src/paths';

/**
 * npm run docs: writes docs/api.md (every type, field, argument and enum value of
 * schema.graphql) and docs/permissions.md (the built-in roles, assignments and workspace roles,
 * from src/authz/permissions.ts). `--check` (npm run docs:check, and test/docs.test.ts) fails
 * when either differs from what the code says. docs/events.md is written by hand; the test
 * checks it names every event type the code can emit.
 */
const DOCS = path.join(PROJECT_ROOT, 'docs');

const directives = (nodes: readonly ConstDirectiveNode[] | undefined) =>
  (nodes ?? []).filter((d) => ['authenticated', 'requiresScopes', 'key', 'shareable'].includes(d.name.value)).map((d) => `\`${print(d)}\``).join(' ');
const oneLine = (text: string | undefined) => (text ?? '').replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
const args = (list: readonly InputValueDefinitionNode[] | undefined) =>
  list?.length ? `(${list.map((a) => `${a.name.value}: ${print(a.type)}${a.defaultValue ? ` = ${print(a.defaultValue)}` : ''}`).join(', ')})` : '';

function fieldRows(fields: readonly (FieldDefinitionNode | InputValueDefinitionNode)[]): string[] {
  return [
    '| field | type | notes |',
    '|---|---|---|',
    ...fields.map((f) => {
      const a = 'arguments' in f ? args(f.arguments) : '';
      const notes = [oneLine(f.description?.value), directives(f.directives)].filter(Boolean).join(' ');
      return `| \`${f.name.value}${a.replace(/\|/g, '\\|')}\` | \`${print(f.type)}\` | ${notes} |`;
    }),
  ];
}

/** Federation's own machinery (link__, join__, federation__, _Service, _Any, _Entity) is the router's, not the API's. */
const internal = (name: string) => /^(link__|join__|federation__|_)/.test(name);

export function apiReference(sdl = fs.readFileSync(path.join(PROJECT_ROOT, 'schema.graphql'), 'utf8')): string {
  const definitions = parse(sdl).definitions.filter((d): d is DefinitionNode & { name: { value: string } } => 'name' in d && !!d.name && !internal(d.name.value) && d.kind !== Kind.DIRECTIVE_DEFINITION);
  const byKind = (kinds: Kind[]) => definitions.filter((d) => kinds.includes(d.kind)).sort((a, b) => a.name.value.localeCompare(b.name.value));
  const out = [
    '# API reference',
    '',
    'Generated from `schema.graphql` by `npm run docs` (`npm run docs:check` and `test/docs.test.ts` fail when they differ).',
    'The contract in words: [../README.md](../README.md); events: [events.md](events.md); permissions: [permissions.md](permissions.md).',
    'Federation directives shown: `@key`, `@shareable`, `@authenticated`, `@requiresScopes` (a router enforces the last two; the subgraph enforces everything itself).',
    '',
  ];
  const roots = ['Query', 'Mutation'];
  for (const root of roots) {
    const type = definitions.find((d) => d.name.value === root && (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION)) as { fields?: FieldDefinitionNode[] } | undefined;
    if (!type) continue;
    out.push(`## ${root === 'Query' ? 'Queries' : 'Mutations'}`, '', ...fieldRows((type.fields ?? []).filter((f) => !internal(f.name.value))), '');
  }
  const sections: [string, Kind[]][] = [
    ['Object types', [Kind.OBJECT_TYPE_DEFINITION, Kind.OBJECT_TYPE_EXTENSION, Kind.INTERFACE_TYPE_DEFINITION]],
    ['Input types', [Kind.INPUT_OBJECT_TYPE_DEFINITION]],
    ['Enums', [Kind.ENUM_TYPE_DEFINITION]],
    ['Scalars and unions', [Kind.SCALAR_TYPE_DEFINITION, Kind.UNION_TYPE_DEFINITION]],
  ];
  for (const [title, kinds] of sections) {
    out.push(`## ${title}`, '');
    for (const d of byKind(kinds)) {
      if (roots.includes(d.name.value)) continue;
      const node = d as unknown as {
        description?: { value: string };
        directives?: ConstDirectiveNode[];
        fields?: (FieldDefinitionNode | InputValueDefinitionNode)[];
        values?: { name: { value: string }; description?: { value: string } }[];
        types?: { name: { value: string } }[];
      };
      out.push(`### ${d.name.value}`, '');
      const head = [oneLine(node.description?.value), directives(node.directives)].filter(Boolean).join(' ');
      if (head) out.push(head, '');
      if (node.fields?.length) out.push(...fieldRows(node.fields), '');
      if (node.values?.length) out.push(...node.values.map((v) => `- \`${v.name.value}\`${v.description ? ` — ${oneLine(v.description.value)}` : ''}`), '');
      if (node.types?.length) out.push(`One of: ${node.types.map((t) => `\`${t.name.value}\``).join(', ')}`, '');
    }
  }
  return `${out.join('\n').trim()}\n`;
}

export function permissionCatalog(): string {
  const list = (items: Iterable<string>) => [...items].map((p) => `\`${p}\``).join(', ') || '—';
  return `${[
    '# Permission catalog',
    '',
    'Generated from `src/authz/permissions.ts` and `catalog/example.yaml` by `npm run docs`. Product permissions (`resource:action`) come from the catalog `AUTHZ_CATALOG` names (unset: the example one, below); custom roles are per organization and bundle any of these keys but `ORGANIZATION_DELETE` and `OWNERSHIP_TRANSFER`.',
    '',
    '## Permissions',
    '',
    list(ALL_PERMISSIONS),
    '',
    '## Built-in roles (organization-wide)',
    '',
    '| role | permissions |',
    '|---|---|',
    ...Object.entries(ROLE_PERMISSIONS).map(([role, permissions]) => `| \`${role}\` | ${list(permissions)} |`),
    '',
    'DEVELOPER, VIEWER and GUEST act inside the workspaces they are assigned to with their workspace role (below). A GUEST takes no seat and sees nothing of the organization but its name.',
    '',
    '## Assignments (added to a member\'s role)',
    '',
    '| assignment | grants |',
    '|---|---|',
    ...Object.entries(ASSIGNMENT_PERMISSIONS).map(([assignment, permissions]) => `| \`${assignment}\` | ${list(permissions)} |`),
    '',
    '## Workspace roles (inside one workspace)',
    '',
    '| workspace role | permissions there |',
    '|---|---|',
    ...Object.entries(WORKSPACE_ROLE_PERMISSIONS).map(([role, permissions]) => `| \`${role}\` | ${list(permissions)} |`),
    '',
    '## Product permissions of the example catalog (`catalog/example.yaml`)',
    '',
    '| key | scope | roles | workspace roles | description |',
    '|---|---|---|---|---|',
    ...loadCatalog(undefined).permissions.map((p) => `| \`${p.key}\` | ${p.scope} | ${list(p.roles)} | ${list(p.workspaceRoles)} | ${p.description} |`),
    '',
    'Rules no role gets around: nobody grants a role, assignment, custom role or API key scope carrying a permission they do not hold, nor changes a member holding more (custom roles and product keys counted); only an OWNER makes or unmakes an OWNER; an organization always keeps an OWNER.',
  ].join('\n')}\n`;
}

export const GENERATED: Record<string, () => string> = { 'api.md': () => apiReference(), 'permissions.md': permissionCatalog };

if (require.main === module) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, render] of Object.entries(GENERATED)) {
    const target = path.join(DOCS, file);
    const text = render();
    if (check) {
      if (!fs.existsSync(target) || fs.readFileSync(target, 'utf8') !== text) {
        console.error(`docs/${file} is out of date: run npm run docs`);
        stale++;
      }
    } else {
      fs.mkdirSync(DOCS, { recursive: true });
      fs.writeFileSync(target, text);
      console.log(`Wrote docs/${file}`);
    }
  }
  if (stale) process.exit(1);
}
