import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/** The minimal decision endpoint the HTTP adapter benchmark serves. */
@Controller()
class DecisionController {
  @Post('v1/decisions')
  @HttpCode(200)
  decide(@Body() _request: unknown): { decision: string } {
    return { decision: 'allow' };
  }
}

@Module({ controllers: [DecisionController] })
class BenchModule {}

/** Starts the Nest app on the given adapter and returns it listening on 127.0.0.1 (any free port). */
export async function startNestApp(adapter: 'fastify' | 'express'): Promise<{ app: INestApplication; port: number }> {
  let app: INestApplication;
  if (adapter === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    app = await NestFactory.create(BenchModule, new FastifyAdapter(), { logger: false });
  } else {
    const { ExpressAdapter } = await import('@nestjs/platform-express');
    app = await NestFactory.create(BenchModule, new ExpressAdapter(), { logger: false });
  }
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, port: address.port };
}
