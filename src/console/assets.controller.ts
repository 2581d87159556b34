import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../common/api-error.js';
import { loadConsoleAssets } from './console-assets.js';
import { ConsoleController, ConsolePublic } from './console-page.decorator.js';

/** The console's scripts and style sheet, from memory; the browser revalidates by ETag. */
@ConsoleController()
@Controller('assets')
export class AssetsController {
  private readonly assets = loadConsoleAssets();

  @Get(':name')
  @ConsolePublic()
  serve(@Param('name') name: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const asset = this.assets.get(name);
    if (!asset) throw notFound('Asset');
    void reply.header('etag', asset.etag).header('cache-control', 'no-cache');
    if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    return reply.header('content-type', asset.contentType).send(asset.body);
  }
}
