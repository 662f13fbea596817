// The case manifest (data/cases/<slug>.json, written by the build): loaded once, flattened to
// a list of series. All URLs in it are relative to the site root, which is the viewer folder's
// parent: resolving against that keeps the viewer working under any base URL.

export const SITE_ROOT = new URL("../", import.meta.url);

// Transfer syntaxes this viewer decodes, and how. JPEG-LS and JPEG 2000 (non-HT) have no
// decoder here: the build's default (HTJ2K) and raw frames always work.
export const SYNTAXES = {
  "1.2.840.10008.1.2": "raw",
  "1.2.840.10008.1.2.1": "raw",
  "1.2.840.10008.1.2.4.201": "htj2k",
  "1.2.840.10008.1.2.4.202": "htj2k",
  "1.2.840.10008.1.2.4.203": "htj2k",
  "1.2.840.10008.1.2.4.50": "jpeg",
};

const SYNTAX_NAMES = {
  "1.2.840.10008.1.2.4.80": "JPEG-LS lossless",
  "1.2.840.10008.1.2.4.81": "JPEG-LS near-lossless",
  "1.2.840.10008.1.2.4.90": "JPEG 2000 lossless",
  "1.2.840.10008.1.2.4.91": "JPEG 2000",
  "1.2.840.10008.1.2.4.51": "JPEG extended",
  "1.2.840.10008.1.2.4.57": "JPEG lossless",
  "1.2.840.10008.1.2.4.70": "JPEG lossless",
  "1.2.840.10008.1.2.5": "RLE",
};

export function syntaxName(uid) {
  return SYNTAX_NAMES[uid] || uid || "unknown";
}

export class ManifestError extends Error {}

export function manifestUrl(slug) {
  return new URL(`data/cases/${slug}.json`, SITE_ROOT);
}

// `early` is boot.js's fetch of the same URL, already under way: {response} | {error}.
export async function loadManifest(slug, early = null) {
  const { response, error } = await (early || fetch(manifestUrl(slug)).then(
    (r) => ({ response: r }), (e) => ({ error: e })));
  if (error) {
    throw new ManifestError(`The case "${slug}" could not be loaded: network error (${error.message}).`);
  }
  if (!response.ok) {
    const why = response.status === 404 ? "it does not exist on this site" : `HTTP ${response.status}`;
    throw new ManifestError(`The case "${slug}" was not found: ${why} (data/cases/${slug}.json).`);
  }
  let data;
  try {
    data = await response.json();
  } catch {
    throw new ManifestError(`The case "${slug}" has a broken manifest (data/cases/${slug}.json).`);
  }
  return normalize(data, slug);
}

function normalize(data, slug) {
  const studies = Array.isArray(data.studies) ? data.studies : [];
  const series = [];
  for (const study of studies) {
    for (const s of study.series || []) {
      const frames = (s.frames || []).map((f) => ({
        // a packed frame's url only names it (the loader's cache key): its bytes are in `pack`
        url: f.pack ? `${new URL(f.pack, SITE_ROOT).href}#${f.offset}` : new URL(f.url, SITE_ROOT).href,
        pack: f.pack ? new URL(f.pack, SITE_ROOT).href : null,
        offset: f.offset || 0,
        bytes: f.bytes || 0,
        position: f.position || null,
        transferSyntax: f.transferSyntax || s.transferSyntax,
      }));
      if (!frames.length || !(s.rows > 0) || !(s.columns > 0)) continue;
      const colour = (s.samplesPerPixel || 1) > 1;
      series.push({
        ...s,
        index: series.length,
        study,
        frames,
        colour,
        rescale: Array.isArray(s.rescale) ? s.rescale : [1, 0],
        windows: colour ? [] : (s.windows || []).filter((w) => w.width > 0),
        thumbnailUrl: s.thumbnail ? new URL(s.thumbnail, SITE_ROOT).href : null,
        preview: previewOf(s.preview, frames.length),
      });
    }
  }
  if (!series.length) throw new ManifestError(`The case "${slug}" has no images.`);
  const c = data.case || {};
  return {
    case: {
      slug: c.slug || slug,
      title: c.title || slug,
      unknown: !!c.unknown,
      history: c.history || "",
      findings: c.findings || "",
      diagnosis: c.diagnosis || "",
      discussionHtml: c.discussionHtml || "",
      tags: c.tags || [],
      view: c.view || {},
      annotations: Array.isArray(c.annotations) ? c.annotations : [],
      answer: typeof c.answer === "string" ? c.answer : null, // what Reveal fetches
    },
    series,
  };
}

// The series' preview tier (see preview.js), or null when it has none or does not match.
function previewOf(p, count) {
  if (!p || !(p.rows > 0) || !(p.columns > 0) || !Array.isArray(p.frames) || p.frames.length !== count) return null;
  return { rows: p.rows, columns: p.columns, frames: p.frames, chunks: (p.chunks || []).map((u) => new URL(u, SITE_ROOT).href) };
}

// The window a series opens with: the data's own first window; null means "from the pixels"
// (min..max of the first decoded frame), for MR and others that carry none.
export function defaultWindow(series) {
  if (series.colour) return { width: 256, center: 128 };
  if (series.windows.length) return { width: series.windows[0].width, center: series.windows[0].center };
  return null;
}

// A window by name among the series' presets (case-insensitive).
export function presetWindow(series, name) {
  const preset = series.windows.find((w) => w.name.toLowerCase() === name);
  return preset ? { width: preset.width, center: preset.center } : null;
}
