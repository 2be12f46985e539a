#!/usr/bin/env node
// Draws the Teams app icons with pngjs: appPackage/color.png (192x192, full colour) and
// appPackage/outline.png (32x32, white on transparent). Run once; the PNGs are committed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'appPackage');
const ACCENT = [0x4f, 0x6b, 0xed];
const WHITE = [0xff, 0xff, 0xff];

/** A person (head and shoulders) with a plus sign: "add a guest". Coordinates are in a 0..1 square. */
function covered(x, y) {
  const head = (x - 0.42) ** 2 + (y - 0.36) ** 2 <= 0.13 ** 2;
  const shoulders = y >= 0.56 && y <= 0.8 && (x - 0.42) ** 2 / 0.24 ** 2 + (y - 0.8) ** 2 / 0.24 ** 2 <= 1;
  const plusBar = Math.abs(y - 0.3) <= 0.035 && x >= 0.66 && x <= 0.86;
  const plusStem = Math.abs(x - 0.76) <= 0.035 && y >= 0.2 && y <= 0.4;
  return head || shoulders || plusBar || plusStem;
}

function draw(size, paint) {
  const png = new PNG({ width: size, height: size });
  const samples = 4; // supersampling for smooth edges
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++)
        for (let sx = 0; sx < samples; sx++)
          if (covered((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size)) hits++;
      const [r, g, b, a] = paint(hits / (samples * samples));
      const i = (py * size + px) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = a;
    }
  }
  return PNG.sync.write(png);
}

const mix = (from, to, t) => from.map((c, k) => Math.round(c + (to[k] - c) * t));
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'color.png'), draw(192, (t) => [...mix(ACCENT, WHITE, t), 255]));
fs.writeFileSync(path.join(out, 'outline.png'), draw(32, (t) => [...WHITE, Math.round(255 * t)]));
console.log(`Wrote ${path.join(out, 'color.png')} and ${path.join(out, 'outline.png')}`);
