import { execFileSync } from 'node:child_process';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { collectYoungGarbage } from '../../src/util/young-garbage.js';

describe('collectYoungGarbage', () => {
  it('scavenges without leaving a global gc to contexts made afterwards', () => {
    for (let i = 0; i < 3; i++) collectYoungGarbage();
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });

  it('leaves --expose-gc on in a process started with it', () => {
    const module = new URL('../../src/util/young-garbage.ts', import.meta.url).href;
    const code = `const { collectYoungGarbage } = await import(${JSON.stringify(module)});
      collectYoungGarbage();
      const vm = await import('node:vm');
      process.stdout.write(vm.runInNewContext('typeof gc'));`;
    const said = execFileSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code],
      { encoding: 'utf8' },
    );
    expect(said).toBe('function');
  });
});
