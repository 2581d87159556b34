import { Init1795446766654 } from './1795446766654-Init.js';

// Every migration, in order. The app and the CLI load this list (no globbing, so the
// compiled app cannot pick up a stray file).
export const MIGRATIONS: Function[] = [Init1795446766654];
