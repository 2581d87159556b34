import type { FastifyInstance } from 'fastify';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { MAX_BODY_BYTES } from '../common/json-body.js';

/**
 * The console's HTML forms (application/x-www-form-urlencoded), as a plain object of
 * strings. A field sent twice, `__proto__`/`constructor` names and more than 64 KiB are
 * refused (400/413), as for JSON bodies.
 */
export function registerFormParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: MAX_BODY_BYTES },
    (_request, body, done) => {
      const fields: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [name, value] of new URLSearchParams(body as string)) {
        if (name === '__proto__' || name === 'constructor' || name in fields) {
          return done(new ApiError(ErrorCode.InvalidRequest, `Form field '${name.slice(0, 64)}' is not allowed twice`));
        }
        fields[name] = value;
      }
      done(null, { ...fields });
    },
  );
}
