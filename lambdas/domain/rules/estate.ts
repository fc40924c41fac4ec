import { AppError } from '../reasons.js';
import {
  allNhis,
  findAccessKey,
  holdsAccessKey,
  isGoverned,
  SECRET_USER_TAG,
  type AccessKeySnapshot,
  type NhiSnapshot,
  type SecretSnapshot,
  type Snapshot,
  type UserSnapshot,
} from '../snapshot.js';

/** How a plan finds an NHI by its plan ref, and names one. */
export interface EstateLookup {
  ref(nhi: NhiSnapshot): string;
  byRef(ref: string): NhiSnapshot | null;
}

const TYPE_ORDER = { user: 0, role: 1, secret: 2 } as const;

/**
 * The governed estate as the rules see it: governed NHIs in a canonical order (so a plan does not
 * depend on the order AWS listed them in), each with an unambiguous plan ref, and the lookups
 * the rules need (which secret holds which key).
 */
export class Estate implements EstateLookup {
  /** Governed NHIs, ordered by type, name, ARN. */
  readonly governed: readonly NhiSnapshot[];
  private readonly refs = new Map<NhiSnapshot, string>();
  private readonly byRefMap = new Map<string, NhiSnapshot>();
  private readonly nameCount = new Map<string, number>();
  private readonly holderOfKey = new Map<string, SecretSnapshot>();
  private readonly governedUsers = new Map<string, UserSnapshot>();

  /**
   * `qualified`: a member account's estate, whose NHIs are named by ARN everywhere (plans,
   * evidence, findings), so that a name used in two accounts never names the wrong one.
   */
  constructor(
    readonly snapshot: Snapshot,
    private readonly qualified = false,
  ) {
    for (const nhi of allNhis(snapshot)) this.nameCount.set(nhi.name, (this.nameCount.get(nhi.name) ?? 0) + 1);
    this.governed = allNhis(snapshot)
      .filter(isGoverned)
      .sort((a, b) => TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || compare(a.name, b.name) || compare(a.arn, b.arn));
    for (const nhi of this.governed) {
      const ref = this.qualified || this.isNameShared(nhi.name) ? nhi.arn : nhi.name;
      this.refs.set(nhi, ref);
      this.byRefMap.set(ref, nhi);
      if (nhi.type === 'user') this.governedUsers.set(nhi.name, nhi);
      if (nhi.type === 'secret' && holdsAccessKey(nhi) && nhi.heldAccessKeyId && !this.holderOfKey.has(nhi.heldAccessKeyId)) {
        this.holderOfKey.set(nhi.heldAccessKeyId, nhi);
      }
    }
  }

  /** How the plan names an NHI: its name, or its ARN when another NHI shares the name or the estate is a member account's. */
  ref(nhi: NhiSnapshot): string {
    return this.refs.get(nhi) ?? nhi.arn;
  }

  byRef(ref: string): NhiSnapshot | null {
    return this.byRefMap.get(ref) ?? null;
  }

  /**
   * Resolves an event's reference (name or ARN) to a governed NHI. A name that matches more than
   * one NHI refuses to plan: acting on a guess is how the wrong identity gets revoked.
   */
  resolve(ref: string, field: string): NhiSnapshot | null {
    const matches = allNhis(this.snapshot).filter((nhi) => nhi.arn === ref || nhi.name === ref);
    if (matches.length > 1) {
      const what = matches.map((m) => `${m.type} ${m.arn}`).join(', ');
      throw new AppError('INPUT_INVALID', `${field} "${ref}" is ambiguous: it names ${what}; name the NHI by its ARN`);
    }
    const match = matches[0];
    return match && isGoverned(match) ? match : null;
  }

  user(name: string): UserSnapshot | null {
    return this.governedUsers.get(name) ?? null;
  }

  accessKey(accessKeyId: string): AccessKeySnapshot | null {
    const key = findAccessKey(this.snapshot, accessKeyId);
    return key && this.governedUsers.has(key.userName) ? key : null;
  }

  /** The governed key secret whose AWSCURRENT value names this key (the first by name if several do). */
  holderOf(accessKeyId: string): SecretSnapshot | null {
    return this.holderOfKey.get(accessKeyId) ?? null;
  }

  /** The governed user a key secret names (tag nhigov:user). */
  keyUserOf(secret: SecretSnapshot): UserSnapshot | null {
    return this.user(secret.tags[SECRET_USER_TAG] ?? '');
  }

  private isNameShared(name: string): boolean {
    return (this.nameCount.get(name) ?? 0) > 1;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The estates of every account a plan spans, looked up as one: refs do not collide, as a member
 * account's NHIs are named by ARN and ARNs name their account.
 */
export class Estates implements EstateLookup {
  constructor(private readonly estates: readonly Estate[]) {}

  ref(nhi: NhiSnapshot): string {
    for (const estate of this.estates) if (estate.governed.includes(nhi)) return estate.ref(nhi);
    return nhi.arn;
  }

  byRef(ref: string): NhiSnapshot | null {
    for (const estate of this.estates) {
      const found = estate.byRef(ref);
      if (found) return found;
    }
    return null;
  }
}
