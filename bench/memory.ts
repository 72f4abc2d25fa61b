import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** A child's memory in MB from /proc: `VmRSS` now, or `VmHWM` (its peak); NaN once it is gone. */
export function memoryMb(child: ChildProcess, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) / 1024);
  } catch {
    return NaN;
  }
}
