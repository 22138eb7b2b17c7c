import { z } from 'zod';
import { CHANNELS } from '../common/types';

export const MAX_TEXT = 2000;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

export const channelSchema = z.enum(CHANNELS as [string, ...string[]]);

export const idSchema = z.string().regex(/^\d{1,20}$/, 'ids are decimal strings');

export const inboundSchema = z
  .object({
    userId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'userId must be 1–64 characters of A–Z a–z 0–9 _ -').optional(),
    /** The phone channel's caller number, beside or instead of userId. */
    callerId: z
      .string()
      .regex(/^\+?[\d\s-]{6,24}$/, 'callerId must be a phone number')
      .transform((n) => n.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, ''))
      .optional(),
    /** The e-mail channel's sender address, beside or instead of userId. */
    from: z.email('from must be an e-mail address').max(254).transform((a) => a.toLowerCase()).optional(),
    text: z.string().optional(),
    image: z
      .string()
      .regex(/^data:image\/(png|jpeg);base64,[A-Za-z0-9+/]+=*$/, 'image must be a data:image/png or data:image/jpeg base64 URL')
      .optional(),
    dtmf: z.string().regex(/^[0-9*#]{1,32}$/, 'dtmf must be keypad digits 0-9 * #').optional(),
    messageId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'messageId must be 1–128 characters of A–Z a–z 0–9 _ . : -').optional(),
    conversationId: idSchema.optional(),
  })
  .strict()
  .refine((m) => m.userId || m.callerId || m.from, { message: 'a message needs userId, or callerId (phone) / from (email)', path: ['userId'] });
export type InboundBody = z.infer<typeof inboundSchema>;

/** Bytes of the image inside a base64 data URL. */
export function imageBytes(dataUrl: string): number {
  const b64 = dataUrl.slice(dataUrl.indexOf(',') + 1);
  return Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
}
