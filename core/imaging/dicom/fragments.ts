/** Encapsulated pixel data: fragments to one encoded byte stream per frame. */
import type { DataSet, Element } from './dicom-parser-lib';

export class TruncatedFragmentError extends Error {
  constructor(readonly missingBytes: number) {
    super(`the last pixel data fragment is cut short by ${missingBytes} bytes`);
  }
}

interface Fragment {
  offset: number;
  position: number;
  length: number;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** JPEG, JPEG-LS (FFD8) and JPEG 2000 / HTJ2K codestream (FF4F) or JP2 box starts. */
function startsFrame(bytes: Uint8Array): boolean {
  if (bytes.length < 2 || bytes[0] !== 0xff) {
    // JP2 file format signature box: 0000000C 6A502020
    return bytes.length >= 8 && bytes[4] === 0x6a && bytes[5] === 0x50 && bytes[6] === 0x20 && bytes[7] === 0x20;
  }
  return bytes[1] === 0xd8 || bytes[1] === 0x4f;
}

export interface EncapsulatedFrames {
  /** Encoded bytes of each complete frame, in order. */
  frames: Uint8Array[];
  /** Set when the last fragment runs past the end of the file: the frames it belongs to are left out. */
  truncatedBy?: TruncatedFragmentError;
}

/**
 * Groups fragments into frames: one frame takes all fragments; otherwise the Basic Offset Table, one fragment per
 * frame, or (no table, more fragments than frames) a new frame wherever a fragment starts with a codestream marker.
 * Returns fewer frames than asked for when the data does not hold them (the caller reports that). A fragment cut by
 * the end of the file ends the list before the frame that holds it; a single-frame image cut short throws.
 */
export function encapsulatedFrames(dataSet: DataSet, element: Element, frameCount: number): EncapsulatedFrames {
  const all = (element.fragments ?? []) as Fragment[];
  const bytes = dataSet.byteArray as Uint8Array;
  const data = (f: Fragment) => bytes.subarray(f.position, f.position + f.length);
  if (all.length === 0) return { frames: [] };
  // Caught here because some codecs (CharLS) take a minute to give up on a truncated stream.
  const cut = all.findIndex((f) => f.position + f.length > bytes.length);
  const truncatedBy = cut >= 0 ? new TruncatedFragmentError(all[cut].position + all[cut].length - bytes.length) : undefined;
  if (frameCount === 1) {
    if (truncatedBy) throw truncatedBy;
    return { frames: [concat(all.map(data))] };
  }
  const fragments = cut >= 0 ? all.slice(0, cut) : all;
  const result = (frames: Uint8Array[], lastMayBePartial: boolean): EncapsulatedFrames =>
    truncatedBy ? { frames: lastMayBePartial ? frames.slice(0, -1) : frames, truncatedBy } : { frames };

  const offsets = element.basicOffsetTable ?? [];
  if (offsets.length === frameCount) {
    const frames: Uint8Array[] = [];
    let lastPartial = false;
    for (let i = 0; i < frameCount; i++) {
      const start = offsets[i];
      const end = i + 1 < frameCount ? offsets[i + 1] : Infinity;
      const parts = fragments.filter((f) => f.offset >= start && f.offset < end).map(data);
      if (parts.length === 0) break;
      frames.push(concat(parts));
      // The cut fragment belongs to this frame when it starts inside this frame's range.
      lastPartial = cut >= 0 && all[cut].offset >= start && all[cut].offset < end;
    }
    return result(frames, lastPartial);
  }
  if (all.length === frameCount) return result(fragments.map(data), false);

  const frames: Uint8Array[][] = [];
  for (const fragment of fragments) {
    const part = data(fragment);
    if (frames.length === 0 || startsFrame(part)) frames.push([part]);
    else frames[frames.length - 1].push(part);
  }
  // A cut fragment that does not start a new frame continues the last one, which is then incomplete.
  const cutStartsFrame = cut >= 0 && startsFrame(bytes.subarray(all[cut].position, Math.min(bytes.length, all[cut].position + 8)));
  return result(frames.map(concat), cut >= 0 && !cutStartsFrame);
}
