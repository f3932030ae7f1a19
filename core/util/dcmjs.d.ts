/** The parts of dcmjs (0.x, no bundled types) MedTune uses: writing SRs to send to a PACS (core/pacs), reading and writing DICOM-SEG (core/segmentation). */
declare module 'dcmjs' {
  type Dataset = Record<string, unknown>;
  interface DicomDict {
    dict: Dataset;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  export const data: {
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: Dataset; dict: Dataset } };
    DicomDict: new (meta: Dataset) => DicomDict;
    DicomMetaDictionary: {
      naturalizeDataset(dict: Dataset): Dataset;
      denaturalizeDataset(dataset: Dataset): Dataset;
      uid(): string;
    };
  };
  const dcmjs: { data: typeof data };
  export default dcmjs;
}
