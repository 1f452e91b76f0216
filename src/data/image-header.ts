// Image size and channel count from the first bytes of a JPEG or PNG, so the decoding worker can plan
// its crop without a separate metadata pass through libvips. Anything else (or a header this does not
// understand) returns null and the caller asks sharp.
export interface ImageHeader { format: 'jpeg' | 'png'; width: number; height: number; channels: number }

export function readImageHeader(b: Uint8Array): ImageHeader | null {
  if (b.length >= 26 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    const be32 = (o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    // IHDR is the first chunk: width, height, bit depth, colour type.
    if (b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) return null;
    const channels = ({ 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 } as Record<number, number>)[b[25]!];
    return channels ? { format: 'png', width: be32(16), height: be32(20), channels } : null;
  }
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) return null;
    const marker = b[p + 1]!;
    if (marker === 0xff) { p++; continue; }  // fill byte
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { p += 2; continue; }  // no length
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    if (len < 2) return null;
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width, components.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (p + 10 > b.length) return null;
      const height = (b[p + 5]! << 8) | b[p + 6]!, width = (b[p + 7]! << 8) | b[p + 8]!;
      return width > 0 && height > 0 ? { format: 'jpeg', width, height, channels: b[p + 9]! } : null;
    }
    if (marker === 0xda || marker === 0xd9) return null;  // scan data before any frame header
    p += 2 + len;
  }
  return null;
}
