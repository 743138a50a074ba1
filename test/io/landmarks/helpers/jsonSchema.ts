/**
 * A small JSON-schema (draft-07) checker for the keywords Slicer's markups schema uses. Keywords it
 * does not know make it throw, so a schema constraint is never skipped silently.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ANNOTATIONS = new Set(['$id', '$schema', 'title', 'description', 'default', 'examples']);
const CHECKED = new Set(['type', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'additionalItems', 'anyOf', 'minItems', 'maxItems', 'minimum', 'maximum']);

const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

function hasType(value: Json, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'null':
      return value === null;
    default:
      throw new Error(`unknown type '${type}' in schema`);
  }
}

/** Problems found, as "path: message"; empty when the value is valid. */
export function validateJson(value: unknown, schema: unknown, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: no value allowed`];
  if (!isObject(schema)) throw new Error(`${path}: schema is not an object`);
  const v = value as Json;
  for (const key of Object.keys(schema)) {
    if (!ANNOTATIONS.has(key) && !CHECKED.has(key)) throw new Error(`schema keyword '${key}' is not supported by this checker`);
  }
  const errors: string[] = [];
  const s = schema as { [key: string]: Json };
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => hasType(v, String(t)))) return [`${path}: expected ${types.join(' or ')}`];
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) errors.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) errors.push(`${path}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && v > s.maximum) errors.push(`${path}: above ${s.maximum}`);
  }
  if (isObject(v)) {
    for (const key of Array.isArray(s.required) ? s.required : []) if (!(String(key) in v)) errors.push(`${path}: missing required '${String(key)}'`);
    const properties = isObject(s.properties) ? s.properties : {};
    for (const [key, item] of Object.entries(v)) {
      const sub = key in properties ? properties[key] : s.additionalProperties ?? true;
      errors.push(...validateJson(item, sub, `${path}.${key}`));
    }
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems) errors.push(`${path}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) errors.push(`${path}: more than ${s.maxItems} items`);
    v.forEach((item, i) => {
      // additionalItems only applies when items is a tuple (an array of schemas)
      const sub = Array.isArray(s.items) ? (i < s.items.length ? s.items[i] : s.additionalItems ?? true) : s.items ?? true;
      errors.push(...validateJson(item, sub, `${path}[${i}]`));
    });
  }
  if (Array.isArray(s.anyOf)) {
    const branches = s.anyOf.map((branch) => validateJson(v, branch, path));
    if (!branches.some((b) => b.length === 0)) errors.push(`${path}: matches none of anyOf (${branches.map((b) => b[0]).join(' | ')})`);
  }
  return errors;
}
