import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import { ApiError } from './errors';

type Handler = (req: Request, res: Response) => Promise<void>;

/** An async route whose rejections reach the error handler. */
export const route = (fn: Handler) => (req: Request, res: Response, next: NextFunction) => fn(req, res).catch(next);

/** Validate with zod; the first problem becomes a 400 `invalid_request` naming the field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ApiError(400, 'invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return r.data;
}

/** Requests must carry `Authorization: Bearer <token>`. */
export const requireBearer = (token: string, what: string) => (req: Request, _res: Response, next: NextFunction) =>
  next(req.headers.authorization === `Bearer ${token}` ? undefined : new ApiError(401, 'unauthorized', `a valid ${what} token is required`));
