/**
 * The Import mode's path field after an import (issue 16: an import error cleared it, so a typo had to
 * be typed again): failed paths stay for fixing; paths that imported cleanly go.
 */
import { describe, expect, it } from 'vitest';
import { pathsToKeep } from '../../renderer/src/modes/importField';

describe('pathsToKeep', () => {
  it('keeps a mistyped path (not found) and clears the ones that worked', () => {
    const typed = ['/data/hand', '/data/hnad/3167.png'];
    const failed = [{ path: '/data/hnad/3167.png', reason: 'not found; check the path' }];
    expect(pathsToKeep(typed, failed)).toEqual(['/data/hnad/3167.png']);
  });

  it('keeps a folder in which something failed, matched past trailing separators and blanks', () => {
    expect(pathsToKeep([' /data/cr/ '], [{ path: '/data/cr/broken.dcm', reason: 'not a DICOM file' }])).toEqual([' /data/cr/ ']);
    expect(pathsToKeep(['C:\\scans\\'], [{ path: 'C:\\scans\\a.dcm', reason: 'x' }])).toEqual(['C:\\scans\\']);
    // a sibling whose name merely starts the same is not inside
    expect(pathsToKeep(['/data/cr'], [{ path: '/data/cr2/a.dcm', reason: 'x' }])).toEqual([]);
  });

  it('clears the field when nothing failed', () => {
    expect(pathsToKeep(['/data/hand'], [])).toEqual([]);
  });
});
