/**
 * Landmark definitions for the Template and Review screens: what a landmark is (the scheme's
 * description, e.g. ISBI's "Centre of the sella turcica" for Sella), and which scheme Template offers
 * first for a project: the ceph scheme for images of the ISBI 2015 size, else the scheme last used,
 * else custom names (not the ceph scheme for a hand or a spine).
 */
import type { ImageEntry, LandmarkSetInfo } from '../../../common/api';
import type { ModeStorage } from '../stores/lastMode';

/** The scheme's description of a landmark, if it has one. */
export function landmarkDescription(sets: readonly LandmarkSetInfo[] | undefined, setId: string | undefined, name: string): string | undefined {
  return sets?.find((s) => s.id === setId)?.descriptions?.[name];
}

/** The ISBI 2015 cephalograms are 1935 × 2400 (W × H). */
const CEPH_SIZE = { width: 1935, height: 2400 } as const;
const STORAGE_KEY = 'ld-studio.lastLandmarkSet';

export function rememberLandmarkSet(storage: ModeStorage | undefined, setId: string): void {
  try {
    storage?.setItem(STORAGE_KEY, setId);
  } catch {
    // disabled storage: the guess will do
  }
}

function lastLandmarkSet(storage: ModeStorage | undefined): string | null {
  try {
    return storage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

/** The scheme Template selects first for a project without a template yet. */
export function defaultLandmarkSet(
  images: ReadonlyArray<Pick<ImageEntry, 'width' | 'height'>>,
  sets: ReadonlyArray<Pick<LandmarkSetInfo, 'id'>>,
  storage: ModeStorage | undefined,
): string {
  const has = (id: string | null): id is string => !!id && sets.some((s) => s.id === id);
  const ceph = images.filter((i) => i.width === CEPH_SIZE.width && i.height === CEPH_SIZE.height).length;
  if (images.length && ceph * 2 > images.length && has('isbi-ceph-19')) return 'isbi-ceph-19';
  const last = lastLandmarkSet(storage);
  if (has(last)) return last;
  return 'custom';
}
