/**
 * Electron main process: one window on the built renderer, served from the privileged `ld-studio://app/`
 * scheme (not file://, where Chromium blocks module scripts, workers and wasm), with a strict CSP, no
 * navigation, no popups, no permissions, and the IPC handler table registered on ipcMain.
 *
 *   electron . [--project <dir>]
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, type MenuItemConstructorOptions, type WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventChannelPrefix, type IpcEnvelope } from '../preload/api';
import { parseLaunchArgs } from './args';
import { createHandlerTable, invokeChannel, toErrorPayload, type EventSink } from './ipc/registry';
import { CONTENT_SECURITY_POLICY, contentTypeFor, resolveStaticFile, SECURITY_HEADERS } from './static';

const SCHEME = 'ld-studio';
const APP_ORIGIN = `${SCHEME}://app`;
const isDev = !app.isPackaged;
/** Set by `electron-vite dev` (a Vite dev server for the renderer); unused in builds. */
const devServerUrl = isDev ? process.env.ELECTRON_RENDERER_URL : undefined;
const rendererOrigin = devServerUrl ? new URL(devServerUrl).origin : APP_ORIGIN;
const rendererDir = join(__dirname, '../renderer');
const preloadPath = join(__dirname, '../preload/index.js');

const launch = parseLaunchArgs(process.argv.slice(1));
for (const e of launch.errors) console.error(`ld-studio: ${e}`);
/** `--project <dir>`: kept for the project store (a later issue opens it at start). */
export const initialProject = launch.project;

// Must happen before 'ready'.
protocol.registerSchemesAsPrivileged([
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.whenReady().then(start, (err: unknown) => {
    console.error(err);
    app.exit(1);
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

async function start(): Promise<void> {
  serveRendererProtocol();
  hardenSession();
  registerIpc();
  Menu.setApplicationMenu(buildMenu());
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

/** `ld-studio://app/<path>` → a file of the built renderer; anything else is refused. */
function serveRendererProtocol(): void {
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app') return textResponse(404, 'Not found');
    if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'Method not allowed');
    const found = await resolveStaticFile(rendererDir, url.pathname);
    if (!found.ok) return textResponse(found.status, found.reason);
    const body = request.method === 'HEAD' ? null : await readFile(found.file);
    return new Response(body, {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'Content-Type': contentTypeFor(found.file), 'Cache-Control': 'no-cache' },
    });
  });
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}

function hardenSession(): void {
  const ses = session.defaultSession;
  // The CSP header on every response, whatever served it (the protocol handler sets it too; the dev
  // server does not).
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders };
    for (const key of Object.keys(headers)) if (key.toLowerCase() === 'content-security-policy') delete headers[key];
    headers['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
    callback({ responseHeaders: headers });
  });
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
}

// Every web contents: no navigation away from the app, no new windows, no <webview>.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!sameOrigin(url, rendererOrigin)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!sameOrigin(url, rendererOrigin)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

function sameOrigin(url: string, origin: string): boolean {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === origin;
  } catch {
    return false;
  }
}

/** Each channel of the handler table on ipcMain; errors come back as `{ error }`, never as a throw. */
function registerIpc(): void {
  const emit: EventSink = (event, payload) => {
    for (const win of BrowserWindow.getAllWindows()) win.webContents.send(eventChannelPrefix + event, payload);
  };
  const table = createHandlerTable({ emit });
  for (const channel of table.keys()) {
    ipcMain.handle(channel, async (event, payload: unknown): Promise<IpcEnvelope<unknown>> => {
      if (!trustedSender(event.sender, event.senderFrame?.url)) {
        return { error: { code: 'bad_request', message: 'IPC from an untrusted frame refused' } };
      }
      try {
        return { result: (await invokeChannel(table, channel, payload)) ?? null };
      } catch (err) {
        const error = toErrorPayload(err);
        if (error.code === 'internal') console.error(`[ipc] ${channel} failed:`, err);
        return { error };
      }
    });
  }
}

function trustedSender(sender: WebContents, frameUrl: string | undefined): boolean {
  return !sender.isDestroyed() && frameUrl !== undefined && sameOrigin(frameUrl, rendererOrigin);
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 800,
    minHeight: 560,
    title: 'LD Studio',
    show: false,
    backgroundColor: '#f6f7f9',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
  return win;
}

function buildMenu(): Menu {
  const template: MenuItemConstructorOptions[] = [];
  if (process.platform === 'darwin') template.push({ role: 'appMenu' });
  template.push(
    { label: 'File', submenu: [{ role: 'quit' }] },
  );
  // macOS routes copy/paste shortcuts through the Edit menu.
  if (process.platform === 'darwin') template.push({ role: 'editMenu' });
  template.push(
    {
      label: 'View',
      submenu: [
        ...(isDev ? ([{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }] as MenuItemConstructorOptions[]) : []),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'help', submenu: [{ label: 'About LD Studio', click: () => void showAbout() }] },
  );
  return Menu.buildFromTemplate(template);
}

async function showAbout(): Promise<void> {
  const win = BrowserWindow.getFocusedWindow();
  const detail = [
    `Version ${app.getVersion()}`,
    `Electron ${process.versions.electron} · Chromium ${process.versions.chrome} · Node ${process.versions.node}`,
    'Learn local discrimination from your own radiographs, then label landmarks one-shot and segment with shape priors.',
  ].join('\n');
  const options = { type: 'info' as const, title: 'About LD Studio', message: 'LD Studio', detail, buttons: ['OK'] };
  await (win ? dialog.showMessageBox(win, options) : dialog.showMessageBox(options));
}
