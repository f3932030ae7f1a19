/// <reference types="vite/client" />
import type { MedtuneApi } from '../../core/api/contract';

declare global {
  interface Window {
    /** The contract, installed by the Electron preload or by the WebSocket bridge client. */
    medtune: MedtuneApi;
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

export {};
