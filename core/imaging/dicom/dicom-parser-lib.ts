/**
 * dicom-parser ships a UMD bundle whose types declare named exports only; under Node ESM the functions sit on
 * `default`. This module hides that difference.
 */
import * as dicomParserModule from 'dicom-parser';

type DicomParserApi = typeof dicomParserModule;

const moduleWithDefault = dicomParserModule as DicomParserApi & { default?: DicomParserApi };

export const dicomParser: DicomParserApi =
  typeof moduleWithDefault.parseDicom === 'function' ? moduleWithDefault : (moduleWithDefault.default as DicomParserApi);

export type { DataSet, Element, ParseDicomOptions } from 'dicom-parser';
