import { cpus, totalmem, platform, release, arch } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  ramGiB: number;
  os: string;
}

/** What the figures were measured on: ratios travel between machines, absolute numbers do not. */
export function describeMachine(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    node: process.version,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
  };
}

export function machineLine(info: MachineInfo): string {
  return `${info.cpuModel}, ${info.cores} cores, ${info.ramGiB} GiB RAM, Node ${info.node}, ${info.os}`;
}
