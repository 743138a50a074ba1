/** The workflow's mode ids, apart from their components so that plain modules (and tests) can use them. */
export const MODE_IDS = ['project', 'import', 'train', 'template', 'review', 'segment', 'export'] as const;
export type ModeId = (typeof MODE_IDS)[number];
