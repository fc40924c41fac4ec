import type { CommandRegistrar } from '../main.js';
import { registerChanges } from './changes.js';
import { registerDemo } from './demo.js';
import { registerEvent } from './event.js';
import { registerGateway } from './gateway.js';
import { registerLocal } from './local.js';
import { registerPlan } from './plan.js';

/** Every command group of nhigov, in help order. */
export const COMMANDS: readonly CommandRegistrar[] = [registerLocal, registerEvent, registerPlan, registerChanges, registerGateway, registerDemo];
