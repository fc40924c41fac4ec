/** What lagOf needs of a runtime's record (policy store RUNTIME item). */
export interface RuntimeSeen {
  readonly version: string;
  readonly seenAt: string;
  readonly refusedAt?: string;
  readonly refusingSince?: string;
}

/** What lagOf needs of one activation (policy store VERSION item). */
export interface ActivationSeen {
  readonly version: string;
  readonly activatedAt: string;
}

/** How far a runtime's version is behind the active one. */
export interface RuntimeLag {
  /** current: runs the active version; refusing: its latest load of the active version failed
   *  verification; lagging: decided with a superseded version after it was replaced; idle: has
   *  not loaded a policy since the activation (it adopts the active one on its next load). */
  readonly state: 'current' | 'refusing' | 'lagging' | 'idle';
  /** Activations since the runtime's version was last activated; null when that version is not in the history. */
  readonly versionsBehind: number | null;
  /** When the runtime's version stopped being the active one. */
  readonly since: string | null;
  readonly seconds: number | null;
}

/**
 * How far `runtime` is behind the active version, from the activation history (newest first).
 * Pure: `policy status` and the PolicyVersionLag metric both use it.
 */
export function lagOf(
  runtime: RuntimeSeen,
  activeVersion: string | null,
  history: readonly ActivationSeen[],
  now: Date,
): RuntimeLag {
  const refusing = runtime.refusedAt !== undefined && (runtime.seenAt === '' || runtime.refusedAt >= runtime.seenAt);
  if (runtime.version === activeVersion && !refusing) return { state: 'current', versionsBehind: 0, since: null, seconds: null };
  const index = history.findIndex((h) => h.version === runtime.version);
  let versionsBehind: number | null;
  let since: string | null;
  if (runtime.version === activeVersion) {
    // The ACTIVE pointer still names the version it ran, but it can no longer verify it.
    versionsBehind = 0;
    since = runtime.refusingSince ?? runtime.refusedAt ?? null;
  } else if (index < 0) {
    // A version the history does not know: behind by an unknown count, at least since the current activation.
    versionsBehind = null;
    since = history[0]?.activatedAt ?? null;
  } else {
    versionsBehind = index;
    since = history[index - 1]?.activatedAt ?? null;
  }
  const seconds = since ? Math.max(0, Math.round((now.getTime() - Date.parse(since)) / 1000)) : null;
  const state = refusing ? 'refusing' : since !== null && runtime.seenAt > since ? 'lagging' : 'idle';
  return { state, versionsBehind, since, seconds };
}
