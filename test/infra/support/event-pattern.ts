/**
 * EventBridge pattern matching, the subset our patterns can use: exact values, nested objects,
 * and the `prefix`, `exists` and `anything-but` filters
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html).
 */
type JsonObject = Readonly<Record<string, unknown>>;

export function matchesPattern(pattern: JsonObject, event: JsonObject): boolean {
  return Object.entries(pattern).every(([key, rule]) => matchField(rule, event[key]));
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchField(rule: unknown, value: unknown): boolean {
  if (Array.isArray(rule)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    return rule.some((candidate) => (isObject(candidate) && 'exists' in candidate ? candidate['exists'] === (value !== undefined) : values.some((v) => matchValue(candidate, v))));
  }
  // A field inside an array of objects matches when it does in any element (Security Hub's findings[].Resources[]).
  if (isObject(rule)) return Array.isArray(value) ? value.some((v) => isObject(v) && matchesPattern(rule, v)) : isObject(value) && matchesPattern(rule, value);
  throw new Error(`pattern leaves must be arrays, got ${JSON.stringify(rule)}`);
}

function matchValue(candidate: unknown, value: unknown): boolean {
  if (value === undefined) return false;
  if (!isObject(candidate)) return candidate === value;
  if ('prefix' in candidate) return typeof value === 'string' && typeof candidate['prefix'] === 'string' && value.startsWith(candidate['prefix']);
  if ('anything-but' in candidate) {
    const excluded = candidate['anything-but'];
    return !(Array.isArray(excluded) ? excluded : [excluded]).includes(value);
  }
  return false;
}
