import type { Handlers } from '../api/dispatch';
import { ApiFailure } from '../api/errors';
import { ImagingError } from '../imaging/types';
import { readDicomTags } from '../imaging/dicom/tags';
import type { AppSession } from './session';

type ViewerHandlers = Pick<Handlers, 'cases.tags' | 'measurements.list' | 'measurements.add' | 'measurements.delete'>;

/** The reading tools' channels: a case's DICOM elements, and the reader's measurements per case. */
export function createViewerHandlers(session: AppSession): ViewerHandlers {
  const ws = () => session.requireWorkspace();
  return {
    'cases.tags': async (req) => {
      const detail = ws().cases.get(req.id);
      if (detail.kind !== 'dicom') {
        return { caseId: req.id, dicom: false, elements: [], warnings: [], note: `${detail.displayName} is a ${detail.format} photo: it has no DICOM elements.` };
      }
      try {
        const tree = await readDicomTags(detail.blobPath, detail.sourcePath);
        return { caseId: req.id, dicom: true, ...tree };
      } catch (err) {
        if (err instanceof ImagingError) throw new ApiFailure('decode-failed', `Cannot read the DICOM elements: ${err.message}`);
        throw err;
      }
    },
    'measurements.list': (req) => {
      ws().cases.get(req.caseId);
      return ws().measurements.list(req.caseId);
    },
    'measurements.add': (req) => ws().measurements.add({ ...req, author: session.author }),
    'measurements.delete': (req) => ({ deleted: ws().measurements.delete(req.id) }),
  };
}
