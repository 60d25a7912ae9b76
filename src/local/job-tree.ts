import { cp, link, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  channelDir,
  type InputDataConfig,
  type ResourceConfig,
  resolvePaths,
  type SageMakerPaths,
} from '../contract/index.js';
import { InputError } from '../util/errors.js';
import { type ChannelSpec, isS3Uri } from '../contract/job-spec.js';

/** One host of a local job: its name, loopback address and /opt/ml tree. */
export interface HostTree {
  readonly host: string;
  readonly address: string;
  readonly paths: SageMakerPaths;
  /** Pipe-mode channels to feed for this host, with the files this host sees. */
  readonly pipes: readonly PipeChannel[];
}

/** A Pipe-mode channel of one host. */
export interface PipeChannel {
  readonly channel: ChannelSpec;
  readonly files: readonly string[];
}

/** What to lay out for every host. */
export interface JobTreeOptions {
  /** Directory that receives one tree per host (`ROOT/algo-1`, ...). */
  readonly root: string;
  readonly hosts: number;
  /** Encoded hyperparameters.json content, given the host's tree (paths may differ per host). */
  readonly hyperparameters: (paths: SageMakerPaths) => Readonly<Record<string, string>>;
  readonly channels: readonly ChannelSpec[];
  /** Script mode: a directory copied to `code/` of every host. */
  readonly codeDir?: string;
  /** The file to copy when the entry point has no source dir. */
  readonly codeFile?: string;
}

/** `algo-1..algo-N`, as SageMaker names hosts. */
export function hostNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `algo-${i + 1}`);
}

/** The loopback address of host number `index` (0-based): 127.0.0.2, 127.0.0.3, ... */
export function hostAddress(index: number): string {
  return `127.0.${Math.floor((index + 2) / 256)}.${(index + 2) % 256}`;
}

/** Every regular file under `dir`, as paths relative to it, sorted as S3 lists keys. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The files host `index` of `count` sees: all of them, or every count-th one for ShardedByS3Key. */
export function shardFiles(
  files: readonly string[],
  distribution: ChannelSpec['distribution'],
  index: number,
  count: number,
): string[] {
  if (distribution === 'FullyReplicated') return [...files];
  return files.filter((_, i) => i % count === index);
}

/**
 * The order ShuffleConfig gives a channel's objects: the same seed, the same order (a seeded
 * Fisher-Yates over the sorted names, so it does not depend on the file system).
 */
export function shuffleFiles(files: readonly string[], seed: number): string[] {
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const shuffled = [...files];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return shuffled;
}

async function checkChannelDir(channel: ChannelSpec): Promise<void> {
  if (isS3Uri(channel.source)) {
    throw new InputError(
      `channel '${channel.name}': local mode reads channels from directories, not ${channel.source}; download it first (aws s3 sync ${channel.source} DIR) and pass --channel ${channel.name}=DIR`,
    );
  }
  const info = await stat(channel.source).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InputError(
      `channel '${channel.name}': directory ${channel.source} does not exist; pass --channel ${channel.name}=DIR with a directory of data files`,
    );
  }
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch {
    await cp(from, to);
  }
}

/** inputdataconfig.json as SageMaker writes it. */
export function inputDataConfig(channels: readonly ChannelSpec[]): InputDataConfig {
  const config: InputDataConfig = {};
  for (const channel of channels) {
    config[channel.name] = {
      ...(channel.contentType ? { ContentType: channel.contentType } : {}),
      TrainingInputMode: channel.mode,
      S3DistributionType: channel.distribution,
      RecordWrapperType: channel.wrapper,
      ...(channel.compression === 'Gzip' ? { CompressionType: 'Gzip' as const } : {}),
    };
  }
  return config;
}

/** resourceconfig.json as SageMaker writes it for one host of a homogeneous cluster. */
export function resourceConfig(current: string, hosts: readonly string[]): ResourceConfig {
  return {
    current_host: current,
    current_instance_type: 'local',
    current_group_name: 'homogeneousCluster',
    hosts: [...hosts],
    instance_groups: [
      { instance_group_name: 'homogeneousCluster', instance_type: 'local', hosts: [...hosts] },
    ],
    network_interface_name: 'eth0',
  };
}

/**
 * Builds one /opt/ml tree per host under `root`, as SageMaker lays it out before `docker run IMAGE train`:
 * config files, File-mode channel data (hard links, sharded when asked), empty model/ output/ checkpoints/,
 * and the user's code in code/. Pipe-mode channels are returned for the feeder; their FIFOs are not made here.
 */
export async function buildJobTrees(options: JobTreeOptions): Promise<HostTree[]> {
  if (!Number.isInteger(options.hosts) || options.hosts < 1) {
    throw new InputError(`--hosts must be an integer >= 1 (got ${options.hosts})`);
  }
  const names = new Set<string>();
  for (const channel of options.channels) {
    if (names.has(channel.name)) throw new InputError(`channel '${channel.name}' is given twice`);
    names.add(channel.name);
    await checkChannelDir(channel);
  }
  const files = new Map<string, string[]>();
  for (const channel of options.channels) {
    const listed = await listFiles(channel.source);
    files.set(
      channel.name,
      channel.shuffleSeed === undefined ? listed : shuffleFiles(listed, channel.shuffleSeed),
    );
  }
  const hosts = hostNames(options.hosts);
  const trees: HostTree[] = [];
  for (const [index, host] of hosts.entries()) {
    const paths = resolvePaths(path.join(options.root, host));
    await Promise.all(
      [paths.inputConfig, paths.inputData, paths.model, paths.outputData, paths.checkpoints, paths.code].map(
        (dir) => mkdir(dir, { recursive: true }),
      ),
    );
    await writeFile(paths.hyperparameters, JSON.stringify(options.hyperparameters(paths)));
    await writeFile(paths.inputDataConfig, JSON.stringify(inputDataConfig(options.channels)));
    await writeFile(paths.resourceConfig, JSON.stringify(resourceConfig(host, hosts)));
    if (options.codeDir) await cp(options.codeDir, paths.code, { recursive: true });
    if (options.codeFile) await cp(options.codeFile, path.join(paths.code, path.basename(options.codeFile)));
    const pipes: PipeChannel[] = [];
    for (const channel of options.channels) {
      const mine = shardFiles(files.get(channel.name)!, channel.distribution, index, options.hosts);
      if (channel.mode === 'Pipe') {
        pipes.push({ channel, files: mine.map((file) => path.join(channel.source, file)) });
        continue;
      }
      const target = channelDir(paths, channel.name);
      await mkdir(target, { recursive: true });
      for (const file of mine) await linkOrCopy(path.join(channel.source, file), path.join(target, file));
    }
    trees.push({ host, address: hostAddress(index), paths, pipes });
  }
  return trees;
}
