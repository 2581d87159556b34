import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { stringify } from 'yaml';
import { z } from 'zod';
import { actorOf, originOf, Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiError, ErrorCode, notFound } from '../common/api-error.js';
import { zodDetails } from '../common/zod-validation.js';
import { ConsoleRuleDrafts } from '../policies/console-rule-draft.js';
import { ConsoleRulesService } from '../policies/console-rules.service.js';
import { NAME_PATTERN } from '../policies/policy-schema.js';
import { PolicyService } from '../policies/policy.service.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';
import { ConsoleRenderer } from './console-renderer.js';
import { RuleCheck, RuleEditorPage } from './pages/rule-editor-page.js';
import { RulesPage } from './pages/rules-page.js';

/** As the API's limit on a console rule (16 KiB of JSON), with room for YAML's indentation. */
const ruleForm = z.strictObject({
  _csrf: z.string().optional(),
  editing: z.string().regex(NAME_PATTERN).optional(),
  text: z.string().max(32_768),
});

const NOTICES: Record<string, string> = {
  saved: 'The rule was saved and the new policy set is in force.',
  deleted: 'The rule was deleted and the new policy set is in force.',
};

/** The effective rule set, and the console rules' editor (the API's ConsoleRulesService). */
@ConsoleController()
@Controller('policies')
export class ConsoleRulesController {
  constructor(
    private readonly renderer: ConsoleRenderer,
    private readonly policies: PolicyService,
    private readonly consoleRules: ConsoleRulesService,
    private readonly drafts: ConsoleRuleDrafts,
  ) {}

  @Get()
  @ConsolePage('read', 'Policy')
  async rules(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const done = (request.query as Record<string, unknown>).done;
    return this.renderer.send(
      reply,
      <RulesPage
        ctx={this.renderer.context(request)}
        set={this.policies.set}
        problems={this.policies.problems}
        consoleRules={await this.consoleRules.list()}
        notice={typeof done === 'string' ? NOTICES[done] : undefined}
      />,
    );
  }

  @Get('console-rules/new')
  @ConsolePage('manage', 'Policy')
  newRule(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.renderer.send(reply, <RuleEditorPage ctx={this.renderer.context(request)} text="" problems={null} />);
  }

  @Get('console-rules/:id')
  @ConsolePage('manage', 'Policy')
  async editRule(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const stored = (await this.consoleRules.list()).find((r) => r.id === id);
    if (!stored) throw notFound('Console rule');
    return this.renderer.send(
      reply,
      <RuleEditorPage
        ctx={this.renderer.context(request)}
        editing={id}
        text={stringify(stored.rule)}
        problems={null}
      />,
    );
  }

  /** htmx, as the person types: the loader's problems at the draft's lines, or "valid". */
  @Post('console-rules/check')
  @ConsolePage('manage', 'Policy')
  async check(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const form = this.form(request);
    const result = await this.drafts.check(form.text, form.editing);
    return this.renderer.send(reply, <RuleCheck problems={result.ok ? [] : result.problems} />);
  }

  @Post('console-rules')
  @ConsolePage('manage', 'Policy')
  create(@Staff() staff: StaffPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.save(staff, undefined, request, reply);
  }

  @Post('console-rules/:id')
  @ConsolePage('manage', 'Policy')
  replace(
    @Staff() staff: StaffPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!NAME_PATTERN.test(id)) throw notFound('Console rule');
    return this.save(staff, id, request, reply);
  }

  @Post('console-rules/:id/delete')
  @ConsolePage('manage', 'Policy')
  async remove(
    @Staff() staff: StaffPrincipal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (!NAME_PATTERN.test(id)) throw notFound('Console rule');
    await this.consoleRules.remove(id, actorOf(staff, originOf(request)));
    return this.renderer.redirect(reply, '/policies?done=deleted');
  }

  /**
   * Checks the draft as the editor did; a draft with problems comes back in the editor
   * (422) with the text kept. The service validates the whole set again, under its lock.
   */
  private async save(staff: StaffPrincipal, id: string | undefined, request: FastifyRequest, reply: FastifyReply) {
    const form = this.form(request);
    const result = await this.drafts.check(form.text, id);
    const ctx = this.renderer.context(request);
    if (!result.ok) {
      return this.renderer.send(
        reply,
        <RuleEditorPage ctx={ctx} editing={id} text={form.text} problems={result.problems} />,
        422,
      );
    }
    const actor = actorOf(staff, originOf(request));
    if (id === undefined) await this.consoleRules.create(result.rule, actor);
    else await this.consoleRules.replace(id, result.rule, actor);
    return this.renderer.redirect(reply, `/policies?done=saved#rule-${result.rule.id}`);
  }

  private form(request: FastifyRequest): z.infer<typeof ruleForm> {
    const parsed = ruleForm.safeParse(request.body ?? {});
    if (!parsed.success) throw new ApiError(ErrorCode.InvalidRequest, 'Check the form', zodDetails(parsed.error));
    return parsed.data;
  }
}
