import type { ViewState } from '../stores/viewer';

/**
 * Image pixels → device pixels of a canvas of `canvasW × canvasH` device pixels showing an image of
 * `imageW × imageH` with the view's zoom (1 = fit), pan (CSS pixels), quarter turns and flips: the mapping
 * ViewerCanvas draws the image with, so layers drawn on top (masks) line up with it pixel for pixel.
 */
export function imageToDeviceMatrix(canvasW: number, canvasH: number, imageW: number, imageH: number, view: ViewState, dpr: number): DOMMatrix {
  const quarter = view.rotation % 2 === 1;
  const fitScale = Math.min(canvasW / (quarter ? imageH : imageW), canvasH / (quarter ? imageW : imageH));
  const scale = fitScale * view.zoom;
  return new DOMMatrix()
    .translate(canvasW / 2 + view.panX * dpr, canvasH / 2 + view.panY * dpr)
    .rotate((view.rotation * 90))
    .scale(view.flipH ? -scale : scale, view.flipV ? -scale : scale)
    .translate(-imageW / 2, -imageH / 2);
}
