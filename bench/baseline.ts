import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm run bench -- --baseline <ref>`: another build of this project, checked out in a temporary
 * git worktree and built as the project builds, for run.ts to serve beside ours.
 */
export interface Baseline {
  ref: string;
  /** The commit `ref` named, abbreviated, and its subject line. */
  commit: string;
  subject: string;
  dir: string;
  /** Where its node_modules came from: the project's own (the same package-lock.json) or `npm ci`. */
  modules: 'shared' | 'npm ci';
}

const git = (root: string, ...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The npm run under way, ended if the bench is interrupted meanwhile. */
let running: ChildProcess | undefined;

function npm(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // An older build installs as it did then: `npm run bench` hands our .npmrc's engine-strict to
    // its children (npm_config_engine_strict), and b089baf's lock holds a package wanting Node 22.
    const env = Object.assign({}, process.env, { npm_config_engine_strict: 'false' });
    const child = spawn('npm', args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
    running = child;
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      running = undefined;
      if (code === 0) resolve();
      else reject(new Error(`npm ${args.join(' ')} ended with ${signal ?? `code ${code}`}`));
    });
  });
}

async function removeWorktree(root: string, dir: string): Promise<void> {
  const child = running;
  if (child) {
    // npm does not always stop at SIGTERM (it went on installing into the removed folder).
    const ended = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await ended;
    clearTimeout(timer);
  }
  // The shared node_modules is a link: unlink it first, so that nothing removes through it.
  const modules = path.join(dir, 'node_modules');
  if (fs.lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(modules);
  try {
    git(root, 'worktree', 'remove', '--force', dir);
  } catch {
    // Not (or no longer) a worktree: remove the folder and forget the registration.
    fs.rmSync(dir, { recursive: true, force: true });
    git(root, 'worktree', 'prune');
  }
}

/**
 * Checks `ref` out in a temporary worktree, installs and builds it. `onRemove` receives the
 * function that removes the worktree before anything is created, so that a failure or an
 * interruption at any step still cleans up.
 */
export async function prepareBaseline(root: string, ref: string, onRemove: (remove: () => Promise<void>) => void): Promise<Baseline> {
  let commit: string;
  try {
    commit = git(root, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  } catch {
    throw new Error(`--baseline ${ref}: not a commit of this repository`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orgs-bench-baseline-'));
  onRemove(() => removeWorktree(root, dir));
  git(root, 'worktree', 'add', '--detach', dir, commit);

  const lock = (folder: string) => fs.readFileSync(path.join(folder, 'package-lock.json'), 'utf8');
  const shared = fs.existsSync(path.join(dir, 'package-lock.json')) && lock(dir) === lock(root);
  if (shared) fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  else {
    console.log(`baseline ${ref}: its package-lock.json differs from ours, npm ci in ${dir}`);
    await npm(['ci', '--no-audit', '--no-fund'], dir);
  }
  try {
    await npm(['run', '--silent', 'build'], dir);
  } catch (error) {
    throw new Error(`--baseline ${ref} (${commit.slice(0, 7)}) does not build: ${(error as Error).message}`);
  }
  if (!fs.existsSync(path.join(dir, 'dist', 'src', 'main.js'))) throw new Error(`--baseline ${ref}: its build has no dist/src/main.js to start`);
  // graphql-js loaded as in production, exactly as for ours (bench/graphql-production.ts): our
  // compiled preload, placed where its require('graphql') finds the baseline's own graphql-js.
  fs.mkdirSync(path.join(dir, 'dist', 'bench'), { recursive: true });
  fs.copyFileSync(path.join(root, 'dist', 'bench', 'graphql-production.js'), path.join(dir, 'dist', 'bench', 'graphql-production.js'));
  return { ref, commit: commit.slice(0, 7), subject: git(root, 'log', '-1', '--format=%s', commit), dir, modules: shared ? 'shared' : 'npm ci' };
}
