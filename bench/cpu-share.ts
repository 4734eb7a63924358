// A Lambda function's share of the CPU, for the cold start: Lambda gives a function CPU in proportion
// to its memory, one vCPU at 1,769 MB (AWS Lambda developer guide, "Configuring Lambda function
// memory"), so the API's 1,024 MB (infra/stacks/api-stack.ts) is 0.58 of a vCPU. A command runs
// pinned to one core (taskset) in a cgroup (v1 cpu controller) whose CFS quota is that fraction of
// each 100 ms period. Where the cgroup cannot be made, it runs pinned alone, and says so.
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const VCPU_MB = 1769;
const CGROUP_CPU = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100_000;

export interface CpuShare {
  /** The command line to run instead of `cmd args`. */
  wrap(cmd: string, args: string[]): { cmd: string; args: string[] };
  /** What the wrapper enforces, for the report. */
  description: string;
  close(): Promise<void>;
}

export async function lambdaCpuShare(memoryMb: number): Promise<CpuShare> {
  const fraction = Math.min(1, memoryMb / VCPU_MB);
  const quota = Math.round(PERIOD_US * fraction);
  const dir = join(CGROUP_CPU, `registry-bench-${process.pid}`);
  let cgroup: string | undefined;
  let why = '';
  try {
    await mkdir(dir);
    await writeFile(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    await writeFile(join(dir, 'cpu.cfs_quota_us'), String(quota));
    cgroup = dir;
  } catch (e) {
    why = (e as Error).message;
    await rmdir(dir).catch(() => undefined);
  }
  const pinned = ['-c', '1'];
  return {
    wrap(cmd, args) {
      // The shell joins the cgroup, then becomes the command: nothing of it runs outside the quota.
      if (cgroup) return { cmd: 'sh', args: ['-c', `echo $$ > ${join(cgroup, 'cgroup.procs')} && exec taskset "$@"`, 'sh', ...pinned, cmd, ...args] };
      return { cmd: 'taskset', args: [...pinned, cmd, ...args] };
    },
    description: cgroup
      ? `one core (taskset -c 1), CFS quota ${quota} us per ${PERIOD_US} us (${memoryMb} MB / ${VCPU_MB} MB per vCPU = ${fraction.toFixed(2)} vCPU)`
      : `one core (taskset -c 1), NO CPU quota (${why}): faster than a ${memoryMb} MB Lambda`,
    close: async () => {
      if (cgroup) await rmdir(cgroup).catch(() => undefined);
    },
  };
}
