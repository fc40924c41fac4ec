import { readFileSync } from 'node:fs';
import { UsageError } from './io.js';

/** Reads FILE, or stdin for "-", and parses it as JSON; bad JSON is a usage error. */
export function readJsonInput(file: string): unknown {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`INPUT_INVALID: ${file === '-' ? 'stdin' : file} is not JSON (${(error as Error).message})`);
  }
}
