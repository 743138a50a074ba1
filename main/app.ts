/**
 * Electron main process: one window on the built renderer, served from the privileged `ld-studio://app/`
 * scheme (not file://, where Chromium blocks module scripts, workers and wasm), with a strict CSP, no
 * navigation, no popups, no permissions, and the IPC handler table registered on ipcMain. The binary
 * routes (common/api.ts `BinaryRoutes`: an image's pixels, its mask) are served by the table at
 * `ld-studio://app/api/images/<id>/<route>` (same paths as browser mode). The File menu
 * sends `app:command` events that the renderer carries out.
 *
 *   electron . [--project <dir>]
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, type MenuItemConstructorOptions, type OpenDialogOptions, type WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventChannelPrefix, matchBinaryRoute, type BinaryRouteMatch, type EventName, type IpcEnvelope, type IpcEvents, type RequestOf } from '../common/api';
import type { AppCommandId } from '../common/appCommands';
import { checkDevServerUrl, parseLaunchArgs } from './args';
import { SUPPORTED_EXTENSIONS } from './io/sniffFormat';
import { createHandlerTable, invokeChannel, toErrorPayload, type Dialogs, type EventSink, type HandlerTable } from './ipc/registry';
import { CONTENT_SECURITY_POLICY, contentTypeFor, resolveStaticFile, SECURITY_HEADERS } from './static';

const SCHEME = 'ld-studio';
const APP_ORIGIN = `${SCHEME}://app`;
const isDev = !app.isPackaged;
/** Set by `electron-vite dev` (a Vite dev server for the renderer); unused in builds; loopback only (main/args.ts). */
const devServer = isDev ? checkDevServerUrl(process.env.ELECTRON_RENDERER_URL) : {};
if (devServer.refused) console.error(`ld-studio: ${devServer.refused}`);
const devServerUrl = devServer.url;
const rendererOrigin = devServerUrl ? new URL(devServerUrl).origin : APP_ORIGIN;
const rendererDir = join(__dirname, '../renderer');
const preloadPath = join(__dirname, '../preload/index.js');

const launch = parseLaunchArgs(process.argv.slice(1));
for (const e of launch.errors) console.error(`ld-studio: ${e}`);
/** `--project <dir>`: opened at start. */
export const initialProject = launch.project;

/** The IPC handler table (and its session: the open project, jobs, training); created when the app is ready. */
let table: HandlerTable | undefined;

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

// Before quitting: stop jobs and training (it writes a checkpoint) and save the project.
let disposed = false;
app.on('before-quit', (event) => {
  if (disposed || !table) return;
  event.preventDefault();
  disposed = true;
  table.dispose().finally(() => app.quit());
});
app.on('will-quit', () => table?.session.flushSync());

async function start(): Promise<void> {
  serveRendererProtocol();
  hardenSession();
  registerIpc();
  Menu.setApplicationMenu(buildMenu());
  if (initialProject && table) {
    try {
      await invokeChannel(table, 'project:open', { dir: initialProject });
      Menu.setApplicationMenu(buildMenu());
    } catch (err) {
      console.error(`ld-studio: --project ${initialProject}: ${(err as Error).message}`);
    }
  } else if (launch.sample && table) {
    try {
      await invokeChannel(table, 'project:openSample', undefined);
      Menu.setApplicationMenu(buildMenu());
    } catch (err) {
      console.error(`ld-studio: the sample project could not be opened: ${(err as Error).message}`);
    }
  }
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
    const binary = matchBinaryRoute(url.pathname);
    if (binary) return binaryResponse(binary, request.method === 'HEAD');
    const found = await resolveStaticFile(rendererDir, url.pathname);
    if (!found.ok) return textResponse(found.status, found.reason);
    const body = request.method === 'HEAD' ? null : await readFile(found.file);
    return new Response(body, {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'Content-Type': contentTypeFor(found.file), 'Cache-Control': 'no-cache' },
    });
  });
}

/** Every binary route alike (pixels, mask): the handler table answers, errors as plain text. */
async function binaryResponse({ route, imageId }: BinaryRouteMatch, head: boolean): Promise<Response> {
  if (!table) return textResponse(503, 'not ready');
  if (imageId === null) return textResponse(400, 'malformed image id');
  const answer = await table.binary[route](imageId);
  if (!answer.ok) return textResponse(answer.status, answer.error.message);
  const { body } = answer;
  return new Response(head ? null : new Uint8Array(body.buffer, body.byteOffset, body.byteLength), {
    status: 200,
    headers: { ...SECURITY_HEADERS, ...answer.headers },
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

function send<E extends EventName>(event: E, payload: IpcEvents[E]): void {
  for (const win of BrowserWindow.getAllWindows()) if (!win.webContents.isDestroyed()) win.webContents.send(eventChannelPrefix + event, payload);
}

/** Native open / save dialogs for `dialog:open`, attached to the focused window. */
const dialogs: Dialogs = {
  async open({ kind, title, defaultPath }: RequestOf<'dialog:open'>) {
    const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
    if (kind === 'save') {
      const options = { title, defaultPath, properties: ['createDirectory', 'showOverwriteConfirmation'] as Array<'createDirectory' | 'showOverwriteConfirmation'> };
      const r = await (win ? dialog.showSaveDialog(win, options) : dialog.showSaveDialog(options));
      return r.canceled || !r.filePath ? null : [r.filePath];
    }
    const options: OpenDialogOptions =
      kind === 'folder'
        ? { title, defaultPath, properties: ['openDirectory', 'createDirectory'] }
        : {
            title,
            defaultPath,
            properties: ['openFile', 'multiSelections'],
            filters: [
              { name: 'Images (DICOM, PNG, JPEG, TIFF)', extensions: SUPPORTED_EXTENSIONS.map((e) => e.slice(1)) },
              { name: 'All files (DICOM often has no extension)', extensions: ['*'] },
            ],
          };
    const r = await (win ? dialog.showOpenDialog(win, options) : dialog.showOpenDialog(options));
    return r.canceled || r.filePaths.length === 0 ? null : r.filePaths;
  },
};

/** Channels after which the File menu's Open Recent list may have changed. */
const PROJECT_CHANNELS = new Set(['project:create', 'project:open', 'project:openSample', 'project:close']);

/** Each channel of the handler table on ipcMain; errors come back as `{ error }`, never as a throw. */
function registerIpc(): void {
  const emit: EventSink = (event, payload) => send(event, payload);
  table = createHandlerTable({ emit, userDataDir: app.getPath('userData'), dialogs });
  const handlers = table;
  for (const channel of handlers.keys()) {
    ipcMain.handle(channel, async (event, payload: unknown): Promise<IpcEnvelope<unknown>> => {
      if (!trustedSender(event.sender, event.senderFrame?.url)) {
        return { error: { code: 'bad_request', message: 'IPC from an untrusted frame refused' } };
      }
      try {
        const result = (await invokeChannel(handlers, channel, payload)) ?? null;
        if (PROJECT_CHANNELS.has(channel)) Menu.setApplicationMenu(buildMenu());
        return { result };
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
  const command = (name: AppCommandId, extra: { dir?: string } = {}) => () => send('app:command', { command: name, ...extra });
  const recent = table?.session.recent.list() ?? [];
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? recent.map((p) => ({ label: `${p.name} — ${p.dir}`, enabled: !p.missing, click: command('project.openRecent', { dir: p.dir }) }))
    : [{ label: 'No recent projects', enabled: false }];
  template.push({
    label: 'File',
    submenu: [
      { label: 'New Project…', accelerator: 'CmdOrCtrl+N', click: command('project.new') },
      { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: command('project.open') },
      { label: 'Open Recent', submenu: recentItems },
      { label: 'Open Sample Project', click: command('project.openSample') },
      { type: 'separator' },
      { label: 'Import Images…', accelerator: 'CmdOrCtrl+I', click: command('images.import') },
      { label: 'Export Landmarks…', accelerator: 'CmdOrCtrl+E', click: command('export.landmarks') },
      { type: 'separator' },
      process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
    ],
  });
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
