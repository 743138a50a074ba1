/**
 * What every `ld-studio` subcommand shares: one usage error, the option-value parsers (their messages
 * are what users and tests see), node:util's parseArgs with readable errors, and the exit-code tail.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { OrtExecutionProvider } from '../engine/infer/onnxModel';
import { ModelUsageError } from '../jobs/modelSource';

/** A mistake in the command line: reported with the usage, exit code 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict parseArgs (no positionals); its TypeError becomes a UsageError with the same text. */
export function parseCommandArgs<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

function expected({ min, max, integer }: NumberRule): string {
  const kind = integer ? 'an integer' : 'a number';
  if (min !== undefined && max !== undefined) return `${kind} in [${min}, ${max}]`;
  if (min !== undefined) return `${kind} ≥ ${min}`;
  if (max !== undefined) return `${kind} ≤ ${max}`;
  return kind;
}

/** An optional numeric option; a blank value is an error, not 0 (which Number('') would give). */
export function numberArg(value: string | undefined, name: string, rule: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const { min, max, integer } = rule;
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
    throw new UsageError(`--${name} expects ${expected(rule)}, got '${value}'`);
  }
  return n;
}

export function intArg(value: string | undefined, name: string, min: number): number | undefined {
  return numberArg(value, name, { integer: true, min });
}

export function oneOf<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

/** `--ep auto|cpu|cuda` → the ONNX Runtime providers to try in order (auto: CUDA if it loads, else CPU). */
export function executionProvidersArg(value: string | undefined, fallback: 'auto' | 'cpu' | 'cuda'): { ep: 'auto' | 'cpu' | 'cuda'; providers: OrtExecutionProvider[] } {
  const ep = value ?? fallback;
  if (ep !== 'auto' && ep !== 'cpu' && ep !== 'cuda') throw new UsageError(`--ep must be auto, cpu or cuda, got '${ep}'`);
  return { ep, providers: ep === 'auto' ? ['cuda', 'cpu'] : [ep] };
}

export interface SubcommandText {
  /** Printed after a usage error's message: the usage, or where to find it. */
  afterUsageError: string;
  /** Printed after any other error's message. */
  afterFailure?: string;
}

/**
 * Runs `ld-studio <command>` and turns what it throws into the exit code: 2 for a usage error
 * (ModelUsageError included: a --model/--step that do not go together), else 1.
 */
export async function runSubcommand(command: string, run: () => Promise<number>, text: SubcommandText): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UsageError || err instanceof ModelUsageError) {
      process.stderr.write(`ld-studio ${command}: ${err.message}\n${text.afterUsageError}`);
      return 2;
    }
    process.stderr.write(`ld-studio ${command}: ${err instanceof Error ? err.message : String(err)}\n${text.afterFailure ?? ''}`);
    return 1;
  }
}
