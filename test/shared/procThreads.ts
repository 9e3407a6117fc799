/** Linux /proc readings shared by the unit and end-to-end tests. */
import { readFileSync, readdirSync } from 'node:fs';

/** Niceness of every thread of a process, from /proc/<pid>/task/<tid>/stat (field 19). */
export function threadNiceness(pid: number | string): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The fields after the parenthesised command name start at field 3 (state).
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}
