// Writes the CycloneDX SBOM of what ships: the packages that `npm ci --omit=dev` installs
// (the Dockerfile's runtime image), each with its licence. `npm run sbom [-- <file>]`,
// default sbom.cdx.json; exit 1 when a shipped package has no licence (it names each).
//
// Why not `npm sbom --omit dev` alone: it drops production packages that a development
// package also names as a peer (npm/cli#7909: here @nestjs/core, @nestjs/common, rxjs and
// some 80 more). So npm writes the whole tree, and this removes the packages that npm itself
// marks development-only (property cdx:npm:package:development), the same flag that
// `npm ci --omit=dev` skips. Packages installed as optional peers of production packages
// (npm's devOptional, such as express beside @nestjs/core) are installed, so they stay.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const output = process.argv[2] ?? 'sbom.cdx.json';
const DEVELOPMENT = 'cdx:npm:package:development';

/** npm as `npm run` started it (npm_execpath), else the npm on PATH. */
function npm(args) {
  const execPath = process.env.npm_execpath;
  const [command, prefix] = execPath?.endsWith('.js') ? [process.execPath, [execPath]] : ['npm', []];
  const run = spawnSync(command, [...prefix, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) {
    process.stderr.write(run.stderr);
    throw new Error(`npm ${args.join(' ')} failed (exit ${run.status}): run \`npm ci\` first, then again`);
  }
  return run.stdout;
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const undeclared = JSON.parse(readFileSync(join(here, 'undeclared-licences.json'), 'utf8'));
const bom = JSON.parse(npm(['sbom', '--sbom-format', 'cyclonedx', '--sbom-type', 'application']));

const isDevelopmentOnly = (c) => (c.properties ?? []).some((p) => p.name === DEVELOPMENT && p.value === 'true');
const dropped = new Set(bom.components.filter(isDevelopmentOnly).map((c) => c['bom-ref']));
bom.components = bom.components.filter((c) => !dropped.has(c['bom-ref']));
bom.dependencies = bom.dependencies
  .filter((d) => !dropped.has(d.ref))
  .map((d) => ({ ...d, dependsOn: (d.dependsOn ?? []).filter((ref) => !dropped.has(ref)) }));

// npm names the root after the folder it runs in (a clone's or a worktree's name).
bom.metadata.component.name = pkg.name;

const unlicensed = [];
for (const c of bom.components) {
  if (c.licenses?.length) continue;
  const read = undeclared[`${c.name}@${c.version}`];
  if (!read) {
    unlicensed.push(`${c.name}@${c.version}`);
    continue;
  }
  c.licenses = [{ license: { id: read.id } }];
  c.properties = [...(c.properties ?? []), { name: 'gatehouse:licence-read-from', value: read.readFrom }];
}

writeFileSync(output, `${JSON.stringify(bom, null, 2)}\n`);
console.log(
  `Wrote ${output}: ${bom.components.length} packages that ship (${dropped.size} development-only left out).`,
);
if (unlicensed.length > 0) {
  console.error(
    `No licence declared by: ${unlicensed.join(', ')}. Read each one's licence in node_modules/<name> ` +
      `and add it to ops/sbom/undeclared-licences.json.`,
  );
  process.exit(1);
}
