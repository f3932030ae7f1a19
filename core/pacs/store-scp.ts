import dimse from 'dcmjs-dimse';
import { PacsError } from './errors';
import { keepReceivedBytes } from './part10';

const { Server, Scp } = dimse;
const { CStoreResponse } = dimse.responses;
const { Status, PresentationContextResult, RejectResult, RejectSource, RejectReason } = dimse.constants;
const { CEchoResponse } = dimse.responses;
type DimseDataset = InstanceType<typeof dimse.Dataset>;
type Association = Parameters<InstanceType<typeof Scp>['associationRequested']>[0];

/** What a waiting C-MOVE gets back: the instance once it has arrived. */
export interface Arrival {
  /** The received data set, if the PACS has sent it. */
  take(): DimseDataset | undefined;
  /** Stops waiting (the instance is refused if it still comes). */
  release(): void;
}


/**
 * MedTune's own storage SCP for C-MOVE: a PACS moves instances to it on a second association. It
 * accepts only associations from the peer's AE title to ours, and only instances a retrieve is waiting
 * for (by SOP Instance UID); anything else is refused, never stored.
 */
export class StoreScp {
  private readonly waiting = new Map<string, { dataset?: DimseDataset }>();

  private constructor(private readonly server: InstanceType<typeof Server>) {}

  /** Listens on `port` for `ourAet`, accepting only associations called by `peerAet`. */
  static start(opts: { port: number; ourAet: string; peerAet: string }): Promise<StoreScp> {
    let scp: StoreScp | undefined;
    // dcmjs-dimse makes one instance of this class per incoming association.
    class MoveDestination extends Scp {
      override associationRequested(association: Association): void {
        if (association.getCalledAeTitle().trim() !== opts.ourAet || association.getCallingAeTitle().trim() !== opts.peerAet) {
          this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, association.getCalledAeTitle().trim() !== opts.ourAet ? RejectReason.CalledAeNotRecognized : RejectReason.CallingAeNotRecognized);
          return;
        }
        for (const c of association.getPresentationContexts()) {
          const context = association.getPresentationContext(c.id);
          const offered = context.getTransferSyntaxUids();
          // Any SOP class (retired, RT, SEG…: the importer decides what becomes a case), in the first syntax
          // offered: the PACS proposes the stored one first, so nothing is transcoded.
          if (offered.length > 0) context.setResult(PresentationContextResult.Accept, offered[0]);
          else context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
        }
        this.sendAssociationAccept();
      }

      override createDatasetFromStoreWritableStream(...args: Parameters<typeof keepReceivedBytes>): void {
        keepReceivedBytes(...args);
      }

      override cStoreRequest(request: Parameters<InstanceType<typeof Scp>['cStoreRequest']>[0], callback: (r: InstanceType<typeof CStoreResponse>) => void): void {
        const response = CStoreResponse.fromRequest(request);
        try {
          const uid = request.getAffectedSopInstanceUid();
          const slot = scp?.waiting.get(uid);
          const dataset = request.getDataset();
          if (slot && dataset && !slot.dataset) {
            slot.dataset = dataset;
            response.setStatus(Status.Success);
          } else {
            // Not asked for (or already here): refuse rather than keep what no retrieve expects.
            response.setStatus(Status.ProcessingFailure);
          }
        } catch {
          response.setStatus(Status.ProcessingFailure);
        }
        callback(response);
      }

      override cEchoRequest(request: Parameters<InstanceType<typeof Scp>['cEchoRequest']>[0], callback: (r: InstanceType<typeof CEchoResponse>) => void): void {
        // A PACS may check its move destination with C-ECHO first.
        const response = CEchoResponse.fromRequest(request);
        response.setStatus(Status.Success);
        callback(response);
      }

      override associationReleaseRequested(): void {
        this.sendAssociationReleaseResponse();
      }
    }

    const server = new Server(MoveDestination);
    return new Promise((resolve, reject) => {
      const onError = (err: Error) =>
        reject(new PacsError('bad-config', `cannot receive C-MOVE on port ${opts.port} (${err.message}); choose another "our port" for this connection`));
      server.once('networkError', onError);
      server.once('listening', () => {
        server.off('networkError', onError);
        // A broken incoming association must not stop MedTune: dcmjs-dimse reports it here, nothing more to do.
        server.on('networkError', () => undefined);
        scp = new StoreScp(server);
        resolve(scp);
      });
      server.listen(opts.port);
    });
  }

  /** Waits for one instance; call before asking the PACS to move it. */
  expect(sopInstanceUid: string): Arrival {
    const slot: { dataset?: DimseDataset } = {};
    this.waiting.set(sopInstanceUid, slot);
    return {
      take: () => slot.dataset,
      release: () => {
        if (this.waiting.get(sopInstanceUid) === slot) this.waiting.delete(sopInstanceUid);
      },
    };
  }

  close(): void {
    this.waiting.clear();
    this.server.close();
  }
}
