import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The team's real data lives beside the checkout (../shared/data) and is read in place, never copied.
 * LD_STUDIO_DATA overrides the location. Tests that need it skip with this message when it is absent.
 */
export const sharedDataDir = resolve(process.env.LD_STUDIO_DATA ?? resolve(__dirname, '../../../shared/data'));
export const hasSharedData = existsSync(sharedDataDir);
export const sharedDataSkipReason = `real data folder not found at ${sharedDataDir} (set LD_STUDIO_DATA to its location)`;
export const dataPath = (...parts: string[]) => resolve(sharedDataDir, ...parts);

if (!hasSharedData) console.warn(`[skip] ${sharedDataSkipReason}`);
