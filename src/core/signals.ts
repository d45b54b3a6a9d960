// Signal names to numbers, as the kernel has them (128 + N is a shell's exit status for a death by N).
import { constants } from 'node:os';

export const signalNumber = (name: string): number => constants.signals[name as NodeJS.Signals] ?? 0;
