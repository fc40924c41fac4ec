import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Approval links (docs/approval-api.md). A link names a random approval id (a
 * nonce: the table keys the request, and the task token it holds, by the nonce's sha256), the
 * approver it was made for, its expiry and the channel it travelled through; an HMAC over those
 * fields makes it unforgeable. The task token is never part of a link.
 */

/** How a decision reached the API: the link's channel, recorded as evidence. */
export const APPROVAL_CHANNELS = ['email', 'slack', 'cli', 'web'] as const;
export type ApprovalChannel = (typeof APPROVAL_CHANNELS)[number];

/** A link's channel when it does not name one (a hand-made link, the contract's minimal form). */
export const DEFAULT_CHANNEL: ApprovalChannel = 'web';

/** Bytes of randomness in an approval id (144 bits: 24 base64url characters). */
const APPROVAL_ID_BYTES = 18;
const APPROVAL_ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
const SIGNATURE_DOMAIN = 'nhigov-approval-link/v1';

export interface ApprovalLinkFields {
  /** The random approval id of the link's path (never the task token, never its table key). */
  readonly approvalId: string;
  /** The approver the link was made for (normalized: trimmed, lower case). */
  readonly approver: string;
  /** Expiry, epoch seconds: the approval task's deadline. */
  readonly exp: number;
  readonly channel: ApprovalChannel;
}

export interface SignedApprovalLink extends ApprovalLinkFields {
  /** base64url HMAC-SHA256 of the fields. */
  readonly sig: string;
}

/** A fresh approval id: 144 random bits, base64url. */
export function newApprovalId(): string {
  return randomBytes(APPROVAL_ID_BYTES).toString('base64url');
}

export function isApprovalId(value: string): boolean {
  return APPROVAL_ID_PATTERN.test(value);
}

/** The approvals table key of an approval id: its sha256 (hex). */
export function approvalKeyOf(approvalId: string): string {
  return createHash('sha256').update(approvalId, 'utf8').digest('hex');
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function isApprovalChannel(value: unknown): value is ApprovalChannel {
  return typeof value === 'string' && (APPROVAL_CHANNELS as readonly string[]).includes(value);
}

/**
 * The signature domain of one attestation campaign's links: the same key signs them, and a link
 * signed for one use (an approval, another campaign) is not valid for another.
 */
export function attestationLinkDomain(campaignId: string): string {
  return `nhigov-attestation-link/v1:${campaignId}`;
}

/** The exact bytes the signature covers: a domain tag and every field, one per line. */
export function linkSigningPayload(fields: ApprovalLinkFields, domain: string = SIGNATURE_DOMAIN): string {
  return [domain, fields.approvalId, normalizeEmail(fields.approver), String(fields.exp), fields.channel].join('\n');
}

export function signApprovalLink(key: Uint8Array | string, fields: ApprovalLinkFields, domain: string = SIGNATURE_DOMAIN): SignedApprovalLink {
  const sig = createHmac('sha256', key).update(linkSigningPayload(fields, domain), 'utf8').digest('base64url');
  return { ...fields, approver: normalizeEmail(fields.approver), sig };
}

/** Constant-time check of a link's signature; any malformed input is simply not valid. */
export function verifyApprovalLinkSignature(key: Uint8Array | string, link: SignedApprovalLink, domain: string = SIGNATURE_DOMAIN): boolean {
  if (!Number.isSafeInteger(link.exp) || !isApprovalChannel(link.channel) || typeof link.sig !== 'string') return false;
  const expected = Buffer.from(signApprovalLink(key, link, domain).sig, 'base64url');
  const given = Buffer.from(link.sig, 'base64url');
  // base64url decoding ignores stray characters: compare the canonical re-encoding too.
  if (given.length !== expected.length || given.toString('base64url') !== link.sig) return false;
  return timingSafeEqual(given, expected);
}

/** `BASE/approvals/{approvalId}?approver=…&exp=…&via=…&sig=…` */
export function approvalLinkUrl(baseUrl: string, link: SignedApprovalLink): string {
  const query = new URLSearchParams({ approver: link.approver, exp: String(link.exp), via: link.channel, sig: link.sig });
  return `${baseUrl.replace(/\/+$/, '')}/approvals/${encodeURIComponent(link.approvalId)}?${query.toString()}`;
}

/** `BASE/attestations/{campaignId}/{nonce}?approver=…&exp=…&via=…&sig=…`: an owner's attestation page. */
export function attestationLinkUrl(baseUrl: string, campaignId: string, link: SignedApprovalLink): string {
  const query = new URLSearchParams({ approver: link.approver, exp: String(link.exp), via: link.channel, sig: link.sig });
  return `${baseUrl.replace(/\/+$/, '')}/attestations/${encodeURIComponent(campaignId)}/${encodeURIComponent(link.approvalId)}?${query.toString()}`;
}

/**
 * Reads a link's fields from a query string or a form: `sig`, `exp`, `approver` (the contract's
 * fields) and `via` (the channel; absent means DEFAULT_CHANNEL). Null when a field is missing or
 * malformed: such a request is a bad link.
 */
export function parseLinkFields(approvalId: string, fields: { get(name: string): string | null }): SignedApprovalLink | null {
  const sig = fields.get('sig');
  const expText = fields.get('exp');
  const approver = fields.get('approver');
  const via = fields.get('via') ?? DEFAULT_CHANNEL;
  if (!sig || !expText || !approver || !/^\d{1,12}$/.test(expText) || !isApprovalChannel(via) || !isApprovalId(approvalId)) return null;
  return { approvalId, approver: normalizeEmail(approver), exp: Number(expText), channel: via, sig };
}

const CALLER_IDENTITY = /^arn:aws[a-z-]*:(?:iam|sts)::\d{12}:[\w+=,.@/-]{1,1900}$/;

/**
 * The AWS identity a client says posted a decision (`nhigov approve` sends its
 * sts:GetCallerIdentity ARN): recorded beside the approver, never trusted for authorization
 * (the signed link decides who may approve). Anything but an IAM/STS ARN is dropped.
 */
export function parseCallerIdentity(value: string | null): string | undefined {
  const trimmed = value?.trim() ?? '';
  return CALLER_IDENTITY.test(trimmed) ? trimmed : undefined;
}
