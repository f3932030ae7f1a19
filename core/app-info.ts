import pkg from '../package.json' with { type: 'json' };

/** The application version from package.json, recorded in adapter manifests and shown in the UI. */
export const APP_VERSION: string = pkg.version;
export const APP_NAME = 'MedTune';
