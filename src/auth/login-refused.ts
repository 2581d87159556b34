/** A sign-in refused for a reason that is audited but never told to the caller (all get the same 401). */
export class LoginRefused extends Error {
  constructor(readonly reason: string) {
    super(`sign-in refused: ${reason}`);
    this.name = 'LoginRefused';
  }
}
