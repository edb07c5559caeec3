// Runs under OpenClaw's own Node (24) and reads what the installed openclaw package itself says,
// so the live suite compares countersign against OpenClaw's code rather than a copy of it:
//   node openclaw-package.mjs <openclaw package dir> '<json request>'
// request = { paths: string[] }           → { reload: { [path]: "hot" | "restart" | "none" } }
//         + { flagConfigs: [{ id, config }] } → { flags: { [id]: string[] } }  (OpenClaw's labels)
//         + { scan: true }                → { scan: { core: [...], dockerKeys: [...], plugins: [...] } }
// dist/ chunk names carry build hashes, so modules are found by their name's prefix.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [packageDir, requestText] = process.argv.slice(2);
const request = JSON.parse(requestText);
const dist = join(packageDir, 'dist');
const chunk = (prefix) => {
  const name = readdirSync(dist).find((file) => file.startsWith(prefix) && file.endsWith('.mjs'));
  if (!name) throw new Error(`no dist module starting with ${prefix}`);
  return join(dist, name);
};
const load = async (prefix) => import(pathToFileURL(chunk(prefix)).href);

/** Every export of a minified chunk, found by what it does rather than its one-letter name. */
const exported = (module, test) => Object.values(module).find((value) => typeof value === 'function' && test(value));

function bundledManifests() {
  const extensions = join(dist, 'extensions');
  return (existsSync(extensions) ? readdirSync(extensions) : [])
    .map((dir) => join(extensions, dir, 'openclaw.plugin.json'))
    .filter((file) => existsSync(file))
    .map((file) => JSON.parse(readFileSync(file, 'utf8')))
    .filter((manifest) => manifest.configContracts?.dangerousFlags?.length);
}

const out = {};
if (request.paths) {
  const plan = await load('config-reload-plan-');
  // resolveConfigReloadMetadata(path) → { kind }
  const resolve = exported(plan, (fn) => fn.length === 1 && /matchRule\(path\)|isPluginInstallTimestampPath/.test(String(fn)) && /kind/.test(String(fn)));
  out.reload = Object.fromEntries(request.paths.map((path) => [path, resolve(path).kind]));
}
if (request.flagConfigs) {
  const current = await load('dangerous-config-flags-current-');
  // collectEnabledInsecureOrDangerousFlagsFromContracts(cfg, inputs)
  const collect = exported(current, (fn) => /collectCoreInsecureOrDangerousFlags\(cfg\)/.test(String(fn)));
  // Plugin-declared flags are checked against the bundled plugins' manifests, with OpenClaw's own
  // wildcard matcher, as its audit does when those plugins are installed.
  const matches = await load('config-contract-matches-');
  const collectPluginConfigContractMatches = exported(matches, (fn) => /let states = \[\{/.test(String(fn)));
  const configContractsById = new Map(bundledManifests().map((manifest) => [manifest.id, manifest]));
  out.flags = Object.fromEntries(
    request.flagConfigs.map(({ id, config }) => [
      id,
      collect(config, { collectPluginConfigContractMatches, configContractsById }),
    ]),
  );
}
if (request.scan) {
  // The core checks, read from the module's source: `cfg.a?.b?.c === true` → path a.b.c, value true.
  const source = readFileSync(chunk('dangerous-config-flags-current-'), 'utf8');
  const core = [...source.matchAll(/cfg\.([\w?.]+) === (true|false)\) enabledFlags\.push\("([^"]+)"\)/g)].map(
    ([, path, value, label]) => ({ path: path.replaceAll('?', ''), value: value === 'true', label }),
  );
  const lists = [...source.matchAll(/cfg\.([\w?.]+)\?\.length \?\? 0/g)].map(([, path]) => path.replaceAll('?', ''));
  const perEntry = [...source.matchAll(/cfg\.([\w?.]+)\)\) \{\s*for \(const \[index, mapping\] of [\w.?]+\.entries\(\)\) if \(mapping\?\.(\w+) === (true|false)\)/g)].map(
    ([, list, key, value]) => ({ list: list.replaceAll('?', ''), key, value: value === 'true' }),
  );
  const dockerSource = readdirSync(dist)
    .filter((file) => file.startsWith('config-') && file.endsWith('.mjs'))
    .map((file) => readFileSync(join(dist, file), 'utf8'))
    .find((text) => text.includes('DANGEROUS_SANDBOX_DOCKER_BOOLEAN_KEYS = ['));
  const dockerKeys = [...(/DANGEROUS_SANDBOX_DOCKER_BOOLEAN_KEYS = \[([^\]]*)\]/.exec(dockerSource ?? '')?.[1] ?? '').matchAll(/"(\w+)"/g)].map(
    ([, key]) => key,
  );
  // Bundled plugins declare theirs in their manifests (configContracts.dangerousFlags).
  const plugins = bundledManifests().flatMap((manifest) =>
    manifest.configContracts.dangerousFlags.map((flag) => ({ pluginId: manifest.id, ...flag })),
  );
  // Every push in the module, so a check written in a shape the patterns above miss fails the test.
  const pushes = (source.match(/enabledFlags\.push\(/g) ?? []).length;
  out.scan = { core, lists, perEntry, dockerKeys, plugins, pushes };
}
process.stdout.write(JSON.stringify(out));
