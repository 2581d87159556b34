import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';

/**
 * What a vendor or a hospital does with the document: generates TypeScript types from it
 * (openapi-typescript) and compiles small clients against them, in one tsc program.
 * Returns tsc's diagnostics, each prefixed with its file's name (none when all compile).
 */
export async function compileGeneratedClient(document: object, clients: Record<string, string>): Promise<string[]> {
  const types = astToString(await openapiTS(structuredClone(document) as never));
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-client-'));
  try {
    writeFileSync(join(dir, 'gatehouse-api.ts'), types);
    for (const [name, source] of Object.entries(clients)) writeFileSync(join(dir, name), source);
    const program = ts.createProgram(
      Object.keys(clients).map((name) => join(dir, name)),
      {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2023,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
        types: [],
      },
    );
    return ts
      .getPreEmitDiagnostics(program)
      .map(
        (d) =>
          `${d.file?.fileName.slice(dir.length + 1) ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A client of the agent decision call and the staff approval call, written only against
 * the generated types. The @ts-expect-error lines prove the types are real (not `any`):
 * each must be a type error, or tsc reports the directive as unused.
 */
export const CLIENT_USING_GENERATED_TYPES = `
import type { paths, components } from './gatehouse-api.js';

type DecideBody = paths['/api/v1/agent/decisions']['post']['requestBody']['content']['application/json'];
type DecisionAnswer = paths['/api/v1/agent/decisions']['post']['responses'][200]['content']['application/json'];
type ApproveBody = NonNullable<paths['/api/v1/approvals/{requestId}/approve']['post']['requestBody']>['content']['application/json'];
type ApprovalView = paths['/api/v1/approvals/{requestId}/approve']['post']['responses'][200]['content']['application/json'];
type ErrorBody = components['schemas']['Error'];

export async function decide(baseUrl: string, credential: string, body: DecideBody): Promise<DecisionAnswer | ErrorBody> {
  const res = await fetch(baseUrl + '/api/v1/agent/decisions', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + credential, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as DecisionAnswer | ErrorBody;
}

export async function approve(baseUrl: string, token: string, requestId: string, body: ApproveBody): Promise<ApprovalView> {
  const res = await fetch(baseUrl + '/api/v1/approvals/' + requestId + '/approve', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as ApprovalView;
}

export async function example(baseUrl: string, credential: string, staffToken: string): Promise<string> {
  const answer = await decide(baseUrl, credential, {
    requestId: '6f1c1b7e-2a52-4f7e-9d55-0f3f6a0c1d2e',
    action: 'remote-session',
    remoteUser: { id: 'jdoe@acme.example', enterprise: 'acme-medical' },
  });
  if ('error' in answer) return answer.error.code + ': ' + answer.error.message;
  const decision: 'allow' | 'deny' | 'pending' = answer.decision;
  const view = await approve(baseUrl, staffToken, answer.requestId, { comment: 'checked with the vendor' });
  // @ts-expect-error an answer's decision is one of the documented values only
  const impossible: 'maybe' = answer.decision;
  // @ts-expect-error the decision call requires the request id
  const incomplete: DecideBody = { action: 'remote-session', remoteUser: { id: 'x', enterprise: 'y' } };
  return [decision, view.status, impossible, incomplete].join(' ');
}
`;
