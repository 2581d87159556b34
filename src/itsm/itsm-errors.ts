/**
 * The ITSM gave no usable answer (unreachable, too slow, refused our credentials, answered an
 * error or something that is not its Table API): the rule's `onUnavailable` decides, never allow.
 */
export class ItsmUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ItsmUnavailableError';
  }
}
