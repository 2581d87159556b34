import { applyDecorators, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Action, Subject } from '../auth/abilities.js';
import { access } from '../auth/permissions.decorator.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { CsrfGuard } from './csrf.guard.js';

/**
 * A console controller: its pages are HTML, not API (left out of the OpenAPI document),
 * its errors are pages, and its forms are checked for CSRF.
 */
export const ConsoleController = () =>
  applyDecorators(ApiExcludeController(), UseFilters(ConsoleErrorFilter), UseGuards(CsrfGuard));

/**
 * A page or form for signed-in staff (the console's cookie). With `action`/`subject` the
 * same CASL check as the API's RequirePermission: the nav, the buttons and the server agree.
 */
export const ConsolePage = (action?: Action, subject?: Subject) =>
  access(action && subject ? { kind: 'console', action, subject } : { kind: 'console' });

/** A console page anyone may open (sign-in, first-run setup, assets). */
export const ConsolePublic = () => access({ kind: 'public' });
