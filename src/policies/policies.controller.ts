import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { ApiBodySchema, ValidBody, ZodPipe, NoBody } from '../common/zod-validation.js';
import { ConsoleRulesService } from './console-rules.service.js';
import { NAME_PATTERN } from './policy-schema.js';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/permissions.decorator.js';
import type { Origin } from '../audit/actor.js';
import { actorOf, RequestOrigin, Staff, type StaffPrincipal } from '../auth/principal.js';

const ruleIdSchema = z
  .string()
  .regex(NAME_PATTERN, { error: 'expected a rule id: lower-case letters, digits, dots, dashes' });
// The rule itself is checked by the policy loader, with the same schema as the files.
const consoleRuleBody = z.strictObject({
  rule: z
    .looseObject({ id: ruleIdSchema })
    .refine((r) => JSON.stringify(r).length <= 16_384, { error: 'rule too large' }),
});
type ConsoleRuleBody = { rule: Record<string, unknown> & { id: string } };
import { PolicyService } from './policy.service.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { consoleRuleSchema, policySetViewSchema, reloadResultSchema } from './policies.responses.js';

@ApiTags('policies')
@Controller('api/v1/policies')
export class PoliciesController {
  constructor(
    private readonly policies: PolicyService,
    private readonly consoleRulesService: ConsoleRulesService,
  ) {}

  @Get()
  @RequirePermission('read', 'Policy')
  @ApiOperation({
    summary: 'The policy set in force: version, defaults, device groups, access, rules with their source',
  })
  @ApiSuccess(policySetViewSchema)
  effective() {
    const set = this.policies.set;
    return {
      inForce: set !== null,
      version: set?.version ?? null,
      defaults: set?.defaults ?? null,
      deviceGroups: set?.deviceGroups ?? [],
      access: set?.access ?? [],
      rules: set?.rules ?? [],
      problems: this.policies.problems,
    };
  }

  @Get('console-rules')
  @RequirePermission('read', 'Policy')
  @ApiOperation({ summary: 'Rules written in the console (the file rules are read-only here)' })
  @ApiSuccess(z.array(consoleRuleSchema))
  consoleRules() {
    return this.consoleRulesService.list();
  }

  @Post('console-rules')
  @HttpCode(201)
  @RequirePermission('manage', 'Policy')
  @ApiOperation({
    summary: 'Add a console rule (format of policy-files.md); 422 naming the problems when the set would not validate',
  })
  @ApiBodySchema(consoleRuleBody)
  @ApiSuccess(reloadResultSchema, { status: 201, description: 'Added; the set now in force' })
  @ApiErrors(
    [409, 'A console rule with that id exists'],
    [422, 'The set would not validate (details name each problem)'],
  )
  createConsoleRule(
    @ValidBody(consoleRuleBody) body: ConsoleRuleBody,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    return this.consoleRulesService.create(body.rule, actorOf(staff, origin));
  }

  @Put('console-rules/:id')
  @RequirePermission('manage', 'Policy')
  @ApiOperation({ summary: 'Replace a console rule' })
  @ApiBodySchema(consoleRuleBody)
  @ApiSuccess(reloadResultSchema, { description: 'Replaced; the set now in force' })
  @ApiErrors(404, [422, 'The set would not validate (details name each problem)'])
  replaceConsoleRule(
    @Param('id', new ZodPipe(ruleIdSchema, 'rule id')) id: string,
    @ValidBody(consoleRuleBody) body: ConsoleRuleBody,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    return this.consoleRulesService.replace(id, body.rule, actorOf(staff, origin));
  }

  @Delete('console-rules/:id')
  @RequirePermission('manage', 'Policy')
  @ApiOperation({ summary: 'Delete a console rule' })
  @ApiSuccess(reloadResultSchema, { description: 'Deleted; the set now in force' })
  @ApiErrors(404, [422, 'The set would not validate without it (details name each problem)'])
  deleteConsoleRule(
    @NoBody() _body: undefined,
    @Param('id', new ZodPipe(ruleIdSchema, 'rule id')) id: string,
    @Staff() staff: StaffPrincipal,
    @RequestOrigin() origin: Origin,
  ) {
    return this.consoleRulesService.remove(id, actorOf(staff, origin));
  }

  @Post('reload')
  @HttpCode(200)
  @RequirePermission('manage', 'Policy')
  @ApiOperation({
    summary:
      'Re-read the policy files; 422 naming file, line and problem when they do not validate (the old set stays)',
  })
  @ApiSuccess(reloadResultSchema)
  @ApiErrors([422, 'The files do not validate: file, line and problem in details; the old set stays'])
  reload(@NoBody() _body: undefined, @Staff() staff: StaffPrincipal, @RequestOrigin() origin: Origin) {
    return this.policies.reload(actorOf(staff, origin));
  }
}
