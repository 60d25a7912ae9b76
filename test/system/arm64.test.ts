/**
 * The Graviton image: `docker build --platform linux/arm64` on an amd64 machine. The build stage runs
 * natively (npm and tsc are never emulated); the final stage only copies. What ships is checked byte
 * by byte (every ELF file under /opt/smkit is aarch64, no x86-64 one is left), against the 150 MB
 * budget, and then run under qemu: `serve` answers /ping and a k-means /invocations (a WebAssembly
 * kernel; the probe below loads the aarch64 onnxruntime binding, which ONNX models and training use,
 * into arm64 Node); pushed to a loopback registry, it is one Docker v2
 * manifest (no OCI index of provenance attestations, which SageMaker rejects). Needs qemu-user-static with binfmt_misc for the arm64
 * base image (scripts/enable-qemu-binfmt.sh sets it up); skipped, saying why, where that cannot be.
 *
 * Whether qemu runs arm64 onnxruntime depends on the host CPU: on AMD EPYC hosts every serving worker
 * died with "qemu: uncaught target signal 11" right after loading the model (when k-means serving
 * still loaded onnxruntime), on Intel hosts it served.
 * The cause: qemu-user (7.2) gives the arm64 guest the host's x86 /proc/cpuinfo, which onnxruntime's
 * cpuinfo library parses as an ARM one; the AMD host's text crashed it. With an arm64 /proc/cpuinfo
 * (what a Graviton2 shows) bind-mounted, the same image serves on the AMD host too, so the emulated
 * containers get one. The emulated serve still runs only where a probe (the image's node loading the
 * binding and running the k-means assignment session training creates) exits 0; elsewhere it is skipped with the
 * probe's answer, and scripts/ci-summary.mjs lists it. The checks that emulate nothing always run.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildSmkitImage, docker, layersAboveBase, mustRun, run } from '../../scripts/docker-image.js';
import { buildAssignmentModel } from '../../algorithms/kmeans/onnx-graph.js';
import { encodeNDArrayList } from '../../src/io/mxnet-ndarray.js';
import { skipBecause } from '../helpers/skip.js';
import { CENTERS, freePort, logsOf, startContainer, waitForPing } from './container-helpers.js';
import { ARM64_BASE_IMAGE, BASE_IMAGE, CONTAINER_LABEL, SMKIT_ARM64_IMAGE } from './docker-names.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MB = 1024 * 1024;
/** ELF e_machine values (the little-endian u16 at byte 18). */
const EM_X86_64 = 0x3e;
const EM_AARCH64 = 0xb7;

/** Why this machine cannot run the test, or undefined when it can. */
async function unavailable(): Promise<string | undefined> {
  if (os.arch() !== 'x64') return `a cross build from amd64; this machine is ${os.arch()}`;
  const qemu = await run('bash', [path.join(root, 'scripts/enable-qemu-binfmt.sh')]);
  if (qemu.code !== 0) {
    return `no linux/arm64 base can be built here without qemu binfmt: ${(qemu.stderr || qemu.stdout).trim()}`;
  }
  return undefined;
}

/** Seconds the emulation probe may take (arm64 node and onnxruntime under qemu, on a loaded machine). */
const PROBE_TIMEOUT_S = 240;

/**
 * What the probe runs inside the arm64 image: load the onnxruntime binding, create the k-means
 * assignment session as training does (algorithms/kmeans/math/onnx-assigner.ts), and
 * assign two points to CENTERS. Prints the labels; any crash, hang or wrong answer means "cannot".
 */
const PROBE_SCRIPT = `
const ort = require('onnxruntime-node');
(async () => {
  const session = await ort.InferenceSession.create(require('node:fs').readFileSync('/probe/model.onnx'), {
    intraOpNumThreads: require('node:os').availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const out = await session.run({
    points: new ort.Tensor('float32', Float32Array.from([10, 10, 10, 10, -10, 10, -10, 10]), [2, 4]),
    centers: new ort.Tensor('float32', Float32Array.from(${JSON.stringify(CENTERS.flat())}), [3, 4]),
  });
  console.log(JSON.stringify(Array.from(out.labels.data)));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});`;

/**
 * `docker run` options that bind-mount an arm64 /proc/cpuinfo (Neoverse N1 cores, as a Graviton2 shows,
 * one per host CPU) over the host's x86 one that qemu-user would show the guest.
 */
async function arm64CpuinfoMount(): Promise<string[]> {
  const file = path.join(work, 'cpuinfo-arm64');
  const core = (n: number) =>
    `processor\t: ${n}\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n`;
  await writeFile(file, Array.from({ length: os.availableParallelism() }, (_, n) => core(n)).join(''));
  return ['-v', `${file}:/proc/cpuinfo:ro`];
}

/** The host's CPU model and the qemu that runs arm64 programs, for the skip message. */
async function hostDescription(): Promise<string> {
  const entry = await readFile('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8').catch(() => '');
  const interpreter = /^interpreter (.+)$/m.exec(entry)?.[1];
  // Debian registers a wrapper (aarch64-binfmt-P) that prints no version; qemu-aarch64-static does.
  const versionOf = async (command: string) =>
    (await run(command, ['--version']).catch(() => ({ stdout: '' }))).stdout.split('\n')[0]?.trim();
  const version =
    (await versionOf('qemu-aarch64-static')) || (interpreter ? await versionOf(interpreter) : '');
  return `${version || 'qemu'} on ${os.cpus()[0]?.model ?? 'an unknown CPU'}`;
}

/**
 * Runs `docker ARGS` until it exits, {@link PROBE_TIMEOUT_S} pass, or qemu reports a crash on stderr
 * ("qemu: uncaught target signal"): after that the emulated process hangs instead of exiting, so
 * waiting for it would only cost the timeout. Code 124 means it was stopped (timeout or crash);
 * the caller removes the container.
 */
function probeRun(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const stop = () => child.kill('SIGKILL');
    const timer = setTimeout(stop, PROBE_TIMEOUT_S * 1000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/^qemu: uncaught target signal/m.test(stderr)) stop();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 124, stdout, stderr });
    });
  });
}

/**
 * Why qemu cannot run the arm64 image's node with its native onnxruntime binding on this host, or
 * undefined when it can: runs {@link PROBE_SCRIPT} in the image under qemu; its exit code, within
 * {@link PROBE_TIMEOUT_S}, and the labels it prints decide.
 */
async function emulationUnavailable(): Promise<string | undefined> {
  const probe = path.join(work, 'probe');
  await mkdir(probe, { recursive: true });
  await writeFile(path.join(probe, 'model.onnx'), buildAssignmentModel());
  const name = `smkit-arm64-probe-${process.pid}`;
  const started = Date.now();
  const result = await probeRun([
    'run',
    '--rm',
    '--name',
    name,
    '--label',
    CONTAINER_LABEL,
    '--platform',
    'linux/arm64',
    '--network',
    'none',
    '-v',
    `${probe}:/probe:ro`,
    ...(await arm64CpuinfoMount()),
    '-w',
    '/opt/smkit',
    '--entrypoint',
    'node',
    SMKIT_ARM64_IMAGE,
    '-e',
    PROBE_SCRIPT,
  ]);
  await run('docker', ['rm', '-f', name]);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(
    `arm64 emulation probe: exit ${result.code} after ${seconds} s; stdout ${JSON.stringify(result.stdout.trim())}; stderr ${JSON.stringify(result.stderr.trim().slice(-500))}\n`,
  );
  if (result.code === 0 && result.stdout.trim() === '[1,2]') return undefined;
  const exit =
    result.code === 124
      ? `was stopped (crashed under qemu, or did not finish within ${PROBE_TIMEOUT_S} s)`
      : `exited with ${result.code}${result.code === 139 ? ' (SIGSEGV)' : ''}`;
  const lines = `${result.stderr}\n${result.stdout}`.split('\n').filter((line) => line.trim());
  const said = lines.find((line) => line.startsWith('qemu:')) ?? lines.at(-1) ?? 'nothing';
  return `qemu cannot run this image's arm64 node with its onnxruntime binding on this host (${await hostDescription()}), even with an arm64 /proc/cpuinfo: the probe (load the binding, create the k-means session, assign two points) ${exit}, saying "${said}"`;
}

let skipReason: string | undefined;
let buildSeconds = 0;
let work = '';

beforeAll(async () => {
  skipReason = await unavailable();
  if (skipReason) return;
  work = await mkdtemp(path.join(os.tmpdir(), 'smkit-arm64-'));
  const started = Date.now();
  const history = await buildSmkitImage({
    root,
    tag: SMKIT_ARM64_IMAGE,
    baseTag: ARM64_BASE_IMAGE,
    cross: { arch: 'arm64', buildBaseTag: BASE_IMAGE },
  });
  buildSeconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `\n${SMKIT_ARM64_IMAGE} built in ${buildSeconds.toFixed(0)} s; docker history:\n${history}\n`,
  );
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every regular file under `dir`. */
async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(file);
    else if (entry.isFile()) yield file;
  }
}

/** The ELF e_machine of `file`, or undefined when it is not an ELF file. */
async function elfMachine(file: string): Promise<number | undefined> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(20), 0, 20, 0);
    if (bytesRead < 20 || buffer.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return buffer.readUInt16LE(18);
  } finally {
    await handle.close();
  }
}

describe('docker build --platform linux/arm64 (cross build, no emulated npm)', () => {
  test('the image is linux/arm64, ships only aarch64 native code, and stays within 150 MB above its base', async (ctx) => {
    if (skipReason) skipBecause(ctx, skipReason);
    const [arch, osName] = (
      await docker('image', 'inspect', '--format', '{{.Architecture}} {{.Os}}', SMKIT_ARM64_IMAGE)
    )
      .trim()
      .split(' ');
    expect([arch, osName]).toEqual(['arm64', 'linux']);

    // Read the shipped files without running anything: docker create + docker cp.
    const id = (await docker('create', '--platform', 'linux/arm64', SMKIT_ARM64_IMAGE)).trim();
    try {
      await docker('cp', `${id}:/opt/smkit`, work);
    } finally {
      await docker('rm', id);
    }
    const machines = new Map<string, number>();
    for await (const file of files(path.join(work, 'smkit'))) {
      const machine = await elfMachine(file);
      if (machine !== undefined) machines.set(path.relative(path.join(work, 'smkit'), file), machine);
    }
    const binding = [...machines.keys()].filter((file) => file.endsWith('onnxruntime_binding.node'));
    expect(binding).toEqual([
      'node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node',
    ]);
    expect(machines.get(binding[0]!)).toBe(EM_AARCH64);
    expect([...machines].filter(([, machine]) => machine !== EM_AARCH64)).toEqual([]);
    expect([...machines.values()]).not.toContain(EM_X86_64);
    // A cross build makes no compile cache (V8 bytecode is per architecture).
    await expect(readdir(path.join(work, 'smkit', '.compile-cache'))).rejects.toThrow(/ENOENT/);

    const above = await layersAboveBase(SMKIT_ARM64_IMAGE, ARM64_BASE_IMAGE);
    process.stdout.write(
      `${SMKIT_ARM64_IMAGE}: ${(above / MB).toFixed(1)} MB above ${ARM64_BASE_IMAGE}; ELF files: ${[...machines.keys()].join(', ')}\n`,
    );
    expect(above).toBeLessThanOrEqual(150 * MB);
  });

  test('docker run --platform linux/arm64 IMAGE serve (under qemu) answers /ping and a k-means /invocations', async (ctx) => {
    if (skipReason) skipBecause(ctx, skipReason);
    const cannotEmulate = await emulationUnavailable();
    if (cannotEmulate) skipBecause(ctx, cannotEmulate);
    const model = path.join(work, 'model');
    await mkdir(model, { recursive: true });
    await writeFile(
      path.join(model, 'model_algo-1'),
      encodeNDArrayList({ arrays: [{ shape: [3, 4], data: Float32Array.from(CENTERS.flat()) }], names: [] }),
    );
    const port = await freePort();
    const id = await startContainer(
      [
        '--platform',
        'linux/arm64',
        '--network',
        'host',
        '-v',
        `${model}:/opt/ml/model:ro`,
        '-e',
        `SAGEMAKER_BIND_TO_PORT=${port}`,
        ...(await arm64CpuinfoMount()),
      ],
      ['serve'],
      SMKIT_ARM64_IMAGE,
    );
    try {
      const startMs = await waitForPing(port, id);
      process.stdout.write(`${SMKIT_ARM64_IMAGE} under qemu: first 200 on /ping after ${startMs} ms\n`);
      const ping = await fetch(`http://127.0.0.1:${port}/ping`);
      expect([ping.status, await ping.text()]).toEqual([200, '']);
      const reply = await fetch(`http://127.0.0.1:${port}/invocations`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/csv', Accept: 'text/csv' },
        body: '10,10,10,10\n-10,10,-10,10\n',
      });
      expect([reply.status, reply.headers.get('content-type'), await reply.text()], await logsOf(id)).toEqual(
        [200, 'text/csv', '1.0,0.0\n2.0,0.0\n'],
      );
      const arch = (await docker('exec', id, 'node', '-p', 'process.arch')).trim();
      expect(arch).toBe('arm64');
    } finally {
      await docker('rm', '-f', id);
    }
  });

  test('docker push to a loopback registry stores one Docker v2 manifest whose config says arm64', async (ctx) => {
    if (skipReason) skipBecause(ctx, skipReason);
    await mustRun('bash', [
      '-c',
      'command -v docker-registry >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null)',
    ]);
    const port = await freePort();
    const storage = path.join(work, 'registry');
    const config = path.join(work, 'registry.yml');
    await writeFile(
      config,
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    const registry = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}/v2`;
    try {
      for (let attempt = 0; ; attempt++) {
        const up = await fetch(`${base}/`).then(
          (reply) => reply.ok,
          () => false,
        );
        if (up) break;
        if (attempt > 100) throw new Error(`docker-registry did not answer on 127.0.0.1:${port}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const ref = `127.0.0.1:${port}/smkit:arm64`;
      await docker('tag', SMKIT_ARM64_IMAGE, ref);
      try {
        await docker('push', ref);
      } finally {
        await docker('rmi', ref);
      }
      const reply = await fetch(`${base}/smkit/manifests/arm64`, {
        headers: {
          Accept: [
            'application/vnd.oci.image.index.v1+json',
            'application/vnd.docker.distribution.manifest.list.v2+json',
            'application/vnd.docker.distribution.manifest.v2+json',
          ].join(', '),
        },
      });
      const manifest = (await reply.json()) as { mediaType: string; config: { digest: string } };
      expect([reply.status, manifest.mediaType]).toEqual([
        200,
        'application/vnd.docker.distribution.manifest.v2+json',
      ]);
      const imageConfig = (await (await fetch(`${base}/smkit/blobs/${manifest.config.digest}`)).json()) as {
        architecture: string;
        os: string;
      };
      expect([imageConfig.os, imageConfig.architecture]).toEqual(['linux', 'arm64']);
    } finally {
      registry.kill();
    }
  });
});
