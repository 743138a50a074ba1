/**
 * The Cornerstone emscripten codecs (JPEG-LS, JPEG 2000, 8-bit JPEG), loaded once per process.
 * The wasm binary is read from the package and handed to the factory, so loading does not depend
 * on where a bundler puts the JavaScript.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { DecodeFailure, describeThrown } from '../../errors';

export type WasmCodecName = 'jpeg-ls' | 'jpeg-2000' | 'jpeg-baseline';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getInterleaveMode?(): number;
  delete(): void;
}

type WasmModule = Record<string, new () => WasmDecoder>;
type Factory = (moduleArg: Record<string, unknown>) => Promise<WasmModule>;

const PACKAGES: Record<WasmCodecName, { pkg: string; decoderClass: string; label: string }> = {
  'jpeg-ls': { pkg: '@cornerstonejs/codec-charls', decoderClass: 'JpegLSDecoder', label: 'JPEG-LS (CharLS)' },
  'jpeg-2000': { pkg: '@cornerstonejs/codec-openjpeg', decoderClass: 'J2KDecoder', label: 'JPEG 2000 (OpenJPEG)' },
  'jpeg-baseline': { pkg: '@cornerstonejs/codec-libjpeg-turbo-8bit', decoderClass: 'JPEGDecoder', label: 'JPEG (libjpeg-turbo)' },
};

const requireHere = createRequire(__filename);
const loaded = new Map<WasmCodecName, Promise<WasmModule>>();

/**
 * What the codec says while it decodes. OpenJPEG reports damage it gets past ("[WARNING] Unknown
 * marker", "[ERROR] Stream too short") on stdout and still hands back pixels; those lines become
 * the frame's warnings. Decoding is synchronous, so one sink at a time suffices.
 */
let messageSink: string[] | undefined;
const collect = (line: unknown) => {
  const text = String(line).trim();
  if (messageSink && /\[(WARNING|ERROR)\]/.test(text) && !messageSink.includes(text)) messageSink.push(text);
};

async function instantiate(name: WasmCodecName): Promise<WasmModule> {
  const { pkg } = PACKAGES[name];
  const factory = requireHere(`${pkg}/decodewasmjs`) as Factory;
  const wasmBinary = await readFile(requireHere.resolve(`${pkg}/decodewasm`));
  // print/printErr keep codec chatter off the app's console; warnings and errors are kept (see collect)
  return factory({ wasmBinary, print: collect, printErr: collect });
}

function load(name: WasmCodecName): Promise<WasmModule> {
  let module = loaded.get(name);
  if (!module) {
    module = instantiate(name);
    loaded.set(name, module);
    module.catch(() => loaded.delete(name));
  }
  return module;
}

export interface CodecOutput {
  width: number;
  height: number;
  bitsPerSample: number;
  components: number;
  isSigned: boolean;
  /** CharLS only: 0 means the components come plane by plane. */
  interleaveMode?: number;
  /** Decoded bytes, copied out of wasm memory (16-bit samples in host order). */
  bytes: Uint8Array;
  /** The codec's warnings and errors about a stream it decoded anyway (damage it got past). */
  messages: string[];
}

/** Decodes one frame; any codec failure becomes a DecodeFailure (`corrupt`). */
export async function decodeWithWasmCodec(name: WasmCodecName, encoded: Uint8Array): Promise<CodecOutput> {
  const { decoderClass, label } = PACKAGES[name];
  let module: WasmModule;
  try {
    module = await load(name);
  } catch (err) {
    throw new DecodeFailure(`the ${label} decoder could not be loaded (${describeThrown(err)}); reinstall the app`, 'unsupported-transfer-syntax');
  }
  // A C-level exit() in an emscripten module sets process.exitCode; a bad file must not do that
  const exitCode = process.exitCode;
  let decoder: WasmDecoder | undefined;
  const messages: string[] = [];
  messageSink = messages;
  try {
    decoder = new module[decoderClass]();
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const info = decoder.getFrameInfo();
    const interleaveMode = decoder.getInterleaveMode?.();
    return {
      width: info.width,
      height: info.height,
      bitsPerSample: info.bitsPerSample,
      components: info.componentCount,
      isSigned: Boolean(info.isSigned),
      interleaveMode,
      bytes: decoder.getDecodedBuffer().slice(),
      messages,
    };
  } catch (err) {
    process.exitCode = exitCode;
    // an aborted emscripten runtime cannot be used again: load a fresh one next time
    if ((err instanceof Error && err.name === 'RuntimeError') || /abort/i.test(describeThrown(err))) loaded.delete(name);
    throw new DecodeFailure(`the ${label} decoder rejected the pixel data (${describeThrown(err)}); the file is damaged`, 'corrupt');
  } finally {
    messageSink = undefined;
    try {
      decoder?.delete();
    } catch {
      // deleting after an abort can throw too; nothing left to free
    }
  }
}
