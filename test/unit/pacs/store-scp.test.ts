import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimseClient } from '../../../core/pacs/dimse';
import { PacsError } from '../../../core/pacs/errors';
import { part10FromReceived } from '../../../core/pacs/part10';
import { StoreScp } from '../../../core/pacs/store-scp';
import { freePort, sharedDicomFiles } from '../../helpers/orthanc';
import { readDicomHeader } from '../../../core/imaging';

/** Our C-MOVE destination, spoken to by a real DIMSE peer (dcmjs-dimse's C-STORE SCU) on loopback. */
describe('the C-MOVE storage SCP', () => {
  let scp: StoreScp;
  let port: number;
  const file = sharedDicomFiles().find((f) => f.includes('CT_small'))!;
  const bytes = fs.readFileSync(file);

  beforeAll(async () => {
    port = await freePort();
    scp = await StoreScp.start({ port, ourAet: 'MEDTUNE', peerAet: 'PACS' });
  });
  afterAll(() => scp?.close());

  const peer = (callingAet: string, calledAet = 'MEDTUNE') => new DimseClient({ aet: calledAet, host: '127.0.0.1', port, callingAet });

  it('keeps an instance a retrieve waits for, and refuses one nobody asked for', async () => {
    const uid = sopInstanceUid(bytes);
    await expect(peer('PACS').store([bytes])).rejects.toMatchObject({ code: 'rejected' });

    const arrival = scp.expect(uid);
    await peer('PACS').store([bytes]);
    const dataset = arrival.take();
    expect(dataset?.getElement('SOPInstanceUID')).toBe(uid);
    // Kept as received and made a Part 10 file without re-encoding: the importer's reader sees the same instance.
    const file = part10FromReceived(dataset!)!;
    expect(file.subarray(128, 132).toString()).toBe('DICM');
    const header = readDicomHeader(file, 'received.dcm');
    expect(header.metadata.sopInstanceUid).toBe(uid);
    expect(header).toMatchObject({ hasPixelData: true, rows: 128, columns: 128 });
    arrival.release();
    await expect(peer('PACS').store([bytes])).rejects.toMatchObject({ code: 'rejected' });
  });

  it('refuses associations from another AE title, or to another one', async () => {
    const arrival = scp.expect(sopInstanceUid(bytes));
    try {
      for (const client of [peer('INTRUDER'), peer('PACS', 'SOMEONE')]) {
        const err = await client.store([bytes]).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(PacsError);
        expect((err as PacsError).message).toMatch(/rejected the association/);
      }
      expect(arrival.take()).toBeUndefined();
    } finally {
      arrival.release();
    }
  });

  it('says clearly when its port is taken', async () => {
    await expect(StoreScp.start({ port, ourAet: 'MEDTUNE', peerAet: 'PACS' })).rejects.toThrow(new RegExp(`cannot receive C-MOVE on port ${port} \\(.*EADDRINUSE`));
  });
});

function sopInstanceUid(buf: Buffer): string {
  return readDicomHeader(buf, 'CT_small.dcm').metadata.sopInstanceUid!;
}
