/**
 * Request schemas, one per channel of `IpcChannels` (preload/api.ts). The `satisfies` clause makes the
 * compiler refuse a channel without a schema, or a schema whose output differs from the contract type.
 * Schemas are strict: unknown keys are validation errors, not silently dropped.
 */
import { z } from 'zod';
import type { Channel, RequestOf } from '../../preload/api';

/** A channel without a payload accepts nothing, `null` or `{}` (what HTTP clients tend to send). */
const noPayload = z
  .union([z.undefined(), z.null(), z.strictObject({})])
  .transform((): void => undefined);

export const requestSchemas = {
  'app:ping': z.strictObject({ nonce: z.string().min(1).max(1024) }),
  'engine:info': noPayload,
} satisfies { [C in Channel]: z.ZodType<RequestOf<C>, unknown> };

export const channels = Object.keys(requestSchemas) as Channel[];
