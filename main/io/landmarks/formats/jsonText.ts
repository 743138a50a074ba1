/** JSON.parse with the place of a syntax error (main/io/jsonSyntax.ts), never quoting the text. */
import { firstSyntaxErrorOffset, lineAndColumn } from '../../jsonSyntax';
import { LandmarkFileError } from './fileError';

export function parseJsonText(text: string, file?: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const end = text.trimEnd().length;
    const offset = firstSyntaxErrorOffset(text);
    // a truncated file is reported on its last line of content, not on the empty line after it
    const { line, column } = lineAndColumn(text, Math.min(offset, end));
    const reason = offset >= end ? 'the JSON text ends too early (truncated file?)' : 'invalid JSON';
    throw new LandmarkFileError(reason, { file, line, column });
  }
}
