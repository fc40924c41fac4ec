import type { CommandRegistrar } from '../main.js';
import { registerApprove } from './approve.js';
import { registerAttest } from './attest.js';
import { registerChanges } from './changes.js';
import { registerConsole } from './console.js';
import { registerDemo } from './demo.js';
import { registerEvent } from './event.js';
import { registerEvidence } from './evidence.js';
import { registerGateway } from './gateway.js';
import { registerLocal } from './local.js';
import { registerPlan } from './plan.js';
import { registerPolicy } from './policy.js';
import { registerFinalize } from './finalize.js';
import { registerRollback } from './rollback.js';

/** Every command group of nhigov, in help order. */
export const COMMANDS: readonly CommandRegistrar[] = [registerLocal, registerEvent, registerPlan, registerChanges, registerApprove, registerRollback, registerFinalize, registerAttest, registerEvidence, registerConsole, registerPolicy, registerGateway, registerDemo];
