export const IN_FLIGHT_STATUSES = ['PLANNED', 'AWAITING_APPROVAL', 'APPLYING', 'VERIFYING', 'ROLLING_BACK'] as const;
export const TERMINAL_STATUSES = ['NO_CHANGES', 'VERIFIED', 'REJECTED', 'ROLLED_BACK', 'ESCALATED', 'FAILED'] as const;

export type InFlightStatus = (typeof IN_FLIGHT_STATUSES)[number];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export type ChangeStatus = InFlightStatus | TerminalStatus;

export function isTerminalStatus(status: string): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Per-action outcome inside a change. */
export type ActionStatus = 'PLANNED' | 'WRITTEN' | 'VERIFIED' | 'FAILED' | 'ROLLED_BACK' | 'SKIPPED';
