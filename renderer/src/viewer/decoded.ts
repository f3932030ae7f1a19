import type { ViewerImageT } from '../../../core/api/contract';
import type { DecodedImage } from '../../../core/imaging/types';

/** The contract's image as the display pipeline's DecodedImage (the frames are those that were sent). */
export function asDecodedImage(image: ViewerImageT): DecodedImage {
  return { ...image, frames: image.frames, metadata: image.metadata } as DecodedImage;
}

export const isGrey = (image: Pick<ViewerImageT, 'photometric'>) =>
  image.photometric === 'MONOCHROME1' || image.photometric === 'MONOCHROME2';
