export { conversation } from './conversation';
export { recomputeTiers } from './rfm';
