import { describe, expect, it } from 'vitest';
import dcmjs from 'dcmjs';
import { asDicomDate, asDicomTime, buildStudyReport } from '../../../core/pacs/structured-report';

describe('the Basic Text SR sent back to a PACS', () => {
  it('writes ACR-NEMA style dates and times of the source study in DICOM form, and leaves unreadable ones empty', () => {
    expect(asDicomDate('1994.11.05')).toBe('19941105');
    expect(asDicomDate('20240301')).toBe('20240301');
    expect(asDicomDate('5 March')).toBe('');
    expect(asDicomTime('12:34:56')).toBe('123456');
    expect(asDicomTime('093000.25')).toBe('093000.25');
    expect(asDicomTime('noon')).toBe('');
    // Such a study (the shared set has them) used to stop the whole send: dcmjs refuses "1994.11.05" as a DA.
    const { file } = buildStudyReport({
      studyInstanceUid: '1.2.3',
      patientBirthDate: '1950.01.02',
      studyDate: '1994.11.05',
      studyTime: '12:34:56',
      taskName: 'grade',
      cases: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3.5', label: 'yes', reader: 'ann' }],
    });
    const read = dcmjs.data.DicomMessage.readFile(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer);
    const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(read.dict);
    expect(ds).toMatchObject({ StudyDate: '19941105', StudyTime: '123456', PatientBirthDate: '19500102' });
  });
});
