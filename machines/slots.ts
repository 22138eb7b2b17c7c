// Slot extraction for dialogue state tracking: pure functions over one user message.

export type SlotName = 'orderId' | 'phone' | 'amount' | 'product' | 'phoneLast4';
export interface SlotValue {
  value: string;
  /** The turn the value was given in. */
  turn: number;
}
export type Slots = Partial<Record<SlotName, SlotValue>>;

const PHONE = /(?<!\d)1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)/;
// An order number: 12–24 digits, possibly grouped with spaces/dashes, or after a label like 订单号: / 单号 / No.
const LABELLED_ORDER = /(?:订单(?:编?号)?|单号|order\s*(?:id|no\.?)?)\s*[:：是为]?\s*#?\s*(\d(?:[\d\s-]{6,30}\d))/i;
const BARE_ORDER = /(?<![\d.])(\d(?:[\s-]?\d){11,23})(?![\d.])/;
const AMOUNT = /(?:¥|￥)\s*(\d+(?:\.\d{1,2})?)|(\d+(?:\.\d{1,2})?)\s*(?:元|块钱?|rmb)/i;
const PRODUCT = /(?:买的|购买的|下单的|订的)([\p{Script=Han}A-Za-z]{1,12}?)(?=[\d，,。.!！?？\s]|还|怎么|什么|能|可以|没|不|了|到|坏|破|$)/u;

// The last four digits of a phone number, labelled ("尾号 8000", "后四位是8000"), to verify a caller.
const PHONE_LAST4 = /(?:尾号|后四位|后4位|末四位|最后四位)\D{0,4}(\d{4})(?!\d)/;
const BARE_FOUR = /(?<!\d)(\d{4})(?!\d)/;

const digitsOnly = (s: string) => s.replace(/\D/g, '');

/** Slots a message fills, with their normalised values. */
export function extractSlots(raw: string): Partial<Record<SlotName, string>> {
  const text = raw.normalize('NFKC');
  const found: Partial<Record<SlotName, string>> = {};
  const phone = text.match(PHONE);
  if (phone) found.phone = digitsOnly(phone[0]);
  let withoutPhone = phone ? text.replace(phone[0], ' ') : text;
  const labelledLast4 = withoutPhone.match(PHONE_LAST4);
  if (labelledLast4) withoutPhone = withoutPhone.replace(labelledLast4[0], ' ');
  const order = withoutPhone.match(LABELLED_ORDER) ?? withoutPhone.match(BARE_ORDER);
  if (order) {
    const digits = digitsOnly(order[1]);
    if (digits.length >= 8 && digits.length <= 24) found.orderId = digits;
  }
  // The phone's last four, labelled, or a lone group of four digits beside an order number ("6921…，8000").
  const last4 = labelledLast4 ?? (order ? withoutPhone.replace(order[0], ' ').match(BARE_FOUR) : null);
  if (last4) found.phoneLast4 = last4[1];
  const amount = withoutPhone.match(AMOUNT);
  if (amount) found.amount = amount[1] ?? amount[2];
  const product = text.match(PRODUCT);
  if (product) found.product = product[1];
  return found;
}

/** Merge a message's slots into the tracked ones; a newer value replaces an older one. */
export function mergeSlots(slots: Slots, text: string, turn: number): Slots {
  const next: Slots = { ...slots };
  for (const [name, value] of Object.entries(extractSlots(text)) as Array<[SlotName, string]>) {
    if (next[name]?.value !== value) next[name] = { value, turn };
  }
  return next;
}
