/** Data pipeline for LD pre-training: preparation, online augmentation, batch assembly (pure TypeScript). */
export * from './prepare';
export * from './resample';
export * from './augment';
export * from './batch';
