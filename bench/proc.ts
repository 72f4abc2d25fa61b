import fs from 'node:fs';
import path from 'node:path';

/** proc(5)'s stat fields after the command (state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14]); undefined once the process is gone. */
function statOf(pid: number | string): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  } catch {
    return undefined;
  }
}

/** Clock ticks (USER_HZ, 100 on Linux) in ms. */
const TICK_MS = 10;

/**
 * A process's CPU time so far (user + system, ms). CPU per request holds still on a busy
 * machine where requests per second do not: a process waiting for a core spends no CPU.
 */
export function cpuMsOf(pid: number): number {
  const fields = statOf(pid)!;
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/**
 * The CPU time (ms) the embedded PostgreSQL of `dataDir` has spent so far: its postmaster's,
 * its ended children's (reaped into the postmaster's cutime and cstime) and its live children's
 * (the backends). One variant loads the server at a time, so the difference over a slice is
 * that variant's share of PostgreSQL's work.
 */
export function postgresCpuMs(dataDir: string): number {
  const postmaster = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const fields = statOf(pid);
    if (!fields) continue;
    if (pid === postmaster) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    else if (fields[1] === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * TICK_MS;
}
