import { createOrganization, newUser, ok, serverUrl, serviceToken, unique, type TestUser } from './support/client';

const exportText = async (organizationId: string, format: 'csv' | 'ndjson', user: TestUser): Promise<string> => {
  const res = await fetch(`${serverUrl()}/audit/export?${new URLSearchParams({ organizationId, format })}`, { headers: { authorization: `Bearer ${user.token}` } });
  expect(res.status).toBe(200);
  return res.text();
};

/** RFC 4180, as a spreadsheet reads it: quoted cells may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += c;
    }
  }
  return rows;
}

const records = (text: string) => {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
};

describe('CSV export neutralises formulas (OWASP CSV Injection)', () => {
  const FORMULA = '=HYPERLINK("http://x","y")';
  let owner: TestUser;
  let organizationId: string;
  const partner = unique('ledger');

  beforeAll(async () => {
    owner = newUser('+cmd');
    organizationId = (await createOrganization(owner, 'Spreadsheet')).id;
    await ok('mutation($id: ID!, $n: String!) { createWorkspace(input: { organizationId: $id, name: $n }) { id } }', { id: organizationId, n: FORMULA }, owner);
    await ok(
      'mutation($input: RecordAuditEventInput!) { recordAuditEvent(input: $input) { id } }',
      { input: { organizationId, action: `${partner}.invoice.paid`, target: { type: 'Invoice', id: '-1+1', display: "@SUM(1+1)*cmd|' /C calc'!A0" }, idempotencyKey: unique('k') } },
      serviceToken(partner, 'audit:write'),
    );
  });

  it('prefixes a cell starting with = + - @, tab or carriage return with a quote, inside a quoted cell', async () => {
    const text = await exportText(organizationId, 'csv', owner);
    // The raw cells as OWASP shows them: quoted, the quote first, inner double quotes doubled.
    expect(text).toContain(`,"'=HYPERLINK(""http://x"",""y"")",`);
    expect(text).toContain(`,"'+cmd",`);
    const rows = records(text);
    const workspace = rows.find((r) => r.action === 'workspace.created')!;
    expect(workspace).toMatchObject({ actorDisplay: "'+cmd", targetDisplay: `'${FORMULA}` });
    const paid = rows.find((r) => r.action === `${partner}.invoice.paid`)!;
    expect(paid).toMatchObject({ targetId: "'-1+1", targetDisplay: "'@SUM(1+1)*cmd|' /C calc'!A0" });
    // No cell of the file starts a formula.
    for (const row of parseCsv(text)) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    // Cells that need nothing stay as they are.
    expect(workspace.targetType).toBe('Workspace');
    expect(workspace.actorId).toBe(owner.id);
  });

  it('leaves NDJSON exact', async () => {
    const lines = (await exportText(organizationId, 'ndjson', owner)).trim().split('\n').map((l) => JSON.parse(l));
    const workspace = lines.find((l) => l.action === 'workspace.created');
    expect(workspace).toMatchObject({ actorDisplay: '+cmd', targetDisplay: FORMULA });
    const paid = lines.find((l) => l.action === `${partner}.invoice.paid`);
    expect(paid).toMatchObject({ targetId: '-1+1', targetDisplay: "@SUM(1+1)*cmd|' /C calc'!A0" });
  });
});

describe('export shows whose action an event is', () => {
  it('origin CORE or PARTNER, as the API shows it, in both formats', async () => {
    const owner = newUser();
    const organizationId = (await createOrganization(owner, 'Origins')).id;
    const clientId = unique('ledger');
    await ok('mutation($input: RecordAuditEventInput!) { recordAuditEvent(input: $input) { id } }', { input: { organizationId, action: `${clientId}.invoice.paid`, idempotencyKey: unique('k') } }, serviceToken(clientId, 'audit:write'));
    const expected = [
      { action: `${clientId}.invoice.paid`, origin: 'PARTNER', actorType: 'SERVICE' },
      { action: 'organization.created', origin: 'CORE', actorType: 'USER' },
    ];
    const lines = (await exportText(organizationId, 'ndjson', owner)).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => ({ action: l.action, origin: l.origin, actorType: l.actorType }))).toEqual(expected);
    const rows = records(await exportText(organizationId, 'csv', owner));
    expect(rows.map((r) => ({ action: r.action, origin: r.origin, actorType: r.actorType }))).toEqual(expected);
  });
});
