import { describe, expect, it } from 'vitest';
import { PacsConnectionSchema } from '../../../core/pacs/connection';
import { buildMultipart, multipartBoundary, parseMultipart } from '../../../core/pacs/multipart';
import { matchingKeys, validateStudyQuery } from '../../../core/pacs/query';
import { protectSecret, registerSecretProtector, resolveSecret } from '../../../core/pacs/secrets';

// The parts of the PACS code that need no PACS: they run even where Orthanc is not installed.
describe('multipart/related', () => {
  it('round-trips binary parts, including bytes that look like line breaks and dashes', () => {
    const parts = [Buffer.from([0, 13, 10, 45, 45, 255]), Buffer.alloc(0), Buffer.from('DICM\r\n--not-the-boundary\r\n')];
    const body = buildMultipart(parts, 'b0undary');
    expect(parseMultipart(body, 'b0undary')).toEqual(parts);
  });

  it('reads the boundary, quoted or not, and names a truncated answer', () => {
    expect(multipartBoundary('multipart/related; type="application/dicom"; boundary="abc:1"')).toBe('abc:1');
    expect(multipartBoundary('Multipart/Related; boundary=xyz')).toBe('xyz');
    expect(() => multipartBoundary('application/dicom+json')).toThrow(/expected a multipart\/related answer/);
    const body = buildMultipart([Buffer.from('abcdef')], 'b');
    expect(() => parseMultipart(body.subarray(0, body.length - 12), 'b')).toThrow(/ends inside a part/);
  });
});

describe('study queries', () => {
  it('turn into DICOM matching keys', () => {
    expect(matchingKeys({ patientName: 'Doe', dateFrom: '20240101', dateTo: '20240131', studyDescription: 'chest  x ray', modality: 'CR' })).toEqual({
      PatientName: 'Doe*',
      StudyDate: '20240101-20240131',
      StudyDescription: '*chest*x*ray*',
      ModalitiesInStudy: 'CR',
    });
    expect(matchingKeys({ dateFrom: '20240101', dateTo: '20240101', patientName: 'D?e*' })).toEqual({ StudyDate: '20240101', PatientName: 'D?e*' });
    expect(() => validateStudyQuery({ dateFrom: '2024-01-01' })).toThrow(/YYYYMMDD/);
  });
});

describe('connections and secrets', () => {
  it('accept secret references only, never a password in clear', () => {
    const ok = { dicomweb: { url: 'https://pacs/dicom-web', auth: { kind: 'basic', user: 'u', password: { env: 'PW' } } } };
    expect(PacsConnectionSchema.safeParse(ok).success).toBe(true);
    const clear = { dicomweb: { url: 'https://pacs/dicom-web', auth: { kind: 'basic', user: 'u', password: 'hunter2' } } };
    expect(PacsConnectionSchema.safeParse(clear).success).toBe(false);
    expect(PacsConnectionSchema.safeParse({}).success).toBe(false);
    expect(PacsConnectionSchema.safeParse({ dimse: { aet: 'A'.repeat(17), host: 'h', port: 104, callingAet: 'ME' } }).success).toBe(false);
  });

  it('resolve through the environment or a registered protector', () => {
    expect(resolveSecret({ env: 'PW' }, { PW: 's3cret' })).toBe('s3cret');
    expect(() => resolveSecret({ env: 'PW' }, {})).toThrow(/PW .* is not set/);
    registerSecretProtector({ id: 'reverse', protect: (p) => [...p].reverse().join(''), unprotect: (c) => [...c].reverse().join('') });
    const ref = protectSecret('reverse', 'abc');
    expect(ref).toEqual({ protector: 'reverse', ciphertext: 'cba' });
    expect(resolveSecret(ref)).toBe('abc');
    expect(() => resolveSecret({ protector: 'safe-storage', ciphertext: 'x' })).toThrow(/does not have/);
  });
});
