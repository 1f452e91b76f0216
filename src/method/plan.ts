// Which module outputs become CAT sites and with which settings: data, not code. Sites are chosen
// by module class, by dotted-name glob or by a predicate; settings come from the defaults, then the
// site type's (ReLU-like outputs are unsigned), then `at` overrides by glob in order (the last
// match wins), as torch.ao's QConfigMapping resolves global → type → name.
import { GELU, Identity, LayerNorm, ReLU, ReLU6, type AnyModule } from '../nn/index.js';
import { CatkitError } from '../errors.js';
import { REFERENCE_SAMPLING } from './soft-entropy.js';
import type { SiteSettings } from './site.js';

/** A module class (matches instances and subclasses), a dotted-name glob, or a predicate. */
export type SiteSelector = (abstract new (...args: any[]) => AnyModule) | string | ((name: string, m: AnyModule) => boolean);

/** Per-site settings for the sites a glob matches, e.g. { pattern: 'layer1.*', bits: 6 }. */
export type SiteOverride = { pattern: string } & Partial<SiteSettings>;

export interface SitePlanOptions {
  /** Which module outputs are sites (any selector matches). Default: every ReLU and ReLU6. */
  sites?: SiteSelector | readonly SiteSelector[];
  /** Sites to leave out (any selector matches), e.g. 'extras.*' or 'fc'. */
  exclude?: SiteSelector | readonly SiteSelector[];
  /** Settings for every site (defaults: 4 bits, tensor range, learned clip, entropy, T = 10, reference sampling). */
  defaults?: Partial<SiteSettings>;
  /** Overrides by name glob, applied in order; each pattern must match at least one site. */
  at?: readonly SiteOverride[];
  /** Leave the last site unquantized and uncounted (reference --noQuantEdges). */
  noQuantEdges?: boolean;
}

export const DEFAULT_SITE_SETTINGS: Readonly<SiteSettings> = Object.freeze({
  bits: 4, enabled: true, signed: true, range: 'tensor', learnClip: true, clipInit: 'mean+3std',
  regularizer: 'entropy', temperature: 10, sampling: { ...REFERENCE_SAMPLING },
});

/** Module classes whose outputs are never negative: unsigned range [0, |c|], clip initial value by kind. */
export const UNSIGNED_SITE_TYPES: readonly (abstract new (...args: any[]) => AnyModule)[] = [ReLU, ReLU6];

/** Named selectors for configuration files and the command line. */
export const SITE_TYPES: Readonly<Record<string, abstract new (...args: any[]) => AnyModule>> = Object.freeze({
  relu: ReLU, relu6: ReLU6, gelu: GELU, layernorm: LayerNorm, identity: Identity,
});

export interface PlannedSite {
  name: string;
  module: AnyModule;
  settings: SiteSettings;
  /** The clip before calibration: 6 after ReLU6, else 1 (or settings.clipInit when it is a number). */
  defaultClip: number;
}

/**
 * Glob over dotted module names: `*` matches any run of characters (dots included), `?` one
 * character; the whole name must match. 'layer1.*' matches 'layer1.0.relu1'.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob.split('').map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$+.()|[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

/** One test for a selector or a list of them (any matches); `fallback` when sel is undefined. */
export function selectorMatcher(sel: SiteSelector | readonly SiteSelector[] | undefined, fallback: readonly SiteSelector[]): (name: string, m: AnyModule) => boolean {
  const list = sel === undefined ? fallback : Array.isArray(sel) ? sel as readonly SiteSelector[] : [sel as SiteSelector];
  const tests = list.map((s): ((name: string, m: AnyModule) => boolean) => {
    if (typeof s === 'string') { const re = globToRegExp(s); return (name) => re.test(name); }
    if (isModuleClass(s)) return (_, m) => m instanceof s;
    return s as (name: string, m: AnyModule) => boolean;
  });
  return (name, m) => tests.some((t) => t(name, m));
}

function isModuleClass(s: SiteSelector): s is abstract new (...args: any[]) => AnyModule {
  return typeof s === 'function' && s.prototype !== undefined && typeof (s.prototype as { forward?: unknown }).forward === 'function';
}

/** Resolves the sites of `model` (module order, input to output) and each one's settings. */
export function planSites(model: AnyModule, o: SitePlanOptions = {}): PlannedSite[] {
  const isSite = selectorMatcher(o.sites, UNSIGNED_SITE_TYPES);
  const excluded = o.exclude === undefined ? () => false : selectorMatcher(o.exclude, []);
  const chosen = model.namedModules().filter(([name, m]) => name !== '' && isSite(name, m) && !excluded(name, m));
  if (chosen.length === 0) {
    throw new CatkitError('cat_no_sites', `CAT: no module of ${model.constructor.name} matches the site selection${o.sites === undefined ? ' (default: every ReLU / ReLU6)' : ''}`,
      { hint: 'choose sites by class (GELU), by name glob (\'encoder.*.act\') or by a predicate' });
  }
  const overrides = (o.at ?? []).map((ov) => {
    if (typeof ov.pattern !== 'string' || ov.pattern === '') throw new CatkitError('cat_site_pattern', `CAT: a per-site setting needs a name pattern, got ${JSON.stringify(ov.pattern)}`);
    return { re: globToRegExp(ov.pattern), ov, used: false };
  });
  const planned = chosen.map(([name, module]): PlannedSite => {
    const unsigned = UNSIGNED_SITE_TYPES.some((T) => module instanceof T);
    let settings: SiteSettings = { ...DEFAULT_SITE_SETTINGS, signed: !unsigned, ...defined(o.defaults ?? {}), sampling: { ...DEFAULT_SITE_SETTINGS.sampling, ...defined(o.defaults?.sampling ?? {}) } };
    for (const entry of overrides) {
      if (!entry.re.test(name)) continue;
      entry.used = true;
      const { pattern: _, ...rest } = entry.ov;
      settings = { ...settings, ...defined(rest), sampling: { ...settings.sampling, ...defined(rest.sampling ?? {}) } };
    }
    const defaultClip = module instanceof ReLU6 ? 6 : 1;
    return { name, module, settings, defaultClip };
  });
  const unused = overrides.filter((e) => !e.used).map((e) => e.ov.pattern);
  if (unused.length) {
    throw new CatkitError('cat_site_pattern', `CAT: per-site pattern${unused.length > 1 ? 's' : ''} ${unused.map((p) => `'${p}'`).join(', ')} match${unused.length > 1 ? '' : 'es'} no site; sites are ${summarize(planned.map((p) => p.name))}`);
  }
  if (o.noQuantEdges) planned[planned.length - 1]!.settings.enabled = false;
  return planned;
}

/** The entries whose value is not undefined (so `{ bits: undefined }` does not erase a default). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function summarize(names: string[]): string {
  return names.length <= 8 ? names.join(', ') : `${names.slice(0, 4).join(', ')}, …, ${names.slice(-2).join(', ')} (${names.length})`;
}
