/** Picture formats by file extension (kept apart from the renderer so that checking an option loads nothing heavy). */
import path from "node:path";

export type PictureFormat = "svg" | "png";

export function pictureFormat(file: string): PictureFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  return ext === ".svg" ? "svg" : ext === ".png" ? "png" : undefined;
}
