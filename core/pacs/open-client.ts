import type { PacsClient } from './client';
import type { PacsConnection } from './connection';
import { DicomWebClient } from './dicomweb';
import { PacsError } from './errors';

/** `dimse` retrieves with C-MOVE when the connection has our listen port, else C-GET; `c-get` and `c-move` choose. */
export type PacsProtocol = 'dicomweb' | 'dimse' | 'c-get' | 'c-move';
export const PACS_PROTOCOLS: readonly PacsProtocol[] = ['dicomweb', 'dimse', 'c-get', 'c-move'];

/** The client for a connection: the protocol asked for, else DICOMweb when configured, else DIMSE. */
export async function openClient(c: PacsConnection, protocol?: PacsProtocol, env: NodeJS.ProcessEnv = process.env): Promise<PacsClient> {
  const use = protocol ?? (c.dicomweb ? 'dicomweb' : 'dimse');
  if (use === 'dicomweb') {
    if (!c.dicomweb) throw new PacsError('bad-config', 'this connection has no DICOMweb URL');
    return new DicomWebClient(c.dicomweb, env);
  }
  if (!c.dimse) throw new PacsError('bad-config', 'this connection has no DIMSE peer');
  // Loaded on demand: the DIMSE library is only needed by connections that use it.
  const { DimseClient } = await import('./dimse');
  return new DimseClient(c.dimse, use === 'dimse' ? undefined : use);
}
