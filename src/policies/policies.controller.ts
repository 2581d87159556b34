import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { SourceAddress, Staff, type StaffPrincipal } from '../auth/principal.js';
import { PolicyService } from './policy.service.js';

@ApiTags('policies')
@Controller('api/v1/policies')
export class PoliciesController {
  constructor(private readonly policies: PolicyService) {}

  @Get()
  @RequirePermission('read', 'Policy')
  @ApiOperation({
    summary: 'The policy set in force: version, defaults, device groups, access, rules with their source',
  })
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

  @Post('reload')
  @HttpCode(200)
  @RequirePermission('manage', 'Policy')
  @ApiOperation({
    summary:
      'Re-read the policy files; 422 naming file, line and problem when they do not validate (the old set stays)',
  })
  reload(@Staff() staff: StaffPrincipal, @SourceAddress() ip: string) {
    return this.policies.reload({ type: 'user', id: staff.user.username, sourceAddress: ip });
  }
}
