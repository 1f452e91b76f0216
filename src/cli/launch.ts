// torchrun-style launch options of `catkit train|cat`: with --nproc-per-node N (and, across
// machines, --nnodes/--node-rank/--master-addr/--master-port) this process becomes the launcher
// and re-runs the same command line, without these options, as N workers carrying RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT (src/distributed/launcher.ts).
import { CommanderError, type Command } from 'commander';
import { int } from './options.js';
import { LaunchConfigError } from '../distributed/errors.js';

const VALUE_FLAGS = ['--nproc-per-node', '--nnodes', '--node-rank', '--master-addr', '--master-port'];

export function addLaunchOptions(cmd: Command): Command {
  return cmd.optionsGroup('Data-parallel (torchrun conventions; or set RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT):')
    .option('--nproc-per-node <n>', 'worker processes on this machine; --batch-size is per process, threads default to cores / n (default: 1, no launch)', int('--nproc-per-node', 1, 1024))
    .option('--nnodes <m>', 'machines; start catkit on each with the same options and its own --node-rank (default: 1)', int('--nnodes', 1, 65536))
    .option('--node-rank <r>', 'this machine\'s index, 0..nnodes-1; machine 0 hosts rank 0 (default: 0)', int('--node-rank', 0, 65535))
    .option('--master-addr <host>', 'address of machine 0, reachable from every machine (default: none; one machine meets through a temporary file)')
    .option('--master-port <port>', 'free TCP port on machine 0 for the rendezvous (default: none)', int('--master-port', 1, 65535));
}

/** The command line without the launch options (what each worker runs). */
export function withoutLaunchOptions(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_FLAGS.includes(a)) { i++; continue; }
    if (VALUE_FLAGS.some((f) => a.startsWith(`${f}=`))) continue;
    out.push(a);
  }
  return out;
}

/**
 * When launch options were given, runs the workers to completion and returns true (a failing
 * worker's exit code becomes this process's); otherwise returns false and the caller does the work.
 */
export async function launchIfRequested(flags: object, cmd: Command): Promise<boolean> {
  const o = flags as Record<string, unknown>;
  if ([o.nprocPerNode, o.nnodes, o.nodeRank, o.masterAddr, o.masterPort].every((v) => v === undefined)) return false;
  if (Number(process.env.WORLD_SIZE) > 1) {
    throw new LaunchConfigError('launch options given to a process that already is a distributed worker (WORLD_SIZE is set): use either a launcher (torchrun-style) or --nproc-per-node, not both');
  }
  const { launchWorkers, planLaunch } = await import('../distributed/launcher.js');
  const request = {
    nprocPerNode: (o.nprocPerNode as number | undefined) ?? 1, nnodes: o.nnodes as number | undefined, nodeRank: o.nodeRank as number | undefined,
    masterAddr: o.masterAddr as string | undefined, masterPort: o.masterPort as number | undefined,
  };
  planLaunch(request); // refuses bad settings before any worker starts
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const raw = (root as Command & { rawArgs: string[] }).rawArgs; // [node, script, ...args]
  const code = await launchWorkers({ ...request, command: process.execPath, args: [...process.execArgv, ...withoutLaunchOptions(raw.slice(1))] });
  if (code !== 0) throw new CommanderError(code, 'catkit.launch', `a worker failed (exit code ${code})`);
  return true;
}
