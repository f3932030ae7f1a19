/** Transfer syntaxes MedTune reads, and how their pixel data is encoded. */

export type PixelEncoding =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg-2000'
  | 'htj2k'
  /** Deflated Image Frame Compression: one raw deflate stream of native samples per frame. */
  | 'deflate';

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  encoding: PixelEncoding;
  /** The syntax allows lossy coding (the reference's and DICOM's notion of "lossy transfer syntax"). */
  lossy: boolean;
  bigEndian?: boolean;
  deflated?: boolean;
}

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const DEFLATED_IMAGE_FRAME_COMPRESSION = '1.2.840.10008.1.2.8.1';

const SYNTAXES: TransferSyntaxInfo[] = [
  { uid: IMPLICIT_VR_LITTLE_ENDIAN, name: 'Implicit VR Little Endian', encoding: 'native', lossy: false },
  { uid: EXPLICIT_VR_LITTLE_ENDIAN, name: 'Explicit VR Little Endian', encoding: 'native', lossy: false },
  {
    uid: DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    name: 'Deflated Explicit VR Little Endian',
    encoding: 'native',
    lossy: false,
    deflated: true,
  },
  { uid: EXPLICIT_VR_BIG_ENDIAN, name: 'Explicit VR Big Endian', encoding: 'native', lossy: false, bigEndian: true },
  { uid: '1.2.840.10008.1.2.5', name: 'RLE Lossless', encoding: 'rle', lossy: false },
  { uid: DEFLATED_IMAGE_FRAME_COMPRESSION, name: 'Deflated Image Frame Compression', encoding: 'deflate', lossy: false },
  { uid: '1.2.840.10008.1.2.4.50', name: 'JPEG Baseline (Process 1)', encoding: 'jpeg-baseline', lossy: true },
  { uid: '1.2.840.10008.1.2.4.51', name: 'JPEG Extended (Process 2 & 4)', encoding: 'jpeg-extended', lossy: true },
  { uid: '1.2.840.10008.1.2.4.57', name: 'JPEG Lossless, Non-Hierarchical (Process 14)', encoding: 'jpeg-lossless', lossy: false },
  {
    uid: '1.2.840.10008.1.2.4.70',
    name: 'JPEG Lossless SV1 (Process 14, Selection Value 1)',
    encoding: 'jpeg-lossless',
    lossy: false,
  },
  { uid: '1.2.840.10008.1.2.4.80', name: 'JPEG-LS Lossless', encoding: 'jpeg-ls', lossy: false },
  { uid: '1.2.840.10008.1.2.4.81', name: 'JPEG-LS Lossy (Near-Lossless)', encoding: 'jpeg-ls', lossy: true },
  { uid: '1.2.840.10008.1.2.4.90', name: 'JPEG 2000 Lossless Only', encoding: 'jpeg-2000', lossy: false },
  { uid: '1.2.840.10008.1.2.4.91', name: 'JPEG 2000 (lossy or lossless)', encoding: 'jpeg-2000', lossy: true },
  { uid: '1.2.840.10008.1.2.4.201', name: 'HTJ2K Lossless', encoding: 'htj2k', lossy: false },
  { uid: '1.2.840.10008.1.2.4.202', name: 'HTJ2K Lossless RPCL', encoding: 'htj2k', lossy: false },
  { uid: '1.2.840.10008.1.2.4.203', name: 'HTJ2K (lossy or lossless)', encoding: 'htj2k', lossy: true },
];

const BY_UID = new Map(SYNTAXES.map((s) => [s.uid, s]));

export function transferSyntaxInfo(uid: string | undefined): TransferSyntaxInfo | undefined {
  return uid === undefined ? undefined : BY_UID.get(uid);
}

/** Names of syntaxes that exist in DICOM but that MedTune does not decode (for clearer errors). */
const KNOWN_UNSUPPORTED: Record<string, string> = {
  '1.2.840.10008.1.2.4.52': 'JPEG Extended (Process 3 & 5, retired)',
  '1.2.840.10008.1.2.4.53': 'JPEG Spectral Selection (retired)',
  '1.2.840.10008.1.2.4.55': 'JPEG Full Progression (retired)',
  '1.2.840.10008.1.2.4.100': 'MPEG2 video',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 video',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD video',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 video',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
};

export function describeTransferSyntax(uid: string): string {
  return BY_UID.get(uid)?.name ?? KNOWN_UNSUPPORTED[uid] ?? 'unknown transfer syntax';
}
