import fs from 'node:fs';
import path from 'node:path';
import dns2 from 'dns2';

const { Packet } = dns2;
/** RFC 1035 RCODE 3 (dns2's Packet.RCODE, missing from its types). */
const NXDOMAIN = 3;

/**
 * A real DNS server on localhost (the dns2 package, over UDP) for the domains the tests
 * verify: the servers under test resolve through it (DNS_SERVERS). Its zone is a folder: a
 * file named after a record name holds that name's TXT values, one per line; no file, NXDOMAIN.
 * The global setup starts it (test/support/global-setup.ts) and tells test files the folder
 * (TEST_DNS_ZONE) and the address (TEST_DNS_SERVER); they publish records with publishTxt.
 */
export async function startDnsServer(zone: string): Promise<{ address: string; close(): Promise<void> }> {
  fs.mkdirSync(zone, { recursive: true });
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = question?.name.toLowerCase().replace(/\.$/, '') ?? '';
      let values: string[] | null = null;
      try {
        values = /^[a-z0-9._-]+$/.test(name) ? fs.readFileSync(path.join(zone, name), 'utf8').split('\n').filter(Boolean) : null;
      } catch {
        values = null;
      }
      if (!values) response.header.rcode = NXDOMAIN;
      else if (question.type === Packet.TYPE.TXT) {
        for (const value of values) response.answers.push({ name: question.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 0, data: value } as never);
      }
      send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } } as never);
  const { port } = (addresses as { udp: { port: number } }).udp;
  return { address: `127.0.0.1:${port}`, close: async () => void (await server.close()) };
}

const zone = () => {
  const dir = process.env.TEST_DNS_ZONE;
  if (!dir) throw new Error('TEST_DNS_ZONE is not set: the global setup starts the DNS server');
  return dir;
};

/** The TXT values now at `name`. */
export function txtAt(name: string): string[] {
  try {
    return fs.readFileSync(path.join(zone(), name.toLowerCase()), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Replaces the TXT values at `name` (none: the name no longer exists). Atomic: a query sees the old file or the new. */
export function setTxt(name: string, values: string[]): void {
  const file = path.join(zone(), name.toLowerCase());
  if (!values.length) {
    fs.rmSync(file, { force: true });
    return;
  }
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(temp, `${values.join('\n')}\n`);
  fs.renameSync(temp, file);
}

/** Adds a TXT value at `name`, beside those there. */
export const publishTxt = (name: string, value: string) => setTxt(name, [...txtAt(name).filter((v) => v !== value), value]);

/** Removes one TXT value at `name`. */
export const unpublishTxt = (name: string, value: string) => setTxt(name, txtAt(name).filter((v) => v !== value));
