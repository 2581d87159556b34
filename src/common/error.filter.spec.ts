import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { toErrorResponse } from './error.filter.js';
import { createRootLogger, PinoNestLogger } from './logger.js';

describe('toErrorResponse', () => {
  it("logs an unexpected error with the request's id and answers a bare 500", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = new Logger('Errors');
    Logger.overrideLogger(new PinoNestLogger(createRootLogger('info', destination)));
    try {
      const { status, body } = toErrorResponse(new Error('boom: internal detail'), logger, 'trace-err-1');
      expect(status).toBe(500);
      expect(JSON.stringify(body)).not.toContain('internal detail');
    } finally {
      Logger.overrideLogger(false);
    }
    const logged = lines.map((l) => JSON.parse(l) as { requestId?: string; msg: string; level: string });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', requestId: 'trace-err-1', context: 'Errors' });
    expect(logged[0].msg).toContain('boom: internal detail');
  });
});
