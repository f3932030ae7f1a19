import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in test/helpers). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Data made by others, beside the checkout; never copied into the repo. MEDTUNE_SHARED overrides. */
export const SHARED_DIR = process.env.MEDTUNE_SHARED ?? path.resolve(REPO_ROOT, '..', 'shared');
export const DICOM_DIR = path.join(SHARED_DIR, 'data', 'dicom');
export const FUNDUS_DIR = path.join(SHARED_DIR, 'data', 'fundus');
export const MEDMNIST_DIR = path.join(SHARED_DIR, 'data', 'medmnist');
export const PARITY_DIR = path.join(SHARED_DIR, 'fixtures', 'parity');

/** Where tests write screenshots and other artefacts (git-ignored). */
export const TEST_OUTPUT_DIR = path.join(REPO_ROOT, 'test-output');
