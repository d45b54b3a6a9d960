// The reserved `progress` key: the one value tw interprets itself.
import type { Progress } from '../core/task.js';

const PERCENT = /^(\d+(?:\.\d+)?)%?$/;
const STEPS = /^(\d+)\/(\d+)$/;

/**
 * `37`, `37%` or `37.5` mean percent (0..100); `3/8` means 3 of 8 steps.
 * Anything else, including impossible values like `120%` or `9/8`, is null:
 * showing no progress beats showing a wrong one.
 */
export function parseProgress(value: string): Progress | null {
  const text = value.trim();
  const percent = PERCENT.exec(text);
  if (percent?.[1] !== undefined) {
    const n = Number(percent[1]);
    return n <= 100 ? { percent: n } : null;
  }
  const steps = STEPS.exec(text);
  if (steps?.[1] !== undefined && steps[2] !== undefined) {
    const done = Number(steps[1]);
    const total = Number(steps[2]);
    if (total === 0 || done > total || !Number.isSafeInteger(total)) return null;
    return { done, total };
  }
  return null;
}
