import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Projects whose files run longest (a seeded campaign, fuzzing, the secret scan): started first. */
const LONG_PROJECTS: readonly string[] = ['reliability'];

/**
 * With two workers the run ends when its last long file does, so long files go first. Vitest's
 * own order runs project after project (reliability, the longest files, last) and, without its
 * cache of durations (a fresh CI checkout), larger files first. Here: by the cached durations
 * when every file has one, across projects; otherwise the long projects first, each in vitest's order.
 */
export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const durations = new Map(ordered.map((spec) => [spec, this.ctx.cache.getFileTestResults(`${spec.project.name}:${path.relative(this.ctx.config.root, spec.moduleId)}`)?.duration]));
    if ([...durations.values()].every((duration) => duration !== undefined)) {
      return [...ordered].sort((a, b) => (durations.get(b) ?? 0) - (durations.get(a) ?? 0));
    }
    const long = (spec: TestSpecification) => LONG_PROJECTS.includes(spec.project.name);
    return [...ordered.filter(long), ...ordered.filter((spec) => !long(spec))];
  }
}
