/**
 * RFC 4180 CSV: fields separated by commas, records by CRLF or LF; a field in double quotes may hold
 * commas, line breaks and quotes written twice (""). Image names in the team's data contain spaces,
 * and users' names may contain commas and quotes, so the quoting matters.
 *
 * Text cells that a spreadsheet would run as a formula (leading = + - @, tab or CR; OWASP's CSV
 * injection rule) are written with a leading apostrophe, which spreadsheets show as text; the reader
 * drops that apostrophe again, so names round-trip. Numbers (−0.5) are written as they are.
 *
 * Kept hand-written rather than papaparse or csv-parse: the reader's errors name the line a record
 * starts on and the line where an unclosed quote opened (what a user needs to fix a hand-edited
 * file), and it must know whether a cell was quoted to undo the apostrophe; both libraries report
 * rows, not source lines, and would still need this wrapper. ~110 lines, tested in test/io/landmarks.
 */
import { LandmarkFileError } from './fileError';

export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts (a quoted field may span lines). */
  line: number;
}

/** All records of the text; blank lines are skipped. */
export function parseCsv(text: string, file?: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let quoteOpenedAt = 0;
  let inQuotes = false;
  let wasQuoted = false;

  const endRecord = () => {
    fields.push(restoreCell(field));
    const blank = fields.length === 1 && fields[0] === '' && !wasQuoted;
    if (!blank) records.push({ fields, line: recordLine });
    fields = [];
    field = '';
    wasQuoted = false;
  };

  while (i < text.length) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        i += 1;
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new LandmarkFileError(`unexpected text after a closing quote (a quote inside a quoted field must be written "")`, {
            file,
            line,
          });
        }
        continue;
      }
      if (c === '\n') line += 1;
      field += c;
      i += 1;
      continue;
    }
    if (c === '"') {
      if (field !== '') {
        throw new LandmarkFileError(`a quote inside an unquoted field (quote the whole field and write the quote as "")`, { file, line });
      }
      inQuotes = true;
      wasQuoted = true;
      quoteOpenedAt = line;
      i += 1;
    } else if (c === ',') {
      fields.push(restoreCell(field));
      field = '';
      i += 1;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line += 1;
      recordLine = line;
    } else {
      field += c;
      i += 1;
    }
  }
  if (inQuotes) throw new LandmarkFileError('a quoted field is never closed (missing ")', { file, line: quoteOpenedAt });
  if (field !== '' || fields.length > 0 || wasQuoted) endRecord();
  return records;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A cell a spreadsheet would evaluate, made inert: a leading apostrophe. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) && !NUMBER.test(value) ? `'${value}` : value;
}

function restoreCell(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value.slice(1)) && !NUMBER.test(value.slice(1)) ? value.slice(1) : value;
}

/** One field, made inert if it reads as a formula, quoted only when it has to be. */
export function csvField(raw: string): string {
  const value = neutraliseCell(raw);
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One record with its line ending. LF, as the team's files use; readers accept CRLF too. */
export function csvRecord(values: string[]): string {
  return `${values.map(csvField).join(',')}\n`;
}
