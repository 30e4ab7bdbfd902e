/**
 * Render a Vega-Lite spec headless: vega-lite compiles it, vega draws it to SVG (renderer "none", no DOM, no
 * canvas), and @resvg/resvg-js rasterises the SVG to PNG with the DejaVu fonts the dejavu-fonts-ttf package
 * ships (no system font needed). Data is always inline: the loader refuses any file or network access.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { pictureFormat, type PictureFormat } from "./picture.js";
import { writeFileAtomicBytes } from "./write.js";

const require = createRequire(import.meta.url);
const fontDir = path.join(path.dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
export const FONT = "DejaVu Sans";
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => path.join(fontDir, f));

export { pictureFormat };
export type { PictureFormat };

const offline = vega.loader();
offline.load = () => Promise.reject(new Error("charts use inline data only"));

export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", loader: offline });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT, sansSerifFamily: FONT },
  });
  return r.render().asPng();
}

/** Write the picture; the format comes from the file extension (.svg or .png). */
export async function renderPicture(spec: TopLevelSpec, out: string): Promise<PictureFormat> {
  const format = pictureFormat(out);
  if (!format) throw new Error(`${out}: the picture file must end in .svg or .png`);
  const svg = await specToSvg(spec);
  writeFileAtomicBytes(out, format === "svg" ? Buffer.from(svg, "utf8") : svgToPng(svg));
  return format;
}
