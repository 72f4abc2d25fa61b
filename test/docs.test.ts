import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import { GENERATED } from '../scripts/docs';

const ROOT = path.resolve(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** Every file under src/ (tests aside). */
function sources(dir = path.join(ROOT, 'src')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

describe('docs/ tell the whole public contract', () => {
  it.each(Object.keys(GENERATED))('docs/%s is what npm run docs writes from the code', (file) => {
    expect(read(`docs/${file}`)).toBe(GENERATED[file]());
  });

  it('docs/api.md names every type, field, argument and enum value of schema.graphql', () => {
    const api = read('docs/api.md');
    const missing: string[] = [];
    for (const d of parse(read('schema.graphql')).definitions) {
      if (!('name' in d) || !d.name || d.kind === Kind.DIRECTIVE_DEFINITION || /^(link__|join__|federation__|_)/.test(d.name.value)) continue;
      const type = d.name.value;
      if (!['Query', 'Mutation'].includes(type) && !api.includes(`### ${type}\n`)) missing.push(type);
      for (const f of ('fields' in d ? (d.fields ?? []) : []) as unknown as { name: { value: string }; arguments?: { name: { value: string } }[] }[]) {
        if (f.name.value.startsWith('_')) continue;
        if (!api.includes(`\`${f.name.value}`)) missing.push(`${type}.${f.name.value}`);
        for (const a of f.arguments ?? []) if (!api.includes(`${a.name.value}: `)) missing.push(`${type}.${f.name.value}(${a.name.value})`);
      }
      for (const v of ('values' in d ? (d.values ?? []) : []) as unknown as { name: { value: string } }[]) if (!api.includes(`\`${v.name.value}\``)) missing.push(`${type}.${v.name.value}`);
    }
    expect(missing).toEqual([]);
  });

  it('docs/events.md names every event type the code can emit', () => {
    const events = read('docs/events.md');
    const emitted = new Set<string>();
    for (const file of sources()) {
      for (const [, type] of fs.readFileSync(file, 'utf8').matchAll(/'((?:organization|member|workspace|api_key|subscription|usage|user|byok|invitation|join_request|webhook_endpoint|webhook_delivery|webhook|role|domain|sso_connection|directory_token|directory_user|directory_group|directory)\.[a-z_]+)'/g)) emitted.add(type);
    }
    expect(emitted.size).toBeGreaterThanOrEqual(30);
    expect([...emitted].filter((type) => !events.includes(`\`${type}\``))).toEqual([]);
  });

  it('README points to docs/, not to a file outside the repository', () => {
    expect(read('README.md')).not.toMatch(/\.\.\/shared\/API\.md/);
    for (const file of ['docs/api.md', 'docs/events.md', 'docs/permissions.md']) expect(read('README.md')).toMatch(file);
  });
});
