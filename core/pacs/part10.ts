import type { Writable } from 'node:stream';
import dcmjs from 'dcmjs';
import dimse from 'dcmjs-dimse';
import { IMPLEMENTATION_CLASS_UID } from './structured-report';

type DimseDataset = InstanceType<typeof dimse.Dataset>;
type AcceptedContext = { getAcceptedTransferSyntaxUid(): string | undefined };

/** The bytes of received data sets, as they came off the wire (keyed by the parsed data set). */
const received = new WeakMap<DimseDataset, { bytes: Buffer; transferSyntaxUid: string }>();

/**
 * What dcmjs-dimse's `createDatasetFromStoreWritableStream` does (parse the received data set), keeping
 * the received bytes beside it: re-encoding them would change the instance, and dcmjs refuses to write
 * values some real files hold (an ACR-NEMA date such as 1993.04.30 in a DA element).
 */
export function keepReceivedBytes(stream: Writable, context: AcceptedContext, callback: (ds: DimseDataset) => void): void {
  // The memory stream dcmjs-dimse's createStoreWritableStream made (not overridden here).
  const bytes = (stream as Writable & { toBuffer(): Buffer }).toBuffer();
  // Always set on a context a C-STORE arrives on; Implicit VR Little Endian is DICOM's default.
  const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? '1.2.840.10008.1.2';
  const ds = new dimse.Dataset(bytes, transferSyntaxUid);
  received.set(ds, { bytes, transferSyntaxUid });
  callback(ds);
}

/** A received data set as a DICOM Part 10 file: a file meta header written here, then the bytes as received. */
export function part10FromReceived(ds: DimseDataset): Buffer | undefined {
  const raw = received.get(ds);
  if (!raw) return undefined;
  const meta = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: String(ds.getElement('SOPClassUID') ?? ''),
    MediaStorageSOPInstanceUID: String(ds.getElement('SOPInstanceUID') ?? ''),
    TransferSyntaxUID: raw.transferSyntaxUid,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'MEDTUNE',
  });
  const header = new dcmjs.data.DicomDict(meta);
  header.dict = {};
  return Buffer.concat([Buffer.from(header.write()), raw.bytes]);
}
