/**
 * Where JSON text stops being JSON, for error messages that never quote the text: V8's own messages
 * do ("Unexpected token 'r', "root:x:0:0"… is not valid JSON"), which would echo a file's content into
 * an error a browser-mode client sees. Node 20 gives no position for most errors, so on failure a
 * small scanner finds where the text stops being JSON.
 */

/** "not valid JSON (at line 3, column 9)", or "… (it ends too early, at …)"; for text JSON.parse refused. */
export function jsonSyntaxError(text: string): string {
  const end = text.trimEnd().length;
  const offset = firstSyntaxErrorOffset(text);
  // a truncated file is reported on its last line of content, not on the empty line after it
  const { line, column } = lineAndColumn(text, Math.min(offset, end));
  return `not valid JSON (${offset >= end ? 'it ends too early, ' : ''}at line ${line}, column ${column})`;
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

/** Offset of the first character where `text` fails to be JSON (text.length when it ends too early). */
export function firstSyntaxErrorOffset(text: string): number {
  let i = 0;
  const fail = (at: number): never => {
    throw at;
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const match = (re: RegExp) => {
    re.lastIndex = i;
    if (!re.test(text)) fail(i);
    i = re.lastIndex;
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail(i);
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) fail(text.length);
    i++;
  };
  const value = (): void => {
    space();
    if (i >= text.length) fail(text.length);
    const c = text[i];
    if (c === '{') return container('}', true);
    if (c === '[') return container(']', false);
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return match(NUMBER);
    return match(LITERAL);
  };
  const container = (close: string, isObject: boolean): void => {
    i++;
    space();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      if (isObject) {
        space();
        if (i >= text.length) fail(text.length);
        if (text[i] !== '"') fail(i);
        string();
        space();
        if (i >= text.length) fail(text.length);
        if (text[i] !== ':') fail(i);
        i++;
      }
      value();
      space();
      if (i >= text.length) fail(text.length);
      if (text[i] === close) {
        i++;
        return;
      }
      if (text[i] !== ',') fail(i);
      i++;
    }
  };
  try {
    value();
    space();
    return i < text.length ? i : text.length;
  } catch (at) {
    if (typeof at === 'number') return at;
    if (at instanceof RangeError) return 0; // nested deeper than the stack: no place to give
    throw at;
  }
}

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether UTF-8 JSON text nests arrays and objects deeper than `maxDepth`, by one pass over the bytes
 * (brackets inside strings do not count; UTF-8 never uses these ASCII bytes inside a multi-byte
 * character). Run before JSON.parse: megabytes of `[` make JSON.parse, and everything that walks
 * its result, hold the thread for seconds.
 */
export function jsonNestsDeeperThan(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++; // the escaped byte cannot end the string
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) depth--;
  }
  return false;
}
