import fs from 'node:fs';
import path from 'node:path';
// semver is npm's own range logic (a dependency of many of ours): the same answer `npm ci` gives.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const semver = require('semver') as { minVersion(range: string): { version: string } | null; satisfies(version: string, range: string): boolean };

const ROOT = path.resolve(__dirname, '..');

describe('the dependency tree runs on the Node version package.json promises', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };

  it('every locked package accepts the oldest Node of `engines` (npm ci would warn EBADENGINE, and .npmrc makes that fail)', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    const refused = Object.entries(lock.packages)
      .filter(([, info]) => info.engines && !Array.isArray(info.engines) && typeof info.engines.node === 'string' && !semver.satisfies(oldest, info.engines.node))
      .map(([name, info]) => `${name}@${info.version} wants node ${(info.engines as { node: string }).node}`);
    expect(refused).toEqual([]);
  });

  it('.npmrc sets engine-strict, so a mismatch fails the install instead of warning', () => {
    expect(fs.readFileSync(path.join(ROOT, '.npmrc'), 'utf8')).toMatch(/^engine-strict=true$/m);
  });
});
