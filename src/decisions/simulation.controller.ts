import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiBodySchema, ValidBody } from '../common/zod-validation.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { simulationSchema } from '../policies/policies.responses.js';
import { PolicySimulator, simulateSchema, type SimulateInput } from './policy-simulator.js';

/**
 * "What would happen if": the decision (a live approval grant applied as decisions apply it),
 * every matching rule, and why the others did not match. Records nothing.
 */
@ApiTags('policies')
@Controller('api/v1/policies')
export class SimulationController {
  constructor(private readonly simulator: PolicySimulator) {}

  @Post('simulate')
  @HttpCode(200)
  @RequirePermission('read', 'Policy')
  @ApiOperation({ summary: 'Simulate a decision for an enrolled device, now or `at` a given instant' })
  @ApiBodySchema(simulateSchema)
  @ApiSuccess(simulationSchema)
  @ApiErrors([404, 'No such enrolled device in your scope'], [503, 'No valid policy set is loaded'])
  simulate(@ValidBody(simulateSchema) body: SimulateInput, @Staff() staff: StaffPrincipal) {
    return this.simulator.simulate(staff, body);
  }
}
