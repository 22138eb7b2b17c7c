// Surface cues of a Chinese message that the chart, the understanding step and the continuation model all read,
// defined once so they agree.

const QUESTION = /[?？吗嘛啥哪几]|什么|怎么|咋|多少|多久|能不能|可不可以|是不是|有没有|要不要/;
const SUBJECT_CHANGE = /^(?:对了|顺便|另外|还有个|换个|再问个|再问一个|我还想问|还想问)/;

/** The message asks something ("实名早就弄好了 还差啥"). */
export const isQuestion = (text: string) => QUESTION.test(text);

/** The message opens with an explicit change of subject ("对了顺便问下…"). */
export const changesSubject = (text: string) => SUBJECT_CHANGE.test(text.trim());
