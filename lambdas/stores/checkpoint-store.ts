import { GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectCommand, S3Client, type ListObjectVersionsCommandOutput } from '@aws-sdk/client-s3';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatIssues } from '../domain/events.js';
import {
  CHECKPOINT_INDEX_PREFIX,
  CHECKPOINT_PREFIX,
  checkpointHash,
  checkpointIndexKey,
  checkpointKey,
  checkpointNumberOfIndexKey,
  checkpointNumberOfKey,
  checkpointPublicKey,
  checkpointSignatureHolds,
  checkpointStatement,
  signedCheckpointSchema,
  type CheckpointBody,
  type SignedCheckpoint,
} from '../domain/checkpoint.js';
import { AppError } from '../domain/reasons.js';
import { mapBounded } from '../lib/map-bounded.js';

export interface CheckpointLocation {
  readonly bucket: string;
  /** The KMS key (ARN) checkpoints are signed with. */
  readonly keyArn: string;
}

/** One checkpoint object as found in the bucket. */
export interface StoredCheckpoint {
  readonly key: string;
  /** The checkpoint, or why it could not be read. */
  readonly checkpoint: SignedCheckpoint | { readonly unreadable: string };
  /** More than one version under the key: someone wrote over it (the first version is the one read). */
  readonly overwritten: boolean;
}

/** How long a writer keeps losing numbers to others before it gives up (TARGET_UNAVAILABLE, retried by the workflow); inside the 60 s Lambda timeout. */
const WRITE_DEADLINE_MS = 30_000;

/**
 * Checkpoints in S3 (Object Lock, compliance mode: nobody can delete or shorten the retention of
 * one), signed with a KMS asymmetric key. Each is put with `If-None-Match: *` on the key of its
 * number, so of two concurrent writers one wins the number and the other retries with the next.
 */
export class CheckpointStore {
  private publicKey: Promise<KeyObject> | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly kms: KMSClient,
    private readonly location: CheckpointLocation,
  ) {}

  /** The latest checkpoint (the first key of the listing: keys count down), verified; null when there is none. */
  async latest(): Promise<SignedCheckpoint | null> {
    const out = await this.s3.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: CHECKPOINT_PREFIX, MaxKeys: 1 }));
    const key = out.Contents?.[0]?.Key;
    if (!key) return null;
    const checkpoint = parseCheckpoint(await this.read(key), key);
    if (!checkpointSignatureHolds(checkpoint, await this.key())) throw new AppError('POLICY_INVALID', `checkpoint ${key} does not verify with the checkpoint key`);
    return checkpoint;
  }

  /** Appends the checkpoint `build` makes from the latest one; retries with the next number when another writer took it. */
  async append(build: (previous: SignedCheckpoint | null) => CheckpointBody | Promise<CheckpointBody>): Promise<SignedCheckpoint> {
    const deadline = Date.now() + WRITE_DEADLINE_MS;
    for (let attempt = 1; ; attempt += 1) {
      const previous = await this.latest();
      const body = await build(previous);
      const signed = await this.sign(body);
      try {
        await this.s3.send(
          new PutObjectCommand({ Bucket: this.location.bucket, Key: checkpointKey(body.number), Body: JSON.stringify(signed), ContentType: 'application/json', IfNoneMatch: '*' }),
        );
        await this.index(body);
        return signed;
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error;
        if (Date.now() > deadline) throw new AppError('TARGET_UNAVAILABLE', `writing checkpoint ${body.number}: ${attempt} numbers taken by other writers in ${WRITE_DEADLINE_MS / 1000}s`);
        // A short jitter that does not grow: a backoff growing with each loss starves the writer that lost most.
        await sleep(Math.random() * 10);
      }
    }
  }

  /** Best effort: a missing marker only makes one change's view miss a checkpoint; `evidence verify` reads them all. */
  private async index(body: CheckpointBody): Promise<void> {
    const ids = [...new Set(body.heads.map((h) => h.changeId))];
    await mapBounded(ids, 8, (changeId) =>
      this.s3.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: checkpointIndexKey(changeId, body.number), Body: String(body.number), IfNoneMatch: '*' })).catch(() => undefined),
    );
  }

  /** The checkpoints that name one change (through the by-change markers), oldest first, each verified; unreadable or unsigned ones are skipped. */
  async forChange(changeId: string): Promise<SignedCheckpoint[]> {
    const numbers: number[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: `${CHECKPOINT_INDEX_PREFIX}${changeId}/`, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const number = object.Key ? checkpointNumberOfIndexKey(object.Key) : null;
        if (number !== null) numbers.push(number);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const key = await this.key();
    const found = await mapBounded(numbers.sort((a, b) => a - b), 8, async (number) => {
      try {
        const checkpoint = parseCheckpoint(await this.read(checkpointKey(number)), checkpointKey(number));
        return checkpointSignatureHolds(checkpoint, key) ? [checkpoint] : [];
      } catch {
        return [];
      }
    });
    return found.flat();
  }

  private async sign(body: CheckpointBody): Promise<SignedCheckpoint> {
    const hash = checkpointHash(body);
    const out = await this.kms.send(new SignCommand({ KeyId: this.location.keyArn, Message: checkpointStatement(hash), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
    if (!out.Signature) throw new AppError('TARGET_UNAVAILABLE', 'KMS returned no signature');
    return { body, hash, keyId: out.KeyId ?? this.location.keyArn, signature: Buffer.from(out.Signature).toString('base64') };
  }

  /** The public half of the checkpoint key (KMS GetPublicKey): all a verifier needs. */
  key(): Promise<KeyObject> {
    this.publicKey ??= this.kms.send(new GetPublicKeyCommand({ KeyId: this.location.keyArn })).then((out) => {
      if (!out.PublicKey) throw new AppError('TARGET_UNAVAILABLE', 'KMS returned no public key');
      return checkpointPublicKey(out.PublicKey);
    });
    this.publicKey.catch(() => (this.publicKey = undefined));
    return this.publicKey;
  }

  /**
   * Every checkpoint, oldest first, each from the first version written under its key (a key
   * with more versions was written over: reported, never believed).
   */
  async listAll(concurrency = 16): Promise<StoredCheckpoint[]> {
    const versions = new Map<string, Array<{ versionId: string | undefined; at: number }>>();
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      const page: ListObjectVersionsCommandOutput = await this.s3.send(
        new ListObjectVersionsCommand({ Bucket: this.location.bucket, Prefix: CHECKPOINT_PREFIX, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
      );
      for (const version of page.Versions ?? []) {
        if (!version.Key) continue;
        const list = versions.get(version.Key) ?? [];
        list.push({ versionId: version.VersionId, at: version.LastModified?.getTime() ?? 0 });
        versions.set(version.Key, list);
      }
      for (const marker of page.DeleteMarkers ?? []) if (marker.Key && !versions.has(marker.Key)) versions.set(marker.Key, []);
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
    }
    const keys = [...versions.keys()].sort((a, b) => (checkpointNumberOfKey(a) ?? 0) - (checkpointNumberOfKey(b) ?? 0));
    return mapBounded(keys, concurrency, async (key): Promise<StoredCheckpoint> => {
      const list = [...(versions.get(key) ?? [])].sort((a, b) => a.at - b.at);
      const first = list[0];
      if (!first) return { key, checkpoint: { unreadable: 'only a delete marker is left' }, overwritten: true };
      try {
        return { key, checkpoint: parseCheckpoint(await this.read(key, first.versionId), key), overwritten: list.length > 1 };
      } catch (error) {
        return { key, checkpoint: { unreadable: error instanceof Error ? error.message : String(error) }, overwritten: list.length > 1 };
      }
    });
  }

  private async read(key: string, versionId?: string): Promise<string> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: key, ...(versionId && versionId !== 'null' ? { VersionId: versionId } : {}) }));
    return (await out.Body?.transformToString('utf8')) ?? '';
  }
}

function parseCheckpoint(text: string, key: string): SignedCheckpoint {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError('INPUT_INVALID', `checkpoint ${key} is not JSON`);
  }
  const parsed = signedCheckpointSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('INPUT_INVALID', `checkpoint ${key} is malformed: ${formatIssues(parsed.error)}`);
  if (checkpointNumberOfKey(key) !== parsed.data.body.number) throw new AppError('INPUT_INVALID', `checkpoint ${key} holds number ${parsed.data.body.number}`);
  return parsed.data;
}

function isPreconditionFailed(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412;
}

/** S3 and KMS clients as the handlers make them: path-style addressing when an endpoint is set (the local gateway). */
export function createCheckpointStore(location: CheckpointLocation, endpoint: string | undefined = process.env.AWS_ENDPOINT_URL): CheckpointStore {
  return new CheckpointStore(new S3Client({ forcePathStyle: endpoint !== undefined }), new KMSClient({}), location);
}
