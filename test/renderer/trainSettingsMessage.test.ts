/** The Train mode's reason for a disabled Start (issue 16: it said "marked below" of fields above the button). */
import { describe, expect, it } from 'vitest';
import { invalidSettingsMessage } from '../../renderer/src/modes/train/settingsMessage';

describe('invalidSettingsMessage', () => {
  it('points above and names the fields', () => {
    expect(invalidSettingsMessage(['Batch (pairs)'])).toBe('Fix the setting marked in red above: Batch (pairs).');
    expect(invalidSettingsMessage(['Steps', 'Image size (px)'])).toBe('Fix the settings marked in red above: Steps, Image size (px).');
    expect(invalidSettingsMessage(['Steps'])).not.toMatch(/below/);
  });
});
