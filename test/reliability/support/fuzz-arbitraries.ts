import fc from 'fast-check';
import { FIXTURES } from '../../support/signals.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { EVENT_DETAIL_TYPES, EVENT_TYPES, type EventDetailType } from '../../../lambdas/domain/events.js';
import { PROJECT_ROOT } from '../../../local/build.js';

/* ------------------------------------------------------------------ events */

const emailArb = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,12}$/), fc.constantFrom('example.com', 'corp.example.org')).map(([u, d]) => `${u}@${d}`);
const nhiArb = fc.stringMatching(/^[A-Za-z0-9+=,.@_-]{1,40}$/);
const isoArb = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
const eventIdArb = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/);

const detailArbs: Record<EventDetailType, fc.Arbitrary<Record<string, unknown>>> = {
  'Employee Terminated': fc.record({ employeeId: fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/), email: emailArb, effectiveAt: isoArb, managerEmail: emailArb }, { requiredKeys: ['employeeId', 'email'] }),
  'Owner Changed': fc.record({ nhi: nhiArb, fromEmail: emailArb, toEmail: emailArb }),
  'Credential Exposed': fc.record(
    { nhi: nhiArb, accessKeyId: fc.stringMatching(/^AKIA[A-Z0-9]{16}$/), secretId: nhiArb, severity: fc.constantFrom('low', 'medium', 'high', 'critical') },
    { requiredKeys: ['nhi', 'severity'] },
  ),
  'Reconcile Requested': fc.record({ scope: fc.oneof(fc.constant('all'), fc.record({ owner: emailArb }), fc.record({ nhi: nhiArb })), asOf: isoArb }, { requiredKeys: ['scope'] }),
};

export interface RawEvent {
  id?: unknown;
  source?: unknown;
  'detail-type'?: unknown;
  detail?: unknown;
  [key: string]: unknown;
}

/** A contract-valid event of any of the four types. */
export const validEventArb: fc.Arbitrary<RawEvent> = fc.constantFrom(...EVENT_DETAIL_TYPES).chain((type) =>
  fc.record({ id: eventIdArb, source: fc.constant(EVENT_TYPES[type].source), 'detail-type': fc.constant(type), detail: detailArbs[type] }),
);

/** Values of the wrong JSON type for a string field. */
const wrongTypeArb = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));
/** Characters no IAM/secret name or ARN may hold. */
const badNhiChar = fc.constantFrom(' ', '*', '?', '#', '%', '\n', '\t', '"', "'", '<', '>', '\\', 'é', '名', '\u0000', '\u202e', ';', '|', '$', '{', '}');
const badNhiArb = fc.oneof(
  fc.tuple(nhiArb, badNhiChar, fc.nat()).map(([s, c, i]) => { const at = i % (s.length + 1); return s.slice(0, at) + c + s.slice(at); }),
  fc.constant(''),
  fc.constant('a'.repeat(2049)),
);
const badEmailArb = fc.oneof(
  fc.string({ maxLength: 30 }).filter((s) => !s.includes('@')),
  fc.constantFrom('@', 'a@', '@b.com', 'a b@example.com', 'a@@example.com', 'a@example', '<a@example.com>', 'a@example.com\nBcc: x@evil.com', 'approver@example.com, mallory@evil.com', '"x"@', 'a@-example.com'),
);
const badTimeArb = fc.oneof(fc.constantFrom('yesterday', '2026-13-01T00:00:00Z', '2026-01-01', '2026-01-01T25:00:00Z', '1700000000', '', '2026-01-01T00:00:00'), fc.string({ maxLength: 20 }));

type Mutation = { name: string; apply: (event: RawEvent) => unknown };

function detailOf(event: RawEvent): Record<string, unknown> {
  return { ...(event.detail as Record<string, unknown>) };
}

/** Mutations that each make a valid event invalid under the contract. */
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.string({ maxLength: 30 }).map((s) => ({ name: 'wrong source', apply: (e: RawEvent) => ({ ...e, source: e.source === s ? `${s}x` : s }) })),
  fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('employee terminated', 'Employee Terminated ', 'Employee\nTerminated', 'EmployeeTerminated', '"><script>', 'Credential Exposed\u0000'))
    .filter((s) => !(EVENT_DETAIL_TYPES as string[]).includes(s))
    .map((s) => ({ name: 'unknown detail-type', apply: (e: RawEvent) => ({ ...e, 'detail-type': s }) })),
  wrongTypeArb.map((v) => ({ name: 'detail-type not a string', apply: (e: RawEvent) => ({ ...e, 'detail-type': v }) })),
  fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.boolean()).map((v) => ({ name: 'detail not an object', apply: (e: RawEvent) => ({ ...e, detail: v }) })),
  fc.constant({ name: 'detail missing', apply: (e: RawEvent) => { const { detail: _d, ...rest } = e; return rest; } }),
  fc.nat().map((i) => ({
    name: 'required field dropped',
    apply: (e: RawEvent) => {
      const d = detailOf(e);
      const required = REQUIRED[e['detail-type'] as EventDetailType];
      const dropped = required[i % required.length]!;
      delete d[dropped];
      // Without nhi a Credential Exposed is still valid when it names the key (its user is looked up).
      if (dropped === 'nhi') delete d.accessKeyId;
      return { ...e, detail: d };
    },
  })),
  fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.jsonValue()).filter(([k]) => !ALL_FIELDS.has(k)).map(([k, v]) => ({ name: `unknown field`, apply: (e: RawEvent) => ({ ...e, detail: { ...detailOf(e), [k]: v } }) })),
  fc.tuple(fc.nat(), wrongTypeArb).map(([i, v]) => ({
    name: 'field of the wrong type',
    apply: (e: RawEvent) => {
      const d = detailOf(e);
      const keys = Object.keys(d);
      const key = keys[i % keys.length]!;
      // scope may legitimately be an object: give it a number then.
      d[key] = key === 'scope' && typeof v === 'object' && v !== null && !Array.isArray(v) ? 42 : v;
      return { ...e, detail: d };
    },
  })),
  badEmailArb.map((bad) => ({
    name: 'bad email',
    apply: (e: RawEvent) => {
      const d = detailOf(e);
      const type = e['detail-type'] as EventDetailType;
      if (type === 'Employee Terminated') d.email = bad;
      else if (type === 'Owner Changed') d.toEmail = bad;
      else if (type === 'Reconcile Requested') d.scope = { owner: bad };
      else d.severity = 'urgent';
      return { ...e, detail: d };
    },
  })),
  badNhiArb.map((bad) => ({
    name: 'bad nhi',
    apply: (e: RawEvent) => {
      const d = detailOf(e);
      const type = e['detail-type'] as EventDetailType;
      if (type === 'Employee Terminated') d.employeeId = '';
      else if (type === 'Reconcile Requested') d.scope = { nhi: bad };
      else d.nhi = bad;
      return { ...e, detail: d };
    },
  })),
  badTimeArb.map((bad) => ({
    name: 'bad time',
    apply: (e: RawEvent) => {
      const d = detailOf(e);
      const type = e['detail-type'] as EventDetailType;
      if (type === 'Employee Terminated') d.effectiveAt = bad;
      else if (type === 'Reconcile Requested') d.asOf = bad;
      else if (type === 'Credential Exposed') d.accessKeyId = `akia${bad}`.toLowerCase();
      else d.fromEmail = '';
      return { ...e, detail: d };
    },
  })),
  fc.oneof(fc.string({ maxLength: 20 }).filter((s) => !/^[\w.:-]{1,128}$/.test(s)), wrongTypeArb, fc.constant('x'.repeat(129))).map((bad) => ({ name: 'bad detail.eventId', apply: (e: RawEvent) => ({ ...e, detail: { ...detailOf(e), eventId: bad } }) })),
  fc.oneof(fc.constantFrom('', 'a b', 'id/with/slash', '../../etc', 'x'.repeat(129), 'id\nnext'), wrongTypeArb.filter((v) => v !== null)).map((bad) => ({ name: 'bad envelope id', apply: (e: RawEvent) => ({ ...e, id: bad }) })),
  fc.string({ maxLength: 20 }).map((bad) => ({ name: 'bad envelope time', apply: (e: RawEvent) => ({ ...e, time: `${bad}x` }) })),
  fc.constantFrom('SEVERE', 'Urgent', 'crit', '9', '').map((severity) => ({ name: 'severity unknown', apply: (e: RawEvent) => ({ ...e, source: 'security.findings', 'detail-type': 'Credential Exposed', detail: { nhi: 'svc', severity } }) })),
  fc.constant({ name: 'scope both', apply: (e: RawEvent) => ({ ...e, source: 'nhigov', 'detail-type': 'Reconcile Requested', detail: { scope: { owner: 'a@example.com', nhi: 'svc' } } }) }),
  fc.constant({ name: 'prototype pollution', apply: (e: RawEvent) => JSON.parse(`{"id":"p1","source":${JSON.stringify(e.source)},"detail-type":${JSON.stringify(e['detail-type'])},"detail":{"__proto__":{"polluted":true}}}`) }),
  fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 3 })).map((v) => ({ name: 'not an object', apply: () => v })),
);

const REQUIRED: Record<EventDetailType, string[]> = {
  'Employee Terminated': ['employeeId', 'email'],
  'Owner Changed': ['nhi', 'fromEmail', 'toEmail'],
  'Credential Exposed': ['nhi', 'severity'],
  'Reconcile Requested': ['scope'],
};
const ALL_FIELDS = new Set(['employeeId', 'email', 'effectiveAt', 'managerEmail', 'nhi', 'fromEmail', 'toEmail', 'accessKeyId', 'secretId', 'severity', 'scope', 'asOf', 'eventId', '__proto__']);

/** An event that the contract refuses, with the mutation that broke it. */
export const invalidEventArb: fc.Arbitrary<{ mutation: string; event: unknown }> = fc.tuple(validEventArb, mutationArb).map(([event, m]) => ({ mutation: m.name, event: m.apply(event) }));

/** Invalid events that still route on the bus (their source and detail-type are right): only the detail is bad. */
export const routableInvalidEventArb: fc.Arbitrary<{ mutation: string; event: RawEvent }> = invalidEventArb.filter(({ event }) => {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return false;
  const e = event as RawEvent;
  const type = e['detail-type'];
  return typeof type === 'string' && (EVENT_DETAIL_TYPES as string[]).includes(type) && e.source === EVENT_TYPES[type as EventDetailType].source && e.detail !== undefined && (e.id === undefined || (typeof e.id === 'string' && /^[\w.:-]{1,128}$/.test(e.id))) && !('time' in e);
}) as fc.Arbitrary<{ mutation: string; event: RawEvent }>;

/* ------------------------------------------------------------------ policies */

export const DEFAULT_POLICY_TEXT = readFileSync(path.join(PROJECT_ROOT, 'policy', 'default-policy.yaml'), 'utf8');
export function defaultPolicyObject(): Record<string, any> {
  return parseYaml(DEFAULT_POLICY_TEXT) as Record<string, any>;
}

/** Every path (array of keys) to a leaf or object in the default policy. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))].filter((p) => p.length > 0);
}
const POLICY_PATHS = pathsOf(defaultPolicyObject());
/** Paths whose value may be any string: changing its type is always an error, but not its content. */
const FREE_STRING = new Set(['name', 'description']);

function setAt(root: Record<string, any>, keys: string[], value: unknown): void {
  let node: any = root;
  for (const key of keys.slice(0, -1)) node = node[key];
  node[keys.at(-1)!] = value;
}
function deleteAt(root: Record<string, any>, keys: string[]): void {
  let node: any = root;
  for (const key of keys.slice(0, -1)) node = node[key];
  if (Array.isArray(node)) node.splice(Number(keys.at(-1)), 1);
  else delete node[keys.at(-1)!];
}

/** Keys the policy may leave out (a default applies, or the feature is off): dropping them is no error. */
const OPTIONAL_POLICY_PATHS = ['approval.slackUserIds', 'approval.rules', 'triggers.credentialExposed.containFirstMinSeverity'];
const isOptionalPolicyPath = (p: readonly string[]): boolean => OPTIONAL_POLICY_PATHS.some((optional) => p.join('.').startsWith(optional));

export interface PolicyMutation {
  readonly mutation: string;
  /** The top-level key the mutation broke: the message must name it. */
  readonly path: string;
  readonly policy: Record<string, any>;
}

/** A structurally broken variant of the default policy (as an object, to be written as YAML or JSON). */
export const invalidPolicyObjectArb: fc.Arbitrary<PolicyMutation> = fc.oneof(
  // drop a required key (every key of the default policy is required except description, list items and the optional keys below)
  fc.constantFrom(...POLICY_PATHS.filter((p) => p[0] !== 'description' && !/^\d+$/.test(p.at(-1)!) && !isOptionalPolicyPath(p) && !(p[0] === 'approval' && p[1] === 'requiredForTags' && p.length > 2) && !(p[0] === 'approval' && p[1] === 'groups' && p.length > 2 && p[2] !== 'iam-approvers'))).map((p) => {
    const policy = defaultPolicyObject();
    deleteAt(policy, p);
    return { mutation: `drop ${p.join('.')}`, path: p[0]!, policy };
  }),
  // a leaf of the wrong type
  fc.tuple(fc.constantFrom(...POLICY_PATHS.filter((p) => !FREE_STRING.has(p.join('.')))), fc.oneof(fc.constant(null), fc.constant([]), fc.constant({ nested: true }), fc.integer({ min: -5, max: 0 }), fc.double({ noNaN: true, min: 0.1, max: 0.9 }), fc.constant('ninety'))).map(([p, v]) => {
    const policy = defaultPolicyObject();
    const original = p.reduce((n: any, k) => n[k], policy);
    // A value equal in type to the original would not be an error (e.g. replacing a string with a string).
    const value = typeof original === 'string' && typeof v === 'string' ? 42 : Array.isArray(original) && Array.isArray(v) ? 'not-a-list' : original !== null && typeof original === 'object' && !Array.isArray(original) && typeof v === 'object' && v !== null && !Array.isArray(v) ? 7 : v;
    setAt(policy, p, value);
    return { mutation: `${p.join('.')} = ${JSON.stringify(value)}`, path: p[0]!, policy };
  }),
  // an unknown key anywhere an object is
  fc.tuple(fc.constantFrom(...[[], ...POLICY_PATHS].filter((p) => { const v = p.reduce((n: any, k) => n?.[k], defaultPolicyObject()); return v && typeof v === 'object' && !Array.isArray(v) && !['requiredForTags', 'groups'].includes(p.at(-1) ?? ''); })), fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue()).map(([p, key, v]) => {
    const policy = defaultPolicyObject();
    const node = p.reduce((n: any, k) => n[k], policy);
    const k = key in node ? `${key}_extra` : key;
    node[k] = v;
    return { mutation: `unknown key ${[...p, k].join('.')}`, path: p[0] ?? k, policy };
  }).filter((m) => m.mutation !== 'unknown key description' && m.path !== '__proto__'),
  // semantic errors
  fc.constantFrom(
    { mutation: 'group not defined', path: 'approval', change: (p: any) => { p.approval.group = 'nobody'; } },
    { mutation: 'approver not an email', path: 'approval', change: (p: any) => { p.approval.groups['iam-approvers'] = ['approver']; } },
    { mutation: 'empty approver group', path: 'approval', change: (p: any) => { p.approval.groups['iam-approvers'] = []; } },
    { mutation: 'timeout of a century', path: 'approval', change: (p: any) => { p.approval.timeoutSeconds = 100 * 365 * 24 * 3600; } },
    { mutation: 'verify timeout too long', path: 'failureHandling', change: (p: any) => { p.failureHandling.verifyTimeoutSeconds = 100_000; } },
    { mutation: 'concurrency 0', path: 'apply', change: (p: any) => { p.apply.maxConcurrency = 0; } },
    { mutation: 'unknown action', path: 'triggers', change: (p: any) => { p.triggers.employeeTerminated.users = ['deleteUser']; } },
    { mutation: 'bad exemption expiry', path: 'exemptions', change: (p: any) => { p.exemptions = [{ nhi: 'svc', reason: 'r', ticket: 'T-1', approver: 'a@example.com', expiresAt: 'next week' }]; } },
    { mutation: 'exemption without ticket', path: 'exemptions', change: (p: any) => { p.exemptions = [{ nhi: 'svc', reason: 'r', approver: 'a@example.com', expiresAt: '2030-01-01T00:00:00Z' }]; } },
    { mutation: 'wrong apiVersion', path: 'apiVersion', change: (p: any) => { p.apiVersion = 'nhigov/v2'; } },
    { mutation: 'route not an email', path: 'routes', change: (p: any) => { p.routes.security = 'pager'; } },
    { mutation: 'fractional days', path: 'thresholds', change: (p: any) => { p.thresholds.inactivityDays = 0.5; } },
    { mutation: 'infinite days', path: 'thresholds', change: (p: any) => { p.thresholds.maxKeyAgeDays = 1e400; } },
  ).map(({ mutation, path: p, change }) => {
    const policy = defaultPolicyObject();
    change(policy);
    return { mutation, path: p, policy };
  }),
);

/** Text that is not a policy: random, binary-ish, YAML oddities. */
export const garbagePolicyTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '',
    '   \n\n',
    '---\n...\n',
    '~',
    'null',
    '[]',
    '- a\n- b\n',
    'apiVersion: nhigov/v1\napiVersion: nhigov/v1\n',
    // a billion-laughs alias bomb
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n',
    'x: !!js/function "function(){return 1}"\n',
    'x: !!binary aGVsbG8=\n',
    'x: !custom tag\n',
    '<<: *undefined_alias\n',
    `${'['.repeat(5000)}${']'.repeat(5000)}`,
    `${'a:\n '.repeat(2000)}x`,
    '\uFEFFapiVersion: nhigov/v1\n',
    'apiVersion: "nhigov/v1\n',
    '\t- tab indented\n',
    'key: value\n  bad indent: x\n',
    '%YAML 9.9\n---\na: 1\n',
    '{"__proto__": {"polluted": true}}',
  ),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 8 })).map(([at, s]) => {
    // the default policy with bytes spliced in at a random place
    const i = at % DEFAULT_POLICY_TEXT.length;
    return DEFAULT_POLICY_TEXT.slice(0, i) + s + DEFAULT_POLICY_TEXT.slice(i);
  }),
);

/* ------------------------------------------------------------------ approval forms */

export interface LinkFieldsForm {
  approver: string;
  exp: string;
  via: string;
  sig: string;
  decision: string;
  comment: string;
}

/* ------------------------------------------------------------------ provider signals */

function fixture(name: keyof typeof FIXTURES): RawEvent & { detail: Record<string, any> } {
  return JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'events', FIXTURES[name]), 'utf8'));
}

const keyArb = fc.stringMatching(/^AKIA[A-Z0-9]{16}$/);
const userNameArb = fc.stringMatching(/^[A-Za-z0-9+=,.@_-]{1,40}$/);
const arnArb = fc.tuple(fc.constantFrom('user', 'role'), userNameArb).map(([type, name]) => `arn:aws:iam::123456789012:${type}/${name}`);

/** A provider's documented sample with its ids, keys, names and severity varied: each must yield triggers. */
export const validSignalArb: fc.Arbitrary<RawEvent> = fc.oneof(
  fc.tuple(fc.array(keyArb, { minLength: 1, maxLength: 4 }), fc.stringMatching(/^[A-Z0-9_]{1,30}$/)).map(([keys, suffix]) => {
    const e = fixture('health');
    e.detail.eventArn = `arn:aws:health:us-east-1::event/AWS_RISK_CREDENTIALS_EXPOSED_${suffix}`;
    e.detail.affectedEntities = keys.map((entityValue) => ({ entityValue }));
    return e;
  }),
  fc.tuple(fc.double({ min: 0, max: 10, noNaN: true }), fc.boolean(), keyArb, userNameArb, fc.stringMatching(/^[a-f0-9]{32}$/)).map(([severity, temporary, key, userName, id]) => {
    const e = fixture('guardDuty');
    e.detail.severity = severity;
    e.detail.id = id;
    e.detail.resource = { resourceType: 'AccessKey', accessKeyDetails: temporary ? { accessKeyId: key.replace(/^AKIA/, 'ASIA'), userType: 'AssumedRole', userName } : { accessKeyId: key, userType: 'IAMUser', userName } };
    return e;
  }),
  fc.tuple(arnArb, fc.constantFrom('UnusedIAMUserAccessKey', 'UnusedIAMUserPassword', 'UnusedIAMRole', 'UnusedPermission'), fc.uuid(), isoArb).map(([resource, findingType, findingId, analyzedAt]) => {
    const e = fixture('accessAnalyzer');
    Object.assign(e.detail, { resource, findingType, findingId, analyzedAt, updatedAt: analyzedAt });
    return e;
  }),
  fc.tuple(fc.array(arnArb, { minLength: 1, maxLength: 4 }), fc.uuid()).map(([arns, id]) => {
    const e = fixture('securityHub');
    const [finding] = e.detail.findings;
    finding.Id = `arn:aws:securityhub:us-east-1:123456789012:security-control/IAM.3/finding/${id}`;
    finding.Resources = arns.map((Id) => ({ Type: Id.includes(':user/') ? 'AwsIamUser' : 'AwsIamRole', Id }));
    return e;
  }),
  fc.tuple(emailArb, fc.uuid(), fc.stringMatching(/^[a-z0-9-]{1,20}$/)).map(([email, uuid, org]) => {
    const e = fixture('okta');
    e.source = `aws.partner/okta.com/${org}/system-log`;
    e.detail.uuid = uuid;
    e.detail.target = [{ id: '00u1', type: 'User', alternateId: email }];
    return e;
  }),
);

/** A valid provider event broken somewhere in its detail: refused or ignored, never thrown. */
export const brokenSignalArb: fc.Arbitrary<{ mutation: string; event: unknown }> = fc.tuple(validSignalArb, fc.jsonValue(), fc.nat()).map(([event, value, i]) => {
  const detail = { ...(event.detail as Record<string, unknown>) };
  const keys = Object.keys(detail);
  const key = keys[i % keys.length] ?? 'x';
  const mutation = i % 3 === 0 ? 'field replaced' : i % 3 === 1 ? 'field dropped' : 'detail replaced';
  if (mutation === 'field replaced') detail[key] = value;
  else if (mutation === 'field dropped') delete detail[key];
  return { mutation: `${mutation} (${key})`, event: { ...event, detail: mutation === 'detail replaced' ? value : detail } };
});
