/**
 * Sandboxed preload: exposes the IPC contract (common/api.ts) as `window.ldStudio`. Only `invoke` and
 * `on` cross the bridge, never ipcRenderer itself, and listeners never see the Electron event object.
 * Channel names are checked for shape here; the main process validates channel and payload.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { eventChannelPrefix, type LdStudioBridge } from '../common/api';

const NAME = /^[a-z][a-zA-Z0-9]*:[a-zA-Z0-9.-]+$/;

const bridge: LdStudioBridge = {
  invoke(channel, ...args) {
    if (typeof channel !== 'string' || !NAME.test(channel)) {
      return Promise.resolve({ error: { code: 'unknown_channel', message: `invalid channel name ${JSON.stringify(String(channel)).slice(0, 100)}` } });
    }
    return ipcRenderer.invoke(channel, args[0]);
  },
  on(event, callback) {
    if (typeof event !== 'string' || !NAME.test(event) || typeof callback !== 'function') {
      throw new TypeError('ldStudio.on(event, callback): bad arguments');
    }
    const listener = (_e: IpcRendererEvent, payload: unknown) => callback(payload as Parameters<typeof callback>[0]);
    const name = eventChannelPrefix + event;
    ipcRenderer.on(name, listener);
    return () => {
      ipcRenderer.removeListener(name, listener);
    };
  },
};

contextBridge.exposeInMainWorld('ldStudio', bridge);
