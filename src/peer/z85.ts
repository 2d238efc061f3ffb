// Z85 (ZeroMQ RFC 32), the text form ZeroMQ's CURVE options take keys in:
// 32 raw key bytes <-> 40 characters. Pure; refuses anything that is not a
// whole number of 4-byte groups / 5-character groups of the alphabet.
import { invalidArgument } from "../common/album-error.ts";

const ALPHABET =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw invalidArgument("z85 input must be a multiple of 4 bytes");
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let value =
      ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
    const chunk: string[] = [];
    for (let j = 0; j < 5; j++) {
      chunk.push(ALPHABET[value % 85]!);
      value = Math.floor(value / 85);
    }
    out += chunk.reverse().join("");
  }
  return out;
}

export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw invalidArgument("z85 text must be a multiple of 5 characters");
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const digit = code < 128 ? DECODE[code]! : -1;
      if (digit < 0) throw invalidArgument("not a z85 character");
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) throw invalidArgument("z85 group out of range");
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}
