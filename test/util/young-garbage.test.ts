import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { collectYoungGarbage } from '../../src/util/young-garbage.js';

describe('collectYoungGarbage', () => {
  it('scavenges without leaving a global gc to contexts made afterwards', () => {
    for (let i = 0; i < 3; i++) collectYoungGarbage();
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
