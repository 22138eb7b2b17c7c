/** Prefix of the user ids given to channel contacts (callers, e-mail senders) the platform does not know. */
export const GUEST_PREFIX = 'guest-';
export const isGuest = (userId: string) => userId.startsWith(GUEST_PREFIX);
