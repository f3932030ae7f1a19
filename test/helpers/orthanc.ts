import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DICOM_DIR } from './paths';

/** The Debian package's binary and DICOMweb plugin (`apt-get install orthanc orthanc-dicomweb`). */
export const ORTHANC_BIN = process.env.MEDTUNE_ORTHANC ?? '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = process.env.MEDTUNE_ORTHANC_DICOMWEB ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** Why the PACS tests cannot run here, or undefined when Orthanc and its DICOMweb plugin are installed. */
export function orthancMissing(): string | undefined {
  if (!fs.existsSync(ORTHANC_BIN)) return `Orthanc is not installed (${ORTHANC_BIN}); apt-get install orthanc orthanc-dicomweb`;
  if (!fs.existsSync(DICOMWEB_PLUGIN)) return `the Orthanc DICOMweb plugin is not installed (${DICOMWEB_PLUGIN}); apt-get install orthanc-dicomweb`;
  return undefined;
}

export const ORTHANC_USER = 'medtune';
export const ORTHANC_PASSWORD = 'orthanc-test-secret';
export const ORTHANC_AET = 'ORTHANC';
/** The AE title MedTune calls from in the tests; Orthanc knows it as a modality (C-GET, C-MOVE). */
export const MEDTUNE_AET = 'MEDTUNE';

export interface OrthancOptions {
  /** A port where MedTune listens for C-MOVE (registered in Orthanc's DicomModalities). */
  movePort?: number;
}

/** A private Orthanc on loopback ports with its own storage folder; `stop()` kills it and removes the folder. */
export class OrthancServer {
  private child?: ChildProcess;
  private log = '';

  private constructor(
    readonly dir: string,
    readonly httpPort: number,
    readonly dicomPort: number,
    readonly movePort: number,
  ) {}

  static async start(opts: OrthancOptions = {}): Promise<OrthancServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-orthanc-'));
    const server = new OrthancServer(dir, await freePort(), await freePort(), opts.movePort ?? (await freePort()));
    await server.launch();
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get dicomWebUrl(): string {
    return `${this.baseUrl}/dicom-web`;
  }

  get authHeader(): string {
    return `Basic ${Buffer.from(`${ORTHANC_USER}:${ORTHANC_PASSWORD}`).toString('base64')}`;
  }

  /** Starts (or restarts, keeping the storage) the Orthanc process and waits until its REST API answers. */
  async launch(): Promise<void> {
    const config = {
      Name: 'medtune-test',
      StorageDirectory: path.join(this.dir, 'storage'),
      IndexDirectory: path.join(this.dir, 'storage'),
      HttpPort: this.httpPort,
      DicomPort: this.dicomPort,
      DicomAet: ORTHANC_AET,
      DicomServerEnabled: true,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: true,
      RegisteredUsers: { [ORTHANC_USER]: ORTHANC_PASSWORD },
      Plugins: [DICOMWEB_PLUGIN],
      DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
      DicomModalities: { medtune: [MEDTUNE_AET, '127.0.0.1', this.movePort] },
      DicomCheckCalledAet: false,
      StorageCompression: false,
      SaveJobs: false,
    };
    const configFile = path.join(this.dir, 'orthanc.json');
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    this.log = '';
    const child = spawn(ORTHANC_BIN, [configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child = child;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`Orthanc exited with ${child.exitCode}:\n${this.log.slice(-3000)}`);
      try {
        const res = await fetch(`${this.baseUrl}/system`, { headers: { authorization: this.authHeader } });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Orthanc did not answer on ${this.baseUrl} within 30 s:\n${this.log.slice(-3000)}`);
  }

  /** Stops the process (SIGKILL: a PACS that goes away without warning), keeping the storage. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Uploads files through the REST API (POST /instances); returns the SOP Instance UIDs Orthanc accepted. */
  async upload(files: string[]): Promise<{ accepted: string[]; rejected: string[] }> {
    const accepted: string[] = [];
    const rejected: string[] = [];
    for (const file of files) {
      const res = await fetch(`${this.baseUrl}/instances`, {
        method: 'POST',
        headers: { authorization: this.authHeader, 'content-type': 'application/dicom' },
        body: fs.readFileSync(file),
      });
      if (!res.ok) {
        rejected.push(file);
        continue;
      }
      const body = (await res.json()) as { ID: string };
      const tags = await this.rest<{ SOPInstanceUID: string }>(`/instances/${body.ID}/simplified-tags`);
      accepted.push(tags.SOPInstanceUID);
    }
    return { accepted, rejected };
  }

  async post<T>(route: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${route}`, { method: 'POST', headers: { authorization: this.authHeader }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`POST ${route}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  async file(route: string): Promise<Buffer> {
    const res = await fetch(`${this.baseUrl}${route}`, { headers: { authorization: this.authHeader } });
    if (!res.ok) throw new Error(`GET ${route}: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async rest<T>(route: string): Promise<T> {
    const res = await fetch(`${this.baseUrl}${route}`, { headers: { authorization: this.authHeader } });
    if (!res.ok) throw new Error(`GET ${route}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }
}

/** A port the OS considers free right now on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The shared DICOM files named *.dcm (92 of the ~185 files); Orthanc refuses some (DICOMDIRs, palettes without images). */
export function sharedDicomFiles(): string[] {
  return execFileSync('find', [DICOM_DIR, '-name', '*.dcm', '-type', 'f']).toString().trim().split('\n').sort();
}
