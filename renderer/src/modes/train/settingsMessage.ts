/**
 * Why the Start button is disabled when settings are invalid. The fields are above the button (which
 * stays in view at the bottom of the window), so the message says "above" and names them: in a long
 * form the red marks alone are easy to miss.
 */
export function invalidSettingsMessage(fieldLabels: readonly string[]): string {
  const which = fieldLabels.length === 1 ? 'the setting' : 'the settings';
  return `Fix ${which} marked in red above: ${fieldLabels.join(', ')}.`;
}
