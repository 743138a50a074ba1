/**
 * The mode a project opens in (issue 16: every start opened in Train, even with a review in
 * progress): the mode it was left in, else the workflow's next step.
 */
import { describe, expect, it } from 'vitest';
import type { ImageLandmarks, ProjectSnapshot, RunSummary } from '../../common/api';
import { defaultMode, initialMode, rememberMode, type ModeStorage } from '../../renderer/src/stores/lastMode';

function memoryStorage(): ModeStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

const image = { id: 'img-1', name: 'a.png', path: 'a.png', format: 'png' as const, width: 4, height: 4 };
const predicted: ImageLandmarks = { imageId: 'img-2', points: [{ name: 'a', x: 1, y: 1, status: 'predicted' }], accepted: false, updatedAt: '' };
const project = (over: Partial<ProjectSnapshot> = {}) => ({ dir: '/p', images: [image], runs: [], landmarks: [], template: null, ...over });
const run = {} as RunSummary;

describe('the mode a project opens in', () => {
  it('defaults to the next step: Import, Train, Template, then Review once there are predictions', () => {
    expect(defaultMode(project({ images: [] }))).toBe('import');
    expect(defaultMode(project())).toBe('train');
    expect(defaultMode(project({ runs: [run] }))).toBe('template');
    expect(defaultMode(project({ runs: [run], landmarks: [predicted] }))).toBe('review');
    // the template image's own points are no predictions
    expect(defaultMode(project({ runs: [run], landmarks: [{ ...predicted, imageId: 'img-1' }], template: { imageId: 'img-1', setId: 's', names: ['a'], points: {} } }))).toBe('template');
  });

  it('reopens in the mode the user left, per project folder', () => {
    const storage = memoryStorage();
    rememberMode(storage, '/p', 'review');
    rememberMode(storage, '/q', 'export');
    expect(initialMode(storage, project())).toBe('review');
    expect(initialMode(storage, project({ dir: '/q' }))).toBe('export');
    expect(initialMode(storage, project({ dir: '/other' }))).toBe('train');
  });

  it('survives garbage in the storage, and a storage that is missing or throws', () => {
    const storage = memoryStorage();
    storage.data.set('ld-studio.lastMode', '{"/p": "nonsense", "/q": "review"');
    expect(initialMode(storage, project())).toBe('train');
    storage.data.set('ld-studio.lastMode', JSON.stringify({ '/p': 'nonsense' }));
    expect(initialMode(storage, project())).toBe('train');
    expect(initialMode(undefined, project())).toBe('train');
    const throwing: ModeStorage = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('full'); } };
    expect(() => rememberMode(throwing, '/p', 'review')).not.toThrow();
    expect(initialMode(throwing, project())).toBe('train');
  });

  it('remembers at most 50 projects, forgetting the oldest', () => {
    const storage = memoryStorage();
    for (let i = 0; i < 60; i++) rememberMode(storage, `/p${i}`, 'review');
    rememberMode(storage, '/p10', 'export'); // used again: the newest now
    const kept = Object.keys(JSON.parse(storage.data.get('ld-studio.lastMode')!));
    expect(kept).toHaveLength(50);
    expect(kept).not.toContain('/p0');
    expect(kept[kept.length - 1]).toBe('/p10');
  });
});
