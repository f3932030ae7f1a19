import type { PaintTool } from '../stores/masks';

/**
 * The painting keys of a segmentation task, in one place for the mask layer (which handles them before
 * the reading screen's shortcuts), the paint toolbar's tooltips and the help overlay. Tools are on
 * Shift+letter because the plain letters are the viewer's and labelling's keys.
 */
export const PAINT_TOOL_KEYS: Record<PaintTool, string> = { view: 'V', brush: 'B', eraser: 'E', fill: 'F', lasso: 'L' };
export const FILL_HOLES_KEY = 'H';

/** "B" → "Shift+B", as the help overlay and tooltips show it. */
export const shiftLabel = (key: string) => `Shift+${key}`;

/** The tool a key press selects (e.key of a Shift+letter is the capital), or null. */
export function toolForKey(key: string): PaintTool | null {
  const hit = (Object.entries(PAINT_TOOL_KEYS) as [PaintTool, string][]).find(([, k]) => k === key);
  return hit ? hit[0] : null;
}

export const PAINT_HELP_ROWS: { keys: string; label: string }[] = [
  { keys: shiftLabel(PAINT_TOOL_KEYS.brush), label: 'Brush: paint the class' },
  { keys: shiftLabel(PAINT_TOOL_KEYS.eraser), label: 'Eraser' },
  { keys: shiftLabel(PAINT_TOOL_KEYS.fill), label: 'Flood fill within the tolerance' },
  { keys: shiftLabel(PAINT_TOOL_KEYS.lasso), label: 'Lasso / polygon' },
  { keys: shiftLabel(PAINT_TOOL_KEYS.view), label: 'View: no painting (left drag is the viewer tool)' },
  { keys: shiftLabel(FILL_HOLES_KEY), label: 'Fill the holes of the class painted' },
  { keys: '[ / ]', label: 'Brush and eraser smaller / larger (cine speed elsewhere)' },
  { keys: 'Ctrl+Z', label: 'Undo the last stroke' },
  { keys: 'Ctrl+Y / Ctrl+Shift+Z', label: 'Redo the stroke' },
  { keys: 'Enter / double click', label: 'Close the polygon (lasso)' },
  { keys: 'Esc', label: 'Drop the polygon being drawn' },
  { keys: 'Class hotkey', label: 'The class painted (label mode)' },
];
