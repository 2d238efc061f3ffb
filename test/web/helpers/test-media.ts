// Test pictures made on the spot with sharp (no binary fixtures): JPEGs of a
// given size and colour, optionally with an EXIF date taken.
import sharp from "sharp";

export async function testJpeg(
  width: number,
  height: number,
  seed: number,
  takenAt?: string,
): Promise<Buffer> {
  const background = { r: (seed * 70) % 256, g: (seed * 130) % 256, b: (seed * 200) % 256 };
  let image = sharp({ create: { width, height, channels: 3, background } }).jpeg({ quality: 85 });
  if (takenAt) image = image.withExif({ IFD0: { DateTime: takenAt } });
  return image.toBuffer();
}
