import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';
import { PolicySimulator, simulateSchema, type SimulationResult } from '../decisions/policy-simulator.js';
import { PolicyHistory } from '../policies/policy-history.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { instantOfLocalTime } from './local-time.js';
import { SimulatePage, type SimulateFields } from './pages/simulate-page.js';
import { VersionsPage } from './pages/versions-page.js';

const HISTORY_PAGE = 20;

const simulateQuery = z.strictObject({
  deviceId: z.string().max(128).default(''),
  action: z.string().max(100).default('remote-session'),
  remoteUser: z.string().max(256).default(''),
  enterprise: z.string().max(128).default(''),
  groups: z.string().max(2000).default(''),
  path: z.string().max(1024).default(''),
  package: z.string().max(256).default(''),
  ticket: z.string().max(128).default(''),
  itsm: z.enum(['', 'confirmed', 'refused', 'unavailable']).default(''),
  at: z.string().max(32).default(''),
});

const versionsQuery = z.strictObject({ before: z.coerce.number().int().positive().optional() });

const orUndefined = (value: string) => (value === '' ? undefined : value);

/** "What if" (the API's simulation service) and the policy set's history. */
@ConsoleController()
@Controller('policies')
export class ConsolePolicyToolsController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly simulator: PolicySimulator,
    private readonly history: PolicyHistory,
  ) {}

  /** A GET form: a simulation changes nothing, and its link can be shared. */
  @Get('simulate')
  @ConsolePage('read', 'Policy')
  async simulate(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const parsed = simulateQuery.safeParse(request.query ?? {});
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the form', zodDetails(parsed.error));
    const fields: SimulateFields = parsed.data;
    const ctx = this.renderer.context(request);
    if (fields.deviceId === '') return this.renderer.send(reply, <SimulatePage ctx={ctx} fields={fields} />);
    let result: SimulationResult | undefined;
    let error: string | undefined;
    try {
      result = await this.simulator.simulate(staff, this.input(fields, this.renderer.timeZone));
    } catch (e) {
      // Wrong input or an unknown device: said on the form, which keeps what was typed.
      if (!(e instanceof ApiError) || e.status >= 500) throw e;
      error = e.details?.length
        ? `${e.message}: ${e.details.map((d) => `${d.field} ${d.problem}`).join('; ')}`
        : e.message;
    }
    return this.renderer.send(
      reply,
      <SimulatePage ctx={ctx} fields={fields} result={result} error={error} />,
      error ? 400 : 200,
    );
  }

  @Get('versions')
  @ConsolePage('read', 'Policy')
  async versions(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const parsed = versionsQuery.safeParse(request.query ?? {});
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the link', zodDetails(parsed.error));
    const { records, nextBefore } = await this.history.list(parsed.data.before, HISTORY_PAGE);
    return this.renderer.send(
      reply,
      <VersionsPage ctx={this.renderer.context(request)} records={records} nextBefore={nextBefore} />,
    );
  }

  /** The form's fields as the API's body, validated by the API's own schema. */
  private input(fields: SimulateFields, timeZone: string) {
    let at: string | undefined;
    if (fields.at !== '') {
      const instant = instantOfLocalTime(fields.at, timeZone);
      if (!instant) throw new ApiError(ErrorCode.InvalidRequest, `'${fields.at}' is not a date and time`);
      at = instant.toISOString();
    }
    const groups = fields.groups
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    const target = { path: orUndefined(fields.path), package: orUndefined(fields.package) };
    const parsed = simulateSchema.safeParse({
      deviceId: fields.deviceId,
      action: fields.action,
      remoteUser: {
        id: fields.remoteUser,
        enterprise: orUndefined(fields.enterprise),
        groups: groups.length > 0 ? groups : undefined,
      },
      target: target.path || target.package ? target : undefined,
      context: fields.ticket === '' ? undefined : { ticket: fields.ticket },
      // A stated answer on the ticket; none: the ITSM is asked live.
      itsm: fields.itsm !== '' && fields.ticket !== '' ? { [fields.ticket]: fields.itsm } : undefined,
      at,
    });
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the form', zodDetails(parsed.error));
    return parsed.data;
  }
}
