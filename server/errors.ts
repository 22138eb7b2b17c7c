import type { NextFunction, Request, Response } from 'express';

/** An error the API reports as `{ error: { code, message } }` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const PG_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

/** Infrastructure failures become 503 + Retry-After; anything else unexpected is a logged 500. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { code?: string; status?: number; type?: string; name?: string; message?: string; driverError?: { code?: string } };
  if (e?.type === 'entity.parse.failed') return new ApiError(400, 'invalid_json', 'request body is not valid JSON');
  if (e?.type === 'entity.too.large') return new ApiError(413, 'payload_too_large', 'request body is too large');
  const pgCode = e?.driverError?.code ?? e?.code;
  if (pgCode && PG_UNAVAILABLE.has(pgCode)) return new ApiError(503, 'database_unavailable', 'the database is unavailable', 5);
  if (e?.name === 'ConnectionNotInitializedError' || /Connection terminated|connect ECONNREFUSED/.test(e?.message ?? '')) {
    return new ApiError(503, 'database_unavailable', 'the database is unavailable', 5);
  }
  if (isTemporalUnavailable(e)) return new ApiError(503, 'temporal_unavailable', 'the conversation service is unavailable', 3);
  return new ApiError(500, 'internal', 'internal error');
}

function isTemporalUnavailable(e: { name?: string; message?: string; code?: unknown }): boolean {
  // gRPC UNAVAILABLE (14) / DEADLINE_EXCEEDED (4), or the connection itself failing.
  return (
    e?.name === 'ServiceError' ||
    e?.name === 'TransportError' ||
    e?.code === 14 ||
    e?.code === 4 ||
    /UNAVAILABLE|Failed to connect|DEADLINE_EXCEEDED|tcp connect error/i.test(e?.message ?? '')
  );
}

export function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  const api = toApiError(err);
  if (api.status >= 500 && api.status !== 503) console.error('[api] unexpected error', err);
  if (api.retryAfterSeconds) res.setHeader('Retry-After', String(api.retryAfterSeconds));
  res.status(api.status).json({ error: { code: api.code, message: api.message } });
}
