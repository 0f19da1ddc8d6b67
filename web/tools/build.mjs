// build.mjs prepares the web UI's third-party assets at build time, so that the Go binary
// embeds small, ready-to-serve files and the browser never fetches anything from a CDN:
//
//   1. htmx (pinned in package.json) is copied to web/static/vendor/ with its licence.
//   2. The world map: Natural Earth 1:110m country shapes from the world-atlas package are
//      decoded with topojson-client, projected with the Equal Earth projection, rounded to
//      whole units of a 1000-unit-wide canvas and written as SVG path data, one entry per
//      country keyed by ISO 3166-1 alpha-2 code, to web/mapdata/world-110m.json. The server
//      renders the map as inline SVG from that file (no JavaScript needed).
//
// Run it with `npm ci && npm run build` in web/tools; commit what it writes. See README.md.
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import * as topojson from "topojson-client";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, "..");
const repo = join(web, "..");

// --- 1. htmx ---------------------------------------------------------------------------
const htmxPkg = require("htmx.org/package.json");
const htmxSrc = require.resolve("htmx.org/dist/htmx.min.js");
const vendor = join(web, "static", "vendor");
mkdirSync(vendor, { recursive: true });
const htmxName = `htmx-${htmxPkg.version}.min.js`;
copyFileSync(htmxSrc, join(vendor, htmxName));
copyFileSync(require.resolve("htmx.org/LICENSE"), join(vendor, "htmx-LICENSE"));
const htmxHash = createHash("sha256").update(readFileSync(htmxSrc)).digest("hex");
console.log(`vendored ${htmxName} sha256=${htmxHash}`);

// --- 2. the world map ------------------------------------------------------------------
// ISO 3166-1 numeric → alpha-2, from the country table the server itself embeds.
function parseCSV(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { row.push(field); field = ""; }
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field); field = "";
      if (row.length > 1 || row[0] !== "") rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows;
}
const csv = parseCSV(readFileSync(join(repo, "models", "data", "iso3166-m49.csv"), "utf8"));
const header = csv[0];
const colNum = header.indexOf("country-code"), colA2 = header.indexOf("alpha-2");
const alpha2 = new Map(csv.slice(1).map((r) => [r[colNum], r[colA2]]));

const atlasPkg = require("world-atlas/package.json");
const topology = require("world-atlas/countries-110m.json");
const countries = topojson.feature(topology, topology.objects.countries).features;

// Equal Earth (Šavrič, Patterson and Jenny, 2018): an equal-area projection, so that a
// country's shaded area is true to its size.
const A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796, M = Math.sqrt(3) / 2;
function project([lon, lat]) {
  const l = (lon * Math.PI) / 180, p = (lat * Math.PI) / 180;
  const t = Math.asin(M * Math.sin(p)), t2 = t * t, t6 = t2 * t2 * t2;
  const x = (l * Math.cos(t)) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)));
  const y = t * (A1 + A2 * t2 + t6 * (A3 + A4 * t2));
  return [x, -y];
}

// Antarctica holds no needs and would take a fifth of the height: leave it out.
const drawn = countries.filter((f) => f.id !== "010");
const rings = (g) => (g.type === "Polygon" ? g.coordinates : g.type === "MultiPolygon" ? g.coordinates.flat() : []);
let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
for (const f of drawn) for (const ring of rings(f.geometry).flatMap(splitAntimeridian)) for (const pt of ring) {
  const [x, y] = project(pt);
  minX = Math.min(minX, x); maxX = Math.max(maxX, x);
  minY = Math.min(minY, y); maxY = Math.max(maxY, y);
}
const WIDTH = 1000;
const scale = WIDTH / (maxX - minX);
const HEIGHT = Math.ceil((maxY - minY) * scale);

// splitAntimeridian returns a ring as one or more rings within longitudes [-180, 180]. A few
// 1:110m rings (Russia's Chukotka, Fiji) cross the antimeridian; drawn as they are, they would
// streak across the whole map. The ring's longitudes are first made continuous, then each copy
// shifted by -360, 0 and +360 is clipped to the map's range (Sutherland–Hodgman).
function splitAntimeridian(ring) {
  const unwrapped = [ring[0].slice()];
  for (let i = 1; i < ring.length; i++) {
    let [lon, lat] = ring[i];
    const prev = unwrapped[i - 1][0];
    while (lon - prev > 180) lon -= 360;
    while (prev - lon > 180) lon += 360;
    unwrapped.push([lon, lat]);
  }
  const lons = unwrapped.map((p) => p[0]);
  if (Math.min(...lons) >= -180 && Math.max(...lons) <= 180) return [ring];
  const clip = (pts, inside, cut) => {
    const out = [];
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i], b = pts[(i + 1) % pts.length];
      const ina = inside(a), inb = inside(b);
      if (ina) out.push(a);
      if (ina !== inb) {
        const t = (cut - a[0]) / (b[0] - a[0]);
        out.push([cut, a[1] + t * (b[1] - a[1])]);
      }
    }
    return out;
  };
  const parts = [];
  for (const shift of [-360, 0, 360]) {
    let pts = unwrapped.map(([lon, lat]) => [lon + shift, lat]);
    pts = clip(pts, (p) => p[0] <= 180, 180);
    pts = clip(pts, (p) => p[0] >= -180, -180);
    if (pts.length >= 3) parts.push(pts);
  }
  return parts;
}

// pathData writes rings as absolute move-to plus relative line-to commands on whole units,
// dropping repeated points and rings that collapse to nothing at this scale.
function pathData(geometry) {
  let d = "";
  for (const ring of rings(geometry).flatMap(splitAntimeridian)) {
    const pts = [];
    for (const pt of ring) {
      const [x, y] = project(pt);
      const q = [Math.round((x - minX) * scale), Math.round((y - minY) * scale)];
      const last = pts[pts.length - 1];
      if (!last || last[0] !== q[0] || last[1] !== q[1]) pts.push(q);
    }
    if (pts.length > 1 && pts[0][0] === pts[pts.length - 1][0] && pts[0][1] === pts[pts.length - 1][1]) pts.pop();
    if (pts.length < 3) continue;
    d += `M${pts[0][0]} ${pts[0][1]}l`;
    for (let i = 1; i < pts.length; i++) {
      const dx = pts[i][0] - pts[i - 1][0], dy = pts[i][1] - pts[i - 1][1];
      d += (i > 1 && dx >= 0 ? " " : "") + dx + (dy >= 0 ? " " : "") + dy;
    }
    d += "z";
  }
  return d;
}

const out = [];
for (const f of drawn) {
  const d = pathData(f.geometry);
  if (!d) continue;
  out.push({ iso: alpha2.get(f.id) || "", name: f.properties.name, d });
}
out.sort((a, b) => (a.iso || "~" + a.name).localeCompare(b.iso || "~" + b.name));
const doc = {
  source: `world-atlas ${atlasPkg.version} countries-110m.json (Natural Earth 1:110m Cultural Vectors, public domain), ` +
    `decoded with topojson-client, Equal Earth projection`,
  width: WIDTH,
  height: HEIGHT,
  countries: out,
};
mkdirSync(join(web, "mapdata"), { recursive: true });
const json = JSON.stringify(doc);
writeFileSync(join(web, "mapdata", "world-110m.json"), json + "\n");
const unmapped = out.filter((c) => !c.iso).map((c) => c.name);
console.log(`map: ${out.length} shapes, ${WIDTH}x${HEIGHT}, ${json.length} bytes; without ISO code: ${unmapped.join(", ")}`);
